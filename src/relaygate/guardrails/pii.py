"""The `pii` guard: email, phone (international, by libphonenumber), credit card (Luhn),
IBAN (its checksum), US SSN, IPv4/IPv6 — candidates by pattern, each confirmed by its
validator (python-stdnum, phonenumbers, ipaddress) so a number that merely looks right
(an order id, a UUID, a version) is not one."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

from relaygate.guardrails.findings import Finding, without_overlaps
from relaygate.guardrails.settings import PII_ENTITIES

ENTITIES = PII_ENTITIES

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+"
                    r"[A-Za-z]{2,24}(?![\w-])")
# Patterns start with their first character's class (sre scans for it fast); the edges are
# checked by `_bounded`, as a look-behind at the start would cost a test at every position.
_CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}")
_SSN = re.compile(r"(\d{3})([- ])(\d{2})\2(\d{4})")
_SSN_BARE = re.compile(r"(?i)(?:ssn|social security(?: number| no\.?)?)\W{0,5}(\d{9})(?!\d)")
_IPV4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})"
                   r"(?![\w:])")
_MAYBE_PHONE = re.compile(r"\d(?:[\s().-]*\d){6}")  # seven digits close together


def _bounded(text: str, match: re.Match[str], edge: str) -> bool:
    """The match is not part of a longer run (no `edge` character right before or after)."""
    start, end = match.span()
    return (start == 0 or text[start - 1] not in edge) and (end == len(text)
                                                             or text[end] not in edge)


_DIGITS = "0123456789-"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DOTTED = "0123456789."


def _card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits)


class PiiDetector:
    spans = True

    def __init__(self, entities: Sequence[str] | None = None,
                 regions: Sequence[str] = ("US",)) -> None:
        wanted = set(entities or ENTITIES)
        unknown = wanted - set(ENTITIES)
        if unknown:
            raise ValueError(f"unknown pii entities {sorted(unknown)} (known: {list(ENTITIES)})")
        self._regions = tuple(region.upper() for region in regions)
        # cards, IBANs, SSNs and phones hold seven digits close together: without such a
        # run in the text, none of them is looked for
        self._dense = {"CREDIT_CARD", "IBAN", "US_SSN", "PHONE"}
        finders: dict[str, Callable[[str], list[Finding]]] = {
            "EMAIL": self._emails, "CREDIT_CARD": self._cards, "IBAN": self._ibans,
            "US_SSN": self._ssns, "IP_ADDRESS": self._ips, "PHONE": self._phones,
        }
        self._finders = [(finders[name], name in self._dense)
                         for name in ENTITIES if name in wanted]  # in priority order

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        dense = _MAYBE_PHONE.search(text) is not None
        for finder, needs_digits in self._finders:
            if dense or not needs_digits:
                found.extend(finder(text))
        return without_overlaps(found) if len(found) > 1 else found

    def _emails(self, text: str) -> list[Finding]:
        if "@" not in text:
            return []
        return [Finding(*m.span(), "EMAIL") for m in _EMAIL.finditer(text)]

    def _cards(self, text: str) -> list[Finding]:
        found = []
        for match in _CARD.finditer(text):
            if not _bounded(text, match, _DIGITS):
                continue
            raw = match.group()
            digits = raw.replace(" ", "").replace("-", "")
            if _card(digits) and len({c for c in raw if not c.isdigit()}) <= 1:
                found.append(Finding(*match.span(), "CREDIT_CARD"))
        return found

    def _ibans(self, text: str) -> list[Finding]:
        found = []
        for match in _IBAN.finditer(text):
            if _bounded(text, match, _ALNUM) and iban.is_valid(match.group()):
                found.append(Finding(*match.span(), "IBAN"))
        return found

    def _ssns(self, text: str) -> list[Finding]:
        found = []
        for match in _SSN.finditer(text):
            if _bounded(text, match, _DIGITS) and ssn.is_valid(match.group(1) + match.group(3) + match.group(4)):
                found.append(Finding(*match.span(), "US_SSN"))
        lowered = text.lower()
        if "ssn" not in lowered and "social security" not in lowered:
            return found
        for match in _SSN_BARE.finditer(text):
            if ssn.is_valid(match.group(1)):
                found.append(Finding(*match.span(1), "US_SSN"))
        return found

    def _ips(self, text: str) -> list[Finding]:
        found = []
        if "." in text:
            for match in _IPV4.finditer(text):
                if _bounded(text, match, _DOTTED) and _is_ip(match.group()):
                    found.append(Finding(*match.span(), "IP_ADDRESS"))
        if "::" in text or text.count(":") >= 3:
            for match in _IPV6.finditer(text):
                candidate = match.group()
                if candidate.count(":") >= 2 and len(candidate) >= 3 and _is_ip(candidate):
                    found.append(Finding(*match.span(), "IP_ADDRESS"))
        return found

    def _phones(self, text: str) -> list[Finding]:
        found: dict[tuple[int, int], Finding] = {}
        for region in self._regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                         phonenumbers.Leniency.VALID):
                span = (match.start, match.end)
                found.setdefault(span, Finding(match.start, match.end, "PHONE"))
        return list(found.values())


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True
