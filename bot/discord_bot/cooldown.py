"""A per-user rate limit: at most ``uses`` questions per ``seconds`` window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Cooldown:
    """Sliding-window limiter keyed by user id.

    Example:
        >>> c = Cooldown(uses=1, seconds=10, clock=lambda: 0.0)
        >>> c.try_acquire(1), c.try_acquire(1)
        (0.0, 10.0)
    """

    def __init__(
        self, uses: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.uses = uses
        self.seconds = seconds
        self._clock = clock
        self._history: dict[int, deque[float]] = {}

    def try_acquire(self, user_id: int) -> float:
        """Record a use and return 0, or return the seconds to wait (recording nothing)."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        history = self._history.setdefault(user_id, deque())
        while history and now - history[0] >= self.seconds:
            history.popleft()
        if len(history) >= self.uses:
            return self.seconds - (now - history[0])
        history.append(now)
        return 0.0
