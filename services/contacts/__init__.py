"""Contacts: each interaction with a member of the public, who handled it, why they
called and how it ended."""
