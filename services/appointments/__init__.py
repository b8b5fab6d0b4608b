"""Appointments for service requests, confirmed and reminded by text."""
