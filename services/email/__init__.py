"""Email: the outbox, the SMTP gateway and its console stand-in, bounces and complaints."""
