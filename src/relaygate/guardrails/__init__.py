"""Guardrails: PII, secrets, prompt injection and custom policies on a call's input, its
output (streams included) and the agent loop's tool arguments and results."""
