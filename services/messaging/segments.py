"""How many SMS parts a text goes as: GSM-7 when every character is in the GSM 03.38
alphabet (160 a part, 153 each when split; the extension characters such as € and {
take two), else UCS-2 (70 a part, 67 each when split; characters beyond the Basic
Multilingual Plane, such as most emoji, take two)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: Literal["GSM-7", "UCS-2"]
    units: int  # septets for GSM-7, 16-bit code units for UCS-2
    parts: int


def count(text: str) -> Segments:
    """The encoding a carrier would choose for ``text`` and how many parts it takes."""
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        units = sum(2 if char in GSM_EXTENSION else 1 for char in text)
        single, each = 160, 153
        encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
    else:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, each = 70, 67
        encoding = "UCS-2"
    parts = 1 if units <= single else -(-units // each)
    return Segments(encoding, units, parts)
