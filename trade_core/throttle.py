"""Client-side pacing and retry policy for calls to an exchange, independent of which one.

A token bucket keeps request rates under an exchange's limit; :class:`RetryPolicy` computes
exponential backoff with a cap. Both take injectable ``clock``/``sleep`` so tests run on a fake
clock. Venue adapters (Bybit REST today, the live venue later) build their retry decorators on
these instead of sprinkling loops through callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from trade_core.errors import BadInputError

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """Token bucket: ``rate_per_s`` tokens per second, at most ``burst`` stored.

    Each request takes one token; without one, :meth:`acquire` sleeps exactly until the
    next token is due. ``clock`` (seconds, monotonic) and ``sleep`` are injectable so tests
    run on a fake clock. Thread-safe: concurrent callers queue on one lock.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not rate_per_s > 0:
            raise BadInputError(f"rate limit must be > 0 requests/s, got {rate_per_s}")
        self.rate_per_s = float(rate_per_s)
        self.capacity = max(1.0, float(burst) if burst is not None else self.rate_per_s)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting if none is left; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                elapsed = max(0.0, now - self._last)
                self._tokens = min(self.capacity, self._tokens + elapsed * self.rate_per_s)
                self._last = now
                if self._tokens >= 1.0 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                delay = (1.0 - self._tokens) / self.rate_per_s
                self._sleep(delay)
                waited += delay


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: retry ``n`` (1-based) waits ``base * multiplier**(n-1)`` s, capped.

    ``attempts`` counts every try, the first included (4 = one try and three retries).
    """

    attempts: int = 4
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise BadInputError(f"retry attempts must be >= 1, got {self.attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.multiplier < 1:
            raise BadInputError("retry delays must be >= 0 and the multiplier >= 1")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 = the first retry)."""
        if retry < 1:
            raise ValueError(f"retry numbers start at 1, got {retry}")
        return min(self.max_delay_s, self.base_delay_s * self.multiplier ** (retry - 1))

    def delays(self) -> list[float]:
        """Every wait of a call that fails all its attempts, in order (s)."""
        return [self.delay(n) for n in range(1, self.attempts)]
