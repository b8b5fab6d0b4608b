"""Updates to callers on their requests, by text and email, with their consent."""
