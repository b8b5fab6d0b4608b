"""Texts: the outbox, quiet hours, opt-outs (STOP, START, HELP), delivery status, replies."""
