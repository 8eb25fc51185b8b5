"""Configuration as data: PBM trading partners (TOML), the PSAO itself (TOML) and the member
pharmacy roster (CSV). Every loader validates everything it reads and raises one
:class:`gateway.errors.ConfigError` that lists every problem with file, line, key and fix."""
