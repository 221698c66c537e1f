"""Amounts as people read them: wei shown as ETH, token units shown as token units.

Every amount on chain is an integer of the smallest unit; nothing here rounds it for
arithmetic. ``format_amount`` is for display only and exact (``Decimal``, trailing zeros
dropped): 61739659367396590 wei reads ``0.06173965936739659 ETH``, never ``6.17e16``.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.market_types import ETH

__all__ = ["WEI_PER_ETH", "eth", "format_amount"]

WEI_PER_ETH = 10**18


def eth(wei: int) -> Decimal:
    """``wei`` in ETH, exactly."""
    return Decimal(wei).scaleb(-18)


def format_amount(amount: int, token: str = ETH, *, places: int | None = None) -> str:
    """``amount`` with its unit: ``"1.5 ETH"`` for an ETH task, ``"42 units of 0xAbC…"``
    for an ERC-20 task (the contract knows no decimals; the token's own page does).

    ``places`` rounds the shown ETH value half-even to that many decimals (tables); the
    default shows every digit.
    """
    if int(token, 16) != 0:
        return f"{amount} units of {token[:6]}…{token[-4:]}"
    value = eth(amount)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value.normalize(), "f") if value else "0"
    return f"{text} ETH"
