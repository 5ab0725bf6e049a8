"""The `injection` guard: prompt-injection and jailbreak heuristics, scored 0..1.

The text is normalised first (NFKC, zero-width characters dropped, Cyrillic and Greek
look-alikes mapped to Latin, whitespace collapsed), base64 runs are decoded and scanned
too, and each signal adds its weight: instruction override, system-prompt exfiltration,
role-play escapes, chat-template delimiters, hidden encodings. A text that talks *about*
injection (a quoted phrase, "what is prompt injection", "how do I defend") scores less."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

from relaygate.guardrails.findings import Finding

_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ν": "v", "ο": "o", "α": "a", "ρ": "p",
    "τ": "t", "ι": "i", "κ": "k", "Α": "a", "Β": "b", "Ε": "e", "Ι": "i", "Κ": "k", "Μ": "m",
    "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Χ": "x", "Υ": "y", "А": "a", "В": "b", "Е": "e",
    "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t", "Х": "x",
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
})
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_B64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")

_PRIOR = (r"(?:all |any |the |every |your |my )*(?:previous|prior|above|earlier|preceding"
          r"|initial|original|system|old|existing)")
_RULES = (r"(?:instructions?|prompts?|rules|directions|guidelines|directives|context|orders"
          r"|guidance|programming|policies|constraints|(?:(?<=your )|(?<=previous )|(?<=prior ))training)")
_AI = r"(?:ai|assistant|model|llm|chatbot|bot|agent|persona|character|version)"
_LIMITS = (r"(?:restrictions|limits|limitations|filters|rules|guidelines|ethics|morals|moral"
           r" compass|censorship|constraints|confines|policies)(?! on\b)")
_SIGNALS: list[tuple[float, re.Pattern[str]]] = [
    # instruction override
    (0.8, re.compile(rf"\b(?:ignore|ignores|disregard|forget|skip|override|overrides|bypass"
                     rf"|drop|abandon|set aside|overwrite|overlook)\b[\w\s,']{{0,20}}?{_PRIOR}?\s*{_RULES}")),
    (0.7, re.compile(r"\b(?:ignore|disregard|forget) (?:everything|all(?: of)? that|what)"
                     r" (?:you were|you've been|i|above|before|was said)")),
    (0.6, re.compile(r"\b(?:new|updated|real|actual|true) (?:system )?instructions?\s*(?::|are\b"
                     rf"|(?:for|to) (?:the |any )?{_AI}\b)")),
    (0.5, re.compile(r"\b(?:from now on|henceforth),? (?:you (?:will|must|are)|ignore|answer)")),
    (0.5, re.compile(r"\b(?:ignore|disregard|forget|overlook)\b[\w\s']{0,15}?\b(?:the user\b"
                     r"|(?:the user's|their|your) (?:question|request|task|input))")),
    (0.5, re.compile(r"\b(?:higher|top|highest)[- ]priority (?:instruction|directive|command"
                     r"|task)")),
    (0.6, re.compile(r"\bdo not follow (?:your|the|any) (?:rules|instructions|guidelines)")),
    (0.6, re.compile(r"\b(?:your|previous|prior|earlier|the content|the safety|all) (?:\w+ )?"
                     r"(?:policy|policies|rules|guidelines|restrictions|instructions|directives"
                     r"|task)\b[\w\s']{0,15}?\b(?:revoked|void|lifted|suspended|cancell?ed"
                     r"|disabled|no longer appl|(?:were|was|have been|has been|are|is) (?:updated"
                     r"|changed|removed|lifted|cancell?ed|void|null))")),
    (0.4, re.compile(r"\byou (?:may|can) now (?:reveal|share|ignore|bypass|say|disclose)"
                     r"|\byou are (?:now )?allowed to (?:reveal|share|ignore|bypass|disclose)")),
    (0.8, re.compile(r"\b(?:ignorez|ignora|ignoriere|vergiss|oubliez|olvida)\b.{0,30}"
                     r"\b(?:instructions|instrucciones|anweisungen|istruzioni)\b")),
    # addressed to the model from inside a document or a tool's output
    (0.5, re.compile(r"\b(?:ai|assistant|language model|llm|model|agents?|bot)\b[\w\s]{0,30}?"
                     r"[:,] ?(?:do not|don't|ignore|disregard|forget|instead|stop|you must"
                     r"|the user wants)|\b(?:the )?(?:assistant|ai|model) (?:must|should|will)"
                     r" now\b")),
    (0.5, re.compile(rf"\b(?:note|message|attention|instructions?|important)\W{{0,3}}(?:to|for)"
                     rf" (?:the |any )?{_AI}\b|^\W*(?:attention|important)\W+(?:the )?{_AI}\b"
                     rf"|\[hidden\W")),
    # system prompt exfiltration
    (0.8, re.compile(r"(?<!never )(?<!not )(?<!n't )\b(?:reveal|show|print|printing|repeat"
                     r"|output|tell me|display|leak|dump|share|give me|write out|reproduce|copy"
                     r"|paste|recite|spell out|what (?:is|are|was|were))\b[\w\s']{0,20}?"
                     r"(?<!my )(?:system prompt|(?:hidden|secret|developer|system|initial) (?:prompt|"
                     r"instructions|message|rules|text|preamble)|your (?:initial|original|first)"
                     r" (?:prompt|instructions)|your (?:\w+ )?(?:instructions|configuration"
                     r"|system message|rules|preamble))")),
    (0.6, re.compile(r"\b(?:text|words|content|everything) (?:that )?(?:comes|came|is|appears)"
                     r" (?:before|above)\b.{0,30}\b(?:your context|this conversation|this chat"
                     r"|my message)")),
    (0.7, re.compile(r"\brepeat (?:the |all )?(?:text|words|everything) (?:above|before)")),
    (0.5, re.compile(r"\b(?:verbatim|word for word)\b.{0,40}\b(?:prompt|instructions)"
                     r"|\b(?:prompt|instructions|system message)\b.{0,40}\b(?:verbatim"
                     r"|word for word|quote it exactly)")),
    (0.6, re.compile(r"\b(?:instructions|rules|guidelines|prompt|text|message)s? you (?:were|"
                     r"have been|'ve been) (?:given|told|configured|programmed|set up)"
                     r"|\bhow you (?:were|are) (?:configured|programmed|instructed|set up)\b")),
    # role-play escapes, jailbreaks
    (0.8, re.compile(r"\b(?:do anything now|god mode|jailbreak mode|unrestricted mode"
                     r"|evil confidant|aim mode|dan mode)\b"
                     r"|\b(?:developer|god|dan|jailbreak) mode (?:enabled|activated|is on|on)\b"
                     r"|\b(?:enable|enter|switch to|activate) (?:developer|god|dan|jailbreak"
                     r"|unrestricted) mode\b(?! (?:on|in|for) )"
                     r"|\b(?:you are|you're|act as|be|become) (?:now )?(?:dan|stan|jailbroken)\b")),
    (0.7, re.compile(r"\b(?:you are|you're|act as|pretend (?:to be|you are)|roleplay as|become)"
                     r" (?:now )?(?:an? )?(?:ai|assistant|model|chatbot|character|entity)?\s?"
                     r"(?:without|with no|free of|that has no|who has no|not bound by)"
                     r" (?:any )?(?:restrictions|limits|filters|rules|guidelines|ethics|censorship)")),
    (0.6, re.compile(rf"\b(?:you|{_AI})\b[\w\s,'-]{{0,40}}?\b(?:zero|no|without(?: any)?"
                     rf"|free (?:of|from)|freed from|broken free of|no longer bound by|not bound by)"
                     rf"\b[\w\s-]{{0,25}}?{_LIMITS}")),
    (0.6, re.compile(r"\bpretend (?:that )?(?:(?:there are no|you have no|you don't have)"
                     r" (?:rules|restrictions|guidelines|filters)|the (?:safety |content )?"
                     r"(?:policy|policies|rules|guidelines|filters?) (?:doesn't|don't|does not"
                     r"|do not) exist)")),
    (0.5, re.compile(r"\b(?:stay in character|never break character|no longer an ai)\b")),
    (0.5, re.compile(rf"\b(?:unfiltered|uncensored|unrestricted|unaligned)"
                     rf" (?:{_AI}|mode|responses?|answers?|reply)\b")),
    (0.5, re.compile(r"\bwho (?:ignores|breaks|doesn't follow|does not follow|never follows)\b"
                     r"[\w\s']{0,20}(?:rules|policies|guidelines|content polic)")),
    # delimiters and chat templates
    (0.6, re.compile(r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>"
                     r"|\[/?inst\]|<</?sys>>|</?system>|\bend of (?:system )?prompt\b"
                     r"|\[(?:system|assistant)\]\(#")),
    (0.5, re.compile(r"(?:^|\n)\s*(?:#{2,}|={3,}|-{3,})\s*(?:new )?(?:system|admin|developer)\b")),
    (0.4, re.compile(r"\b(?:begin|start) (?:new|admin|system) (?:instructions|session|prompt)")),
    (0.5, re.compile(r"\b(?:admin|developer|sudo|root|system) (?:override|mode|access) "
                     r"(?:enabled|activated|granted|on)\b|\bsystem override\b")),
]
_ABOUT = re.compile(r"\b(?:prompt injection|injection attacks?|jailbreak(?:ing)? attempts?|"
                    r"jailbreaking|defen[cd]|detect|classif|examples? of|research|paper|"
                    r"mitigat|attackers?|filter(?:ing)? (?:for|out)|red team|how do (?:we|i) "
                    r"(?:patch|fix|stop|block|prevent))")
_QUOTED = re.compile(r"[\"“'‘`«][^\"”'’`»]{4,120}[\"”'’`»]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text))
    return _SPACES.sub(" ", text.lower().translate(_HOMOGLYPHS))


def _decoded(text: str) -> list[str]:
    """Base64 runs that decode to readable text."""
    found = []
    for match in _B64.finditer(text):
        blob = match.group()
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded.isprintable() or "\n" in decoded:
            found.append(decoded)
    return found


def _signals(text: str) -> float:
    return sum(weight for weight, pattern in _SIGNALS if pattern.search(text))


def injection_score(text: str) -> float:
    """0 (benign) .. 1 (an injection attempt)."""
    plain = normalise(text)
    score = _signals(plain)
    if score and _ABOUT.search(plain):
        quoted_out = _signals(_QUOTED.sub(" ", plain))
        score = quoted_out * 0.6 + (score - quoted_out) * 0.2
    for decoded in _decoded(text):
        score += 0.8 * min(_signals(normalise(decoded)), 1.0) + 0.1
    if _ZERO_WIDTH.search(text) and score:
        score += 0.2
    if plain != _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()) and score:
        score += 0.1  # look-alike letters around a signal
    return min(score, 1.0)


class InjectionDetector:
    spans = False

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def find(self, text: str) -> list[Finding]:
        score = injection_score(text)
        if score >= self.threshold:
            return [Finding(0, len(text), "INJECTION", score)]
        return []
