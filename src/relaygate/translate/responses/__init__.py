"""The OpenResponses / OpenAI Responses wire format ↔ the canonical model call (pure)."""
