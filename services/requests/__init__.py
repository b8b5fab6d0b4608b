"""Service requests: the catalogue, filing (anonymous too), contacts, search, duplicates."""
