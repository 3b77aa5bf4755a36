"""Counted nouns for the messages services and pages show: ``1 tag``, ``3 tags``."""

from __future__ import annotations


def counted(number: int, one: str, many: str | None = None) -> str:
    """``number`` with ``one`` or ``many`` (default: ``one`` + "s"), thousands grouped."""
    return f"{number:,} {one if number == 1 else (many or one + 's')}"
