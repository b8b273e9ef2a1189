"""Job retry rules (issue 5): when a failed attempt runs again, and when to stop."""

from __future__ import annotations


def retry_delay(attempts: int, base: int, cap: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt: exponential, capped.

    base 30, cap 3600: 30, 60, 120, 240, ... 1920, then 3600 every time.
    """
    if attempts < 1 or base <= 0:
        return 0
    # 2^(n-1) overflows nothing in Python, but cap the exponent so huge attempt counts stay cheap.
    return min(cap, base * (1 << min(attempts - 1, 32)))


def gives_up(attempts: int, max_attempts: int) -> bool:
    """True once the attempt just made was the last one allowed."""
    return attempts >= max_attempts


def error_text(exc: BaseException, limit: int = 2000) -> str:
    """What a failed attempt leaves in `last_error`: the exception, bounded."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
