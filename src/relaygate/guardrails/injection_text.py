"""The forms of a text the injection scorer reads: normalised (NFKC, zero-width characters
dropped, look-alike letters and leetspeak folded inside mixed words, letter-spaced words
joined, lower case, whitespace collapsed) and the payloads hidden in it (base64, hex, rot13)."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e]")
_SPACES = re.compile(r"\s+")
_B64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_ROT13_CUE = re.compile(r"\brot[- ]?13\b|\bcaesar\b", re.IGNORECASE)
# single letters with one separator between them: "i g n o r e", "i-g-n-o-r-e"
_SPACED = re.compile(r"(?<![\w-])\w([ .\-_*])(?:\w\1){1,}\w(?![\w-])")
_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[a-z]")
_CONFUSABLES = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ν": "v", "ο": "o", "α": "a", "ρ": "p",
    "τ": "t", "ι": "i", "κ": "k", "ԛ": "q", "ԝ": "w", "ᴠ": "v", "ɑ": "a", "ı": "i",
}
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_FOLD = str.maketrans(_CONFUSABLES)
_FOLD_LEET = str.maketrans({**_CONFUSABLES, **_LEET})
_FOLD_LEET_L = str.maketrans({**_CONFUSABLES, **_LEET, "1": "l"})
_EDGES = ".,;:!?()[]{}\"'«»“”‘’"  # punctuation around a word, not leetspeak
_HAS_LEET = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]")
_LEET_CHAR = re.compile(r"[0-9@$]")


@dataclass
class Forms:
    """What the scorer reads of one text."""

    plain: str  # normalised
    decoded: list[str] = field(default_factory=list)  # hidden payloads, normalised
    zero_width: bool = False  # zero-width characters were dropped
    folded: bool = False  # look-alike letters or leetspeak were folded


def _fold_word(word: str, table: dict[int, str]) -> str:
    core = word.strip(_EDGES)
    if not core or (core.isascii() and not _HAS_LEET.search(core)):
        return word
    folded = core.translate(table)
    # a word all in another script (Russian, Greek) stays itself unless it mixes in Latin
    if _LATIN.search(core) or (folded.isascii() and folded != core and folded.isalpha()):
        start = word.index(core)
        return word[:start] + folded + word[start + len(core):]
    return word


def _fold(text: str, table: dict[int, str]) -> str:
    if text.isascii() and not (_LEET_CHAR.search(text) and _HAS_LEET.search(text)):
        return text
    return _WORD.sub(lambda match: _fold_word(match.group(), table), text)


def _despace(text: str) -> str:
    return _SPACED.sub(lambda match: match.group().replace(match.group(1), ""), text)


def _bare(text: str) -> str:
    """NFKC, lower case, no zero-width characters, letter-spaced words joined."""
    return _despace(unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).lower())


def normalise(text: str) -> str:
    """`_bare`, look-alike letters and leetspeak folded, whitespace collapsed."""
    return _SPACES.sub(" ", _fold(_bare(text), _FOLD_LEET))


def _printable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(char.isalpha() or char.isspace() for char in decoded)
    return decoded if decoded and letters >= 0.8 * len(decoded) else None


def _payloads(text: str) -> list[str]:
    found = []
    long_words = " ".join(word for word in text.split() if len(word) >= 24)
    for match in _B64.finditer(long_words):
        blob = match.group()
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if (decoded := _printable(raw)) is not None:
            found.append(decoded)
    for match in _HEX.finditer(long_words):
        if (decoded := _printable(bytes.fromhex(match.group()))) is not None:
            found.append(decoded)
    if _ROT13_CUE.search(text):
        found.append(codecs.decode(text, "rot13"))
    return found


def forms(text: str) -> Forms:
    """The normalised text and its decoded payloads."""
    bare = _bare(text)
    plain = _SPACES.sub(" ", _fold(bare, _FOLD_LEET))
    decoded = [normalise(payload) for payload in _payloads(text)]
    if plain != _SPACES.sub(" ", bare):
        alternative = _SPACES.sub(" ", _fold(bare, _FOLD_LEET_L))
        if alternative != plain:
            decoded.append(alternative)  # "ru13s": a 1 read as an l
        return Forms(plain, decoded, bool(_ZERO_WIDTH.search(text)), True)
    return Forms(plain, decoded, bool(_ZERO_WIDTH.search(text)), False)
