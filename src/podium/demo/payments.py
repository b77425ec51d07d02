"""The batch of payments: a seeded mix of good cards, declines and malformed cards.

Each payment carries the kind it was made as, hence the outcome the saga owes it: a good
card SUCCEEDED (or FAILED on transient faults that outlasted every retry), a declined one
FAILED with Payment.Declined, a malformed card FAILED with Payment.NonCompliant. The
amounts follow the example's rule (payment_saga/rules.py: one point of risk per $25, a
decline above 80 points): good payments stay at or under $1,500 (60 points), declined ones
start at $2,100 (84 points).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["good", "declined", "non-compliant"]
KINDS: tuple[Kind, ...] = ("good", "declined", "non-compliant")
MIX: dict[Kind, float] = {"good": 0.7, "declined": 0.15, "non-compliant": 0.15}
BUSINESS_ERROR: dict[Kind, str | None] = {
    "good": None,
    "declined": "Payment.Declined",
    "non-compliant": "Payment.NonCompliant",
}
# Faults the definition retries: when they outlast the retries the payment fails with them,
# whatever its kind, and is compensated like any other failure.
TRANSIENT_ERRORS = frozenset({"ServiceUnavailable", "States.Timeout"})


@dataclass(frozen=True)
class Payment:
    id: str
    kind: Kind
    card: str
    amount: int  # cents
    currency: str = "EUR"

    def input(self) -> dict[str, Any]:
        """The execution's input: the payment as the services see it (no kind: they must tell)."""
        return {
            "payment": {"id": self.id, "card": self.card, "amount": self.amount, "currency": self.currency}
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payment:
        return cls(**data)


def generate(count: int, batch: str, seed: int) -> list[Payment]:
    """`count` payments named `{batch}-0001`...; the same seed gives the same batch."""
    rng = random.Random(seed)
    kinds = _kinds(count, rng)
    return [_payment(f"{batch}-{i + 1:04d}", kind, rng) for i, kind in enumerate(kinds)]


def _kinds(count: int, rng: random.Random) -> list[Kind]:
    # Exact proportions (rounded), shuffled: a batch of 30 always shows every kind.
    declined = round(count * MIX["declined"])
    malformed = round(count * MIX["non-compliant"])
    counts: dict[Kind, int] = {"declined": declined, "non-compliant": malformed}
    counts["good"] = count - declined - malformed
    kinds: list[Kind] = [kind for kind in KINDS for _ in range(counts[kind])]
    rng.shuffle(kinds)
    return kinds


def _payment(payment_id: str, kind: Kind, rng: random.Random) -> Payment:
    card = _card(rng)
    if kind == "good":
        amount = rng.randint(500, 150_000)
    elif kind == "declined":
        amount = rng.randint(210_000, 900_000)
    else:
        amount = rng.randint(500, 150_000)
        card = _malformed(card, rng)
    return Payment(payment_id, kind, card, amount)


def _card(rng: random.Random) -> str:
    """A 16-digit number with a valid check digit (Luhn), starting with 4 as Visa's do."""
    body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    return body + _check_digit(body)


def _check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        digit = int(ch)
        if i % 2 == 0:  # doubled: these are the odd positions once the check digit is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _malformed(card: str, rng: random.Random) -> str:
    """A card number PCI must refuse: a wrong check digit, a letter, or too few digits."""
    flaw = rng.choice(("check-digit", "letter", "short"))
    if flaw == "check-digit":
        return card[:-1] + str((int(card[-1]) + rng.randint(1, 9)) % 10)
    if flaw == "letter":
        at = rng.randrange(len(card))
        return card[:at] + "X" + card[at + 1 :]
    return card[:11]
