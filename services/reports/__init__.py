"""Aggregate statistics: calls by hour, day and extension; requests by service and status."""
