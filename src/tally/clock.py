"""One injectable clock (C13.2, C23): the server's idea of "now"."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time, optionally shifted so that tests can move "now" (C23.2)."""

    def __init__(self) -> None:
        self._offset = 0.0

    def time(self) -> float:
        return time.time() + self._offset

    def now(self) -> int:
        """Unix seconds, as the API speaks timestamps."""
        return int(self.time())

    def set(self, timestamp: float) -> None:
        # Shift rather than freeze: time keeps flowing from the new "now".
        self._offset = timestamp - time.time()
