"""Retention: how long each class of records is kept, legal holds, and the purge."""
