"""Prompt templates: a store of immutable versions, labels and A/B splits, rendering in
Jinja's sandbox, and the pipeline step that fills a call from its template (docs/prompts.md)."""
