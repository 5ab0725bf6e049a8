"""The `secrets` guard: cloud and service keys, private key blocks, JWTs, passwords in
URLs, and high-entropy values assigned to secret-sounding names.

detect-secrets' plugins are the reference: their patterns are used as they are where they
find a key by its shape (AWS key ids, GitLab, Slack, Stripe); the rest are written here
for what its plugins lack or match too loosely (new OpenAI and Anthropic keys, GCP
service-account JSON, whole private key blocks, three-part JWTs, the password alone in a
URL, entropy in assignments)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.slack import SlackDetector

from relaygate.guardrails.findings import Finding, spans_of, without_overlaps
from relaygate.guardrails.settings import SECRET_KINDS

_ASSIGNED_NAME = (r"(?i)(?<![\w-])([\w.-]*?(?:secret|token|passw(?:or)?d|passwd|pwd|api[_-]?key"
                  r"|apikey|access[_-]?key|auth[_-]?key|credentials?|private[_-]?key"
                  r"|(?:account|service|client|signing|encryption|master)[_-]?key)[\w.-]*)"
                  r"(?:[\"']?\s*(?:=|:=|:|=>)\s*|\s+(?:is|was|set to)\s+|>)([\"']?)"
                  r"([^\s\"'`,;(){}\[\]<>]{8,200})\2")
# words of a name that say its value is not the secret itself (`password_hash`, `token_count`),
# matched as whole words: `AccountKey` holds "count", `admin_password` "min", `SHARED_SECRET` "sha"
_NOT_SECRET_WORDS = frozenset({
    "hash", "hashed", "digest", "checksum", "sha", "md5", "id", "url", "uri", "name", "field",
    "type", "length", "len", "file", "filename", "path", "prompt", "count", "max", "min",
    "policy",
})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORD = re.compile(r"[a-z]+")
_PLACEHOLDER = re.compile(r"(?i)^(?:x+|\*+|\.+|<[^>]*>|\$\{?\w+\}?|%\w+%|\{\{.*\}\}|null|none"
                          r"|true|false|undefined|changeme|password\d*|secret|redacted|example"
                          r"|your[_-]?[\w-]+|[\w-]+[_-]here|os\.environ.*|env\..*|process\.env.*"
                          r"|self\..*)$")
# code, `request.headers`, `settings.API_KEY`: words without digits (`SG.Ab1Cd2.Xy9` is a key)
_ATTRIBUTE = re.compile(r"^[A-Za-z_]+(?:\.[A-Za-z_]+)+$")

_PATTERNS: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "AWS_ACCESS_KEY": [(re.compile(r"(?<![A-Z0-9])" + AWSKeyDetector.denylist[0].pattern
                                   + r"(?![A-Z0-9])"), 0)],
    "AWS_SECRET_KEY": [(re.compile(
        r"(?i)aws[\w\s.\"'-]{0,30}?(?:secret|key)[\w.\"'-]{0,30}?(?:\s*[=:]|\s)\s*[\"']?"
        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"), 1)],
    "GCP_SERVICE_ACCOUNT": [
        (re.compile(r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\""), 1),
        (re.compile(r"\"type\"\s*:\s*\"service_account\""), 0),
    ],
    "GITHUB_TOKEN": [(re.compile(r"(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}"
                                 r"(?![A-Za-z0-9_])"), 0),
                     (re.compile(r"github_pat_[A-Za-z0-9_]{60,255}"), 0)],
    "GITLAB_TOKEN": [(pattern, 0) for pattern in GitLabTokenDetector.denylist],
    "SLACK_TOKEN": [(pattern, 0) for pattern in SlackDetector.denylist],
    "STRIPE_KEY": [(re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{24,99}"), 0)],
    "ANTHROPIC_KEY": [(re.compile(r"sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{40,}"), 0)],
    "OPENAI_KEY": [(re.compile(r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?"
                               r"[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"), 0),
                   (re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"),
                    0),
                   (re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9]{48}(?![A-Za-z0-9_-])"), 0)],
    "PRIVATE_KEY": [(re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,8000}?-----END "
        r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)"), 0),
        (re.compile(r"PuTTY-User-Key-File-\d"), 0)],
    "JWT": [(re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."
                        r"[A-Za-z0-9_-]{8,}"), 0)],
    "URL_PASSWORD": [(re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:"
                                 r"([^\s@/$<{*][^\s@/]{2,128})@[\w.-]+"), 1)],
}
ENTITIES = SECRET_KINDS

# Strings one of which a text must hold for a kind's patterns to run at all (checked on
# the lowered text): most texts hold none, and a substring test is far cheaper than a scan.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "AWS_ACCESS_KEY": ("akia", "asia", "abia", "acca", "a3t"),
    "AWS_SECRET_KEY": ("aws",),
    "GCP_SERVICE_ACCOUNT": ("private_key_id", "service_account"),
    "GITHUB_TOKEN": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "GITLAB_TOKEN": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-",
                     "glptt-", "glagent-", "gloas-", "gr1348941"),
    "SLACK_TOKEN": ("xox", "hooks.slack.com"),
    "STRIPE_KEY": ("_live_", "_test_"),
    "ANTHROPIC_KEY": ("sk-ant-",),
    "OPENAI_KEY": ("sk-",),
    "PRIVATE_KEY": ("private key", "putty-user-key-file"),
    "JWT": ("eyj",),
    "URL_PASSWORD": ("://",),
    "HIGH_ENTROPY": ("secret", "token", "passw", "pwd", "key", "credential"),
}


def _present(lowered: str) -> set[str]:
    """The kinds whose prefixes the (lowered) text holds."""
    present = set()
    for entity, needles in _NEEDLES.items():
        for needle in needles:
            if needle in lowered:
                present.add(entity)
                break
    return present


def _names_no_secret(name: str) -> bool:
    """Whether one of the name's words (snake, kebab, dotted or camel case) says its value
    is something about a secret, not the secret."""
    return any(word in _NOT_SECRET_WORDS
               for word in _WORD.findall(_CAMEL.sub(r"\1_\2", name).lower()))


def shannon_entropy(value: str) -> float:
    """Bits per character (detect-secrets' measure for high-entropy strings)."""
    counts = Counter(value)
    size = len(value)
    return -sum(count / size * math.log2(count / size) for count in counts.values())


def _looks_random(value: str) -> bool:
    if _PLACEHOLDER.match(value) or _ATTRIBUTE.match(value):
        return False
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                   any(c.isdigit() for c in value), any(not c.isalnum() for c in value)))
    if classes < 2 or (value.isidentifier() and classes < 3):
        return False  # a word, or a variable name
    return shannon_entropy(value) >= (3.0 if len(value) < 20 else 3.5)


class SecretsDetector:
    spans = True

    def __init__(self, entities: Sequence[str] | None = None) -> None:
        wanted = set(entities or ENTITIES)
        unknown = wanted - set(ENTITIES)
        if unknown:
            raise ValueError(f"unknown secret kinds {sorted(unknown)} (known: {list(ENTITIES)})")
        self._patterns = [(entity, pattern, group) for entity, patterns in _PATTERNS.items()
                          if entity in wanted for pattern, group in patterns]
        self._entropy = "HIGH_ENTROPY" in wanted
        self._assigned = re.compile(_ASSIGNED_NAME)

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        lowered = text.lower()
        present = _present(lowered)
        if not present:
            return found
        for entity, pattern, group in self._patterns:
            if entity in present:
                found.extend(spans_of(pattern, text, entity, group))
        if self._entropy and "HIGH_ENTROPY" in present:
            for match in self._assigned.finditer(text):
                name, value = match.group(1), match.group(3)
                if not _names_no_secret(name) and _looks_random(value):
                    found.append(Finding(*match.span(3), "HIGH_ENTROPY"))
        return without_overlaps(found)
