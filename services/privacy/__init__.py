"""Access-and-correction requests: deadlines, finding what is held, exports, letters."""
