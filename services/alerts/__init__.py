"""News alerts: double opt-in sign-up, one-click unsubscribe, resumable sending."""
