"""Pages of results: ``page`` from 1 to :data:`MAX_PAGE`, ``per_page`` from 1 to 200
(design.md section 3).  A page past the last is empty; a page number past ``MAX_PAGE`` is
refused (its row offset would not fit the databases' 64-bit integers)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

from webapp.services.errors import ValidationFailed

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
# The largest page number (a 32-bit integer): its offset, times MAX_PER_PAGE, fits 64 bits.
MAX_PAGE = 2**31 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        if not isinstance(self.page, int) or not 1 <= self.page <= MAX_PAGE:
            raise ValidationFailed.field("page", f"must be a whole number from 1 to {MAX_PAGE}")
        if not isinstance(self.per_page, int) or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValidationFailed.field("per_page", f"must be from 1 to {MAX_PER_PAGE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    # True when counting stopped at a cap: at least ``total`` match ("10,000+").
    total_is_lower_bound: bool = False
    # Whether rows follow this page, when the query read one row past it (None: unknown).
    more: bool | None = None

    @property
    def pages(self) -> int:
        counted = max(1, math.ceil(self.total / self.per_page))
        if self.total_is_lower_bound and self.items:  # past the cap: as far as is known
            return max(counted, self.page + (1 if self.more else 0))
        return counted

    @property
    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def window(self, radius: int = 2) -> list[int | None]:
        """The page numbers a pager shows: the first, the last, and ``radius`` either side of
        this page; ``None`` where numbers are left out. Its length is bounded, whatever the
        number of pages."""
        shown = sorted({1, self.pages}
                       | set(range(max(1, self.page - radius),
                                   min(self.pages, self.page + radius) + 1)))
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n > (numbers[-1] or 0) + 1:
                numbers.append(None)
            numbers.append(n)
        return numbers
