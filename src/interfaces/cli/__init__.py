"""The `archivist` command line."""
