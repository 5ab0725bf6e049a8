"""The local moderation classifier behind `POST /v1/moderations`: the guardrails' own
detectors (injection score, PII, secrets), reported in OpenAI's moderation shape.

OpenAI's content categories (hate, violence…) are listed for clients that read them, and
are never flagged here: the gateway has no model for them offline; relay to an OpenAI
moderation model for those (docs/guardrails.md)."""

from __future__ import annotations

from typing import Any

from relaygate.guardrails.injection import InjectionDetector, injection_score
from relaygate.guardrails.pii import PiiDetector
from relaygate.guardrails.secrets import SecretsDetector

OPENAI_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)
OWN_CATEGORIES = ("relaygate/prompt_injection", "relaygate/pii", "relaygate/secrets")


class Moderator:
    def __init__(self) -> None:
        self._injection = InjectionDetector()
        self._pii = PiiDetector()
        self._secrets = SecretsDetector()

    def classify(self, text: str | None) -> dict[str, Any]:
        """One result object of a moderation response (None: an input it cannot read)."""
        scores = dict.fromkeys((*OPENAI_CATEGORIES, *OWN_CATEGORIES), 0.0)
        if text:
            scores["relaygate/prompt_injection"] = round(injection_score(text), 4)
            scores["relaygate/pii"] = 1.0 if self._pii.find(text) else 0.0
            scores["relaygate/secrets"] = 1.0 if self._secrets.find(text) else 0.0
        flags = {
            name: score >= (self._injection.threshold if name.endswith("injection") else 0.5)
            for name, score in scores.items()
        }
        kinds = ["text"] if text else []
        return {
            "flagged": any(flags.values()),
            "categories": flags,
            "category_scores": scores,
            "category_applied_input_types": {name: list(kinds) for name in scores},
        }
