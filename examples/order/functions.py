"""The services of the order example, as plain Python functions (one JSON argument, a JSON result).

A real deployment would reach services over HTTP or a queue; the state machine would not change.
"""

from __future__ import annotations

import hashlib
from typing import Any

from podium import TaskError

PRICES = {"BOOK-1": 1250, "PEN-7": 199, "MUG-3": 899}
_attempts: dict[str, int] = {}


def validate_order(order: dict[str, Any]) -> dict[str, Any]:
    unknown = [line["sku"] for line in order.get("lines", []) if line.get("sku") not in PRICES]
    return {"valid": not unknown and bool(order.get("lines")), "unknown": unknown}


def price_line(line: dict[str, Any]) -> dict[str, Any]:
    return {"sku": line["sku"], "line": line["line"], "amount": PRICES[line["sku"]] * int(line["quantity"])}


def reserve_stock(order: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha1(order["orderId"].encode()).hexdigest()[:10]
    return {"reservationId": f"rsv-{digest}", "lines": len(order["lines"])}


def charge_card(order: dict[str, Any]) -> dict[str, Any]:
    if order["card"].endswith("0000"):
        # A business error: not retried, compensated.
        raise TaskError("Payment.Declined", f"card {order['card'][-4:]} declined for {order['total']} cents")
    # The gateway times out on the first attempt of every order: the Retry absorbs it.
    seen = _attempts.get(order["orderId"], 0)
    _attempts[order["orderId"]] = seen + 1
    if seen == 0:
        raise TaskError("Gateway.Timeout", "payment gateway did not answer in time")  # transient: retried
    return {"paymentId": f"pay-{order['orderId']}", "amount": order["total"]}


def release_stock(order: dict[str, Any]) -> dict[str, Any]:
    return {"released": order["orderId"]}
