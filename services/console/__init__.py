"""The staff console: server-rendered pages over the staff API, each behind its permission."""
