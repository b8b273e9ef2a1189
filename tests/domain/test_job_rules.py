"""Golden values for job retries (issue 5: retries with backoff)."""

from __future__ import annotations

import pytest

from tally.domain.jobs import error_text, gives_up, retry_delay


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [(0, 0), (1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (9, 3600), (500, 3600)],
)
def test_retry_delay_doubles_then_caps(attempts: int, expected: int) -> None:
    assert retry_delay(attempts, base=30, cap=3600) == expected


def test_retry_delay_with_zero_base_retries_at_once() -> None:
    assert retry_delay(5, base=0, cap=3600) == 0


def test_gives_up_on_the_last_allowed_attempt() -> None:
    assert not gives_up(2, 3)
    assert gives_up(3, 3)
    assert gives_up(4, 3)


def test_error_text_names_the_exception_and_is_bounded() -> None:
    assert error_text(ConnectionRefusedError(111, "refused")) == (
        "ConnectionRefusedError: [Errno 111] refused"
    )
    long = error_text(ValueError("x" * 5000), limit=100)
    assert len(long) == 100
    assert long.endswith("…")
