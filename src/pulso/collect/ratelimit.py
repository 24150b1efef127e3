"""Per-key token buckets counted in events, in-process (each server worker limits on its own)."""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    """``rate`` events per second sustained, up to ``burst`` at once, per key."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}  # key id -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: int, events: int) -> float:
        """Spend ``events`` tokens; 0.0 when allowed, else the seconds to wait before retrying (nothing spent)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if events <= tokens:
                self._buckets[key] = (tokens - events, now)
                return 0.0
            self._buckets[key] = (tokens, now)
        if events > self.burst or self.rate <= 0:
            return math.inf
        return (events - tokens) / self.rate
