"""Pydantic schemas of the HTTP API, one module per controller (`common` holds what they
share): `XCreate` / `XUpdate` / `XPut` in, `X` out. A schema two controllers use lives with
its main owner."""
