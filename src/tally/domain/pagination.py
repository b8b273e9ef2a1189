"""Page arithmetic and the Link header of C7."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote_plus

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 100


def clamp_page(raw: object) -> int:
    """C7.2: 1-based; anything below 1 or not a number is 1."""
    try:
        page = int(str(raw).strip())
    except (TypeError, ValueError):
        return 1
    return max(page, 1)


def clamp_per_page(raw: object) -> int:
    """C7.3: default and maximum 100; 0 or absent means 100; negative means 1."""
    if raw is None:
        return DEFAULT_PER_PAGE
    try:
        per_page = int(str(raw).strip())
    except (TypeError, ValueError):
        return DEFAULT_PER_PAGE
    if per_page == 0:
        return DEFAULT_PER_PAGE
    if per_page < 0:
        return 1
    return min(per_page, MAX_PER_PAGE)


@dataclass(frozen=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def last(self, total: int) -> int:
        return max(1, -(-total // self.per_page))


def _encode(pairs: list[tuple[str, str]]) -> str:
    # quote_plus encodes `[`, `]` and `,`; commas must never appear literally (C7.6).
    return "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in pairs)


def link_header(base: str, path: str, query: list[tuple[str, str]], page: Page, total: int) -> str:
    """Build `Link` with rels self, first, previous, next, last in that order (C7.5, C7.6)."""
    kept = [(k, v) for k, v in query if k not in ("page", "per_page")]
    url_base = base.rstrip("/") + ("/" + path.strip("/") if path.strip("/") else "")

    def url(number: int) -> str:
        pairs = [*kept, ("page", str(number))]
        if page.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(page.per_page)))
        return f"<{url_base}?{_encode(pairs)}>"

    last = page.last(total)
    parts = [f'{url(page.page)}; rel="self"', f'{url(1)}; rel="first"']
    if page.page > 1:
        parts.append(f'{url(page.page - 1)}; rel="previous"')
    if page.page < last:
        parts.append(f'{url(page.page + 1)}; rel="next"')
    parts.append(f'{url(last)}; rel="last"')
    return ", ".join(parts)
