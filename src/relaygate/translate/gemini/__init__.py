"""Gemini generateContent: request, response and stream chunks ↔ canonical (pure, no I/O)."""
