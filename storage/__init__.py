"""What persists: database engine and sessions, models, migrations, field encryption, blobs.

This package imports neither ``services`` nor ``telephony``.
"""
