"""The disclosure log and the public-records export of service requests."""
