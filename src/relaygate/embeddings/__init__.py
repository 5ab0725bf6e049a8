"""Embeddings: `POST /v1/embeddings` in OpenAI's shape, through the model-call pipeline."""
