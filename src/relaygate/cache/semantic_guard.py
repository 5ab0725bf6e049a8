"""A cheap veto on semantic-cache hits: two texts that name different specifics differ.

A sentence embedding scores "capital of France" and "capital of Germany" as near twins,
but the answers differ. This guard compares the specifics that decide an answer and
vetoes a hit when they disagree:

- numbers (digits, and number words up to twenty), and the unit bound to each number
  ("5 km" is not "5 miles"), and the set of units named at all;
- named things: capitalised words not starting a sentence, words with an inner capital
  (GitHub, macOS) or in capitals (NASA), and quoted phrases — each must appear in the
  other text too;
- terms from small lexicons: programming languages, operating systems, data formats;
- the target of a conversion ("... to miles", "... into YAML");
- negation ("not", "without", "-n't") present in one text only;
- a pair of opposites ("enable" / "disable") split across the texts.

Pure, no I/O, no dependencies: one function, `contradicts(cached, asked)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["contradicts"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#']*|\d+(?:[.,]\d+)*%?")
_SENTENCE_END = re.compile(r"[.?!:;\n]\s*$")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{1,200})[\"“”]")
_NUMBER_UNIT = re.compile(r"(\d+(?:[.,]\d+)*)\s*-?\s*(%|[A-Za-z]+)")

_NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
    "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16",
    "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000",
}


def _unit_table() -> dict[str, str]:
    groups = {
        "km": "km kms kilometer kilometers kilometre kilometres",
        "mile": "mile miles mi",
        "m": "m meter meters metre metres",
        "cm": "cm centimeter centimeters", "mm": "mm millimeter millimeters",
        "foot": "foot feet ft", "inch": "inch inches", "yard": "yard yards",
        "kg": "kg kgs kilogram kilograms kilo kilos", "g": "g gram grams",
        "pound": "lb lbs pound pounds", "ounce": "oz ounce ounces", "ton": "ton tons tonne tonnes",
        "celsius": "celsius centigrade", "fahrenheit": "fahrenheit", "kelvin": "kelvin",
        "liter": "l liter liters litre litres", "ml": "ml milliliter milliliters",
        "gallon": "gallon gallons", "quart": "quart quarts", "cup": "cup cups",
        "teaspoon": "tsp teaspoon teaspoons", "tablespoon": "tbsp tablespoon tablespoons",
        "mph": "mph", "kph": "kph kmh",
        "dollar": "dollar dollars usd", "euro": "euro euros eur", "yen": "yen jpy",
        "byte": "byte bytes", "kb": "kb kilobyte kilobytes", "mb": "mb megabyte megabytes",
        "gb": "gb gigabyte gigabytes", "tb": "tb terabyte terabytes",
        "second": "second seconds sec secs", "minute": "minute minutes min mins",
        "hour": "hour hours hr hrs", "day": "day days", "week": "week weeks",
        "month": "month months", "year": "year years", "percent": "% percent",
        "binary": "binary", "decimal": "decimal", "hex": "hex hexadecimal", "octal": "octal",
    }
    return {form: unit for unit, forms in groups.items() for form in forms.split()}


_UNITS = _unit_table()
# Units too ambiguous as plain words ("m", "g", "l", "min", "sec"), counted only after a number.
# Time words are everyday words too ("time of year", "this week"): also only after a number.
_BARE_ONLY_AFTER_NUMBER = frozenset(
    "m g l mi min mins sec secs hr hrs second seconds minute minutes hour hours "
    "day days week weeks month months year years".split()
)

_LEXICON = frozenset(
    "python javascript typescript java kotlin scala ruby rust golang php perl swift haskell "
    "c c++ c# elixir erlang lua julia bash zsh powershell sql sqlite mysql postgres postgresql "
    "mongodb redis linux windows macos mac ubuntu debian android ios npm pip cargo conda "
    "json yaml xml csv toml html markdown pdf today tomorrow yesterday tonight".split()
)

_NEGATIONS = frozenset("not no never without none nothing cannot nor".split())


def _forms(word: str) -> set[str]:
    stem = word[:-1] if word.endswith("e") else word
    return {word, word + "s", word + "es", word + "d", word + "ed", stem + "ing", stem + "ed"}


def _opposites() -> list[tuple[frozenset[str], frozenset[str]]]:
    pairs = (
        "enable disable", "increase decrease", "encrypt decrypt", "encode decode",
        "compress decompress", "ascending descending", "largest smallest", "biggest smallest",
        "maximum minimum", "max min", "install uninstall", "upload download", "add remove",
        "start stop", "push pull", "before after", "import export", "first last", "buy sell",
        "open close", "pros cons", "advantage disadvantage", "praise criticize", "lock unlock",
        "create delete", "read write", "connect disconnect", "show hide", "include exclude",
        "allow block", "accept reject", "win lose", "higher lower", "more less",
        "closest farthest", "nearest farthest", "fastest slowest", "hot cold", "north south",
        "east west", "left right", "top bottom", "earliest latest", "oldest newest",
        "cheapest priciest", "follow unfollow", "mute unmute",
        "subscribe unsubscribe", "inhale exhale", "positive negative",
    )
    out = []
    for pair in pairs:
        left, right = pair.split()
        out.append((frozenset(_forms(left)), frozenset(_forms(right))))
    return out


_OPPOSITES = _opposites()


@dataclass(frozen=True, slots=True)
class _Specifics:
    words: frozenset[str]
    numbers: frozenset[str]
    bound_units: frozenset[tuple[str, str]]
    units: frozenset[str]
    names: frozenset[str]
    quoted: frozenset[str]
    terms: frozenset[str]
    targets: frozenset[str]
    negated: bool


def _normalise_number(raw: str) -> str:
    value = raw.rstrip("%").replace(",", "")
    return value.rstrip("0").rstrip(".") if "." in value else value


def _squash(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _specifics(text: str) -> _Specifics:
    tokens = [(m.group(0), m.start()) for m in _WORD.finditer(text)]
    words: set[str] = set()
    numbers: set[str] = set()
    names: set[str] = set()
    units: set[str] = set()
    negated = False
    lowered = [raw.lower().removesuffix("'s").strip("'") for raw, _ in tokens]
    for index, (raw, start) in enumerate(tokens):
        word = lowered[index]
        words.add(word)
        if word[0].isdigit():
            numbers.add(_normalise_number(word))
        elif word in _NUMBER_WORDS:
            numbers.add(_NUMBER_WORDS[word])
        if word in _NEGATIONS or word.endswith("n't"):
            negated = True
        if word in _UNITS and word not in _BARE_ONLY_AFTER_NUMBER:
            units.add(_UNITS[word])
        sentence_start = index == 0 or bool(_SENTENCE_END.search(text[:start]))
        inner_capital = any(ch.isupper() for ch in raw[1:])
        if raw[0].isupper() and raw != "I" and not raw.startswith("I'") and (inner_capital or not sentence_start):
            names.add(word)
    bound: set[tuple[str, str]] = set()
    for match in _NUMBER_UNIT.finditer(text):
        unit = _UNITS.get(match.group(2).lower())
        if unit is not None:
            bound.add((_normalise_number(match.group(1)), unit))
            units.add(unit)
    for index, word in enumerate(lowered[:-1]):
        if word in _NUMBER_WORDS and lowered[index + 1] in _UNITS:
            bound.add((_NUMBER_WORDS[word], _UNITS[lowered[index + 1]]))
            units.add(_UNITS[lowered[index + 1]])
    targets = {
        _UNITS.get(lowered[i + 1], lowered[i + 1])
        for i in range(len(lowered) - 1)
        if lowered[i] in ("to", "into")
        and (lowered[i + 1] in _UNITS or lowered[i + 1] in _LEXICON or lowered[i + 1] in names)
    }
    return _Specifics(
        words=frozenset(words),
        numbers=frozenset(numbers),
        bound_units=frozenset(bound),
        units=frozenset(units),
        names=frozenset(names),
        quoted=frozenset(_squash(q) for q in _QUOTED.findall(text)),
        terms=frozenset(words & _LEXICON),
        targets=frozenset(targets),
        negated=negated,
    )


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _names_missing(names: frozenset[str], other: _Specifics) -> bool:
    other_words = {_singular(word) for word in other.words}
    return any(_singular(name) not in other_words for name in names)


def _quotes_missing(quoted: frozenset[str], other_text: str) -> bool:
    squashed = _squash(other_text)
    return any(phrase not in squashed for phrase in quoted)


def _opposed(a: frozenset[str], b: frozenset[str]) -> bool:
    for left, right in _OPPOSITES:
        a_left, a_right = bool(a & left), bool(a & right)
        b_left, b_right = bool(b & left), bool(b & right)
        if (a_left and not a_right and b_right and not b_left) or (
            a_right and not a_left and b_left and not b_right
        ):
            return True
    return False


def contradicts(cached: str, asked: str) -> bool:
    """True when the two texts name different specifics, so one's answer cannot serve the other."""
    a, b = _specifics(cached), _specifics(asked)
    if a.numbers != b.numbers or a.bound_units != b.bound_units or a.units != b.units:
        return True
    if a.terms != b.terms or a.negated != b.negated:
        return True
    if a.targets and b.targets and a.targets != b.targets:
        return True
    if _names_missing(a.names, b) or _names_missing(b.names, a):
        return True
    if _quotes_missing(a.quoted, asked) or _quotes_missing(b.quoted, cached):
        return True
    return _opposed(a.words, b.words)
