"""Staff accounts, passwords and API tokens."""
