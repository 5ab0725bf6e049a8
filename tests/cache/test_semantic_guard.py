"""The guard's vetoes, one rule each, and the paraphrases it must let through."""

from __future__ import annotations

import pytest

from relaygate.cache.semantic_guard import contradicts


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("convert 5 km to miles", "convert 50 km to miles"),  # number
        ("convert 5 km to miles", "convert 5 miles to km"),  # number bound to a unit
        ("convert 5 km to miles", "convert 5 kg to pounds"),  # units
        ("convert this JSON to YAML", "convert this YAML to JSON"),  # conversion target
        ("What is the capital of France?", "What is the capital of Germany?"),  # name
        ("How do I reverse a list in python", "How do I reverse a list in rust"),  # lexicon
        ('Translate "good morning" into Spanish.', 'Translate "good night" into Spanish.'),
        ("Which foods are safe for dogs?", "Which foods are not safe for dogs?"),  # negation
        ("How do I enable 2FA?", "How do I disable 2FA?"),  # opposites
        ("What's the forecast for today?", "What's the forecast for tomorrow?"),
    ],
)
def test_different_specifics_are_vetoed(cached: str, asked: str) -> None:
    assert contradicts(cached, asked)
    assert contradicts(asked, cached)


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("What is the capital of France?", "Tell me France's capital city"),
        ("convert 5 km to miles", "how many miles is 5 km"),
        ("Summarize this in three bullet points.", "Give me a 3-bullet summary of this."),
        ("I'm in Rome for four days. What should I see?", "What to see in 4 days in Rome?"),
        ("what is a REST API", "explain REST APIs"),
        ("What is 15% of 200?", "Calculate 15 percent of 200."),
    ],
)
def test_paraphrases_pass(cached: str, asked: str) -> None:
    assert not contradicts(cached, asked)
