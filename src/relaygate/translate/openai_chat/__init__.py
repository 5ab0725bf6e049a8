"""OpenAI Chat Completions: wire types, request/response translation, stream chunks."""
