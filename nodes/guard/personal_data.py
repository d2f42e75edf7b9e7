"""Finding personal data in text: e-mail addresses, phone numbers, payment card numbers (Luhn
checked), IBANs (mod-97 checked) and street addresses of the common shapes.

Plain functions, no node here: ``find_personal_data(text)`` returns non-overlapping findings in text
order, and ``redact(text, findings)`` replaces each with a ``[KIND]`` marker. Checksums keep random
digit runs (order numbers, timestamps) from being taken for cards or IBANs.
"""

from __future__ import annotations

import re

from nodes.guard.findings import Finding

__all__ = ["KINDS", "find_personal_data", "iban_valid", "luhn_valid"]

KINDS = ("email", "phone", "card", "iban", "address")

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# +44 20 7946 0958, (555) 123-4567, 555.123.4567, 0170 1234567: 9 to 15 digits in groups
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,8}){1,4}(?![\w-])")
_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|"
    r"Square|Sq|Crescent|Close|Highway|Hwy|Parkway|Pkwy"
)
_ADDRESSES = (
    # 221B Baker Street; 1600 Pennsylvania Avenue NW, Washington, DC 20500
    re.compile(
        rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\.?\s+){{1,3}}(?:{_STREET_TYPES})\b\.?"
        r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
        r"(?:,\s*(?:Apt|Suite|Unit)\.?\s*\w+)?"
        r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?"
    ),
    # Hauptstraße 5, 10115 Berlin; Rue de Rivoli 12 is caught by the next one
    re.compile(
        r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm)\s+\d{1,4}[a-z]?\b"
        r"(?:,\s*\d{4,5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"
    ),
    # 12 rue de Rivoli, 75001 Paris; 3 via Roma
    re.compile(r"\b\d{1,4},?\s+(?:rue|avenue|boulevard|via|calle|plaza)\s+(?:\w+\s+){0,3}\w+(?:,\s*\d{5}\s+[A-Z]\w+)?", re.IGNORECASE),
    # UK postcodes: SW1A 1AA, M1 1AE
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"),
    re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.IGNORECASE),
)

# IBAN lengths by country (ISO 13616), for the countries people meet most; others pass on mod-97 alone
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
    "GR": 27, "HU": 28, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616: the country's length (where known) and the mod-97 check."""
    iban = text.replace(" ", "").upper()
    if len(iban) < 15 or len(iban) > 34 or not iban.isalnum():
        return False
    if _IBAN_LENGTHS.get(iban[:2], len(iban)) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def find_personal_data(text: str, kinds: tuple[str, ...] = KINDS) -> list[Finding]:
    """Non-overlapping findings in text order. Earlier kinds in the search win an overlap."""
    found: list[Finding] = []
    if "email" in kinds:
        found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    if "iban" in kinds:
        found += [Finding("iban", m.start(), m.end()) for m in _IBAN.finditer(text) if iban_valid(m.group())]
    if "card" in kinds:
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found.append(Finding("card", m.start(), m.end()))
    if "address" in kinds:
        for pattern in _ADDRESSES:
            found += [Finding("address", m.start(), m.end()) for m in pattern.finditer(text)]
    if "phone" in kinds:
        # the digit groups of an IBAN-shaped run (even one failing its check) are not a phone number
        ibanlike = [m.span() for m in _IBAN.finditer(text)]
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if any(a < m.end() and m.start() < b for a, b in ibanlike):
                continue
            if 9 <= len(digits) <= 15 and not _looks_like_date(m.group()):
                found.append(Finding("phone", m.start(), m.end()))
    return _without_overlaps(found)


def _looks_like_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}", text.strip()))


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in found:  # in priority order: the first one found for a stretch of text stays
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)
