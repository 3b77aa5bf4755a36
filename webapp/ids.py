"""Identifier helpers: UUIDv7 generation and the namespaced public ids (``tag_<uuidv7>``)."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A time-ordered UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits."""
    unix_ms = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")  # 80 bits; 74 are used
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((random_bits >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= random_bits & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def public_id(prefix: str, value: uuid.UUID | None = None) -> str:
    """Return ``<prefix>_<uuidv7>``, e.g. ``tag_01920c3e-...``."""
    return f"{prefix}_{value or uuid7()}"


def parse_uuid(text: str) -> uuid.UUID | None:
    """Return the UUID that ``text`` spells, or None when it is not a UUID."""
    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return None
