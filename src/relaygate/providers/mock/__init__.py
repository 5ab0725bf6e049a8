"""The built-in offline provider: deterministic, rule-based, no key needed."""
