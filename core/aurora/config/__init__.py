"""Configuration: layered TOML files, validation of values against declared options, ``aurora config show``."""
