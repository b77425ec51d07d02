"""The business rules, apart from any transport or storage: pure functions of a payment."""

from __future__ import annotations

import hashlib
import os
from typing import Any

# A score above this is a decline. A service reads it from its environment so that a
# deployment can tighten it without a code change; the demo's batch is built for 80.
RISK_LIMIT = int(os.environ.get("PAYMENT_RISK_LIMIT", "80"))
CENTS_PER_POINT = 2_500  # $25 of amount per point of risk: $2,000 and more is above 80


def risk_score(payment: dict[str, Any]) -> int:
    """0-100, from the amount: a stand-in for a real model, deterministic so the demo can
    know in advance which payments are declined."""
    return min(100, int(payment["amount"]) // CENTS_PER_POINT)


def luhn_valid(number: str) -> bool:
    """The check digit every card number carries (ISO/IEC 7812)."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_problem(card: Any) -> str | None:
    """Why a card number is not one PCI lets through, or None when it is well formed."""
    if not isinstance(card, str):
        return "the card number is not a string"
    digits = card.replace(" ", "")
    if not digits.isdigit():
        return "the card number has characters other than digits"
    if not 13 <= len(digits) <= 19:
        return f"a card number has 13 to 19 digits, not {len(digits)}"
    if not luhn_valid(digits):
        return "the card number's check digit is wrong"
    return None


def card_token(card: str) -> str:
    """What stands for the card after the PCI check: nothing else downstream sees the number."""
    return "tok_" + hashlib.sha256(card.replace(" ", "").encode()).hexdigest()[:20]


def last4(card: Any) -> str:
    return str(card)[-4:]
