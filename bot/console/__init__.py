"""The staff console: staff accounts and access (issue #6)."""
