"""Operator services (accounts, ...) used by the CLI and the admin console alike."""
