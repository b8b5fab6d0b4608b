"""Calls: the metadata log built from Twilio's voice webhooks, and staff look-ups of it."""
