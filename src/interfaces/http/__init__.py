"""The HTTP interface (Litestar). `create_app()` is the only way to get an app."""
