"""Entry points: the Litestar HTTP API and the `archivist` command line."""
