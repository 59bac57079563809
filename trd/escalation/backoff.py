"""When a failed delivery is tried again: exponential backoff with a cap and jitter.

Attempt ``n`` (1 = the first try) that failed is retried after

    min(cap, base * 2 ** (n - 1)) * uniform(1 - JITTER, 1)

so the delays grow 1x, 2x, 4x ... the base until they reach the cap, and then stay
there for as long as it takes: an escalation is never given up. The jitter spreads
retries of many rows (and of several workers) apart; it only ever shortens a delay,
so the cap is a true upper bound.
"""

from __future__ import annotations

import random
from typing import Callable

JITTER = 0.25
_MAX_EXPONENT = 62  # 2**62 * any sane base is far above any cap; avoids float overflow


def nominal_delay(attempt: int, base: float, cap: float) -> float:
    """The delay before retrying after failed attempt ``attempt``, without jitter."""
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if base <= 0 or cap < base:
        raise ValueError("need 0 < base <= cap")
    return min(cap, base * float(2 ** min(attempt - 1, _MAX_EXPONENT)))


def retry_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """The jittered delay: within [(1 - JITTER) * nominal, nominal]."""
    nominal = nominal_delay(attempt, base, cap)
    return nominal * (1.0 - JITTER * rand())
