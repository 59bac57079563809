"""The retry schedule: doubling from the base, capped, jittered downwards only, never ending."""

from __future__ import annotations

import pytest

from trd.escalation.backoff import JITTER, nominal_delay, retry_delay


def test_delays_double_from_the_base_up_to_the_cap() -> None:
    assert [nominal_delay(n, 2.0, 60.0) for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]
    assert [nominal_delay(n, 0.5, 3.0) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


def test_retries_go_on_at_the_cap_however_many_attempts_failed() -> None:
    for attempt in (50, 1_000, 10**6):
        assert nominal_delay(attempt, 2.0, 60.0) == 60.0
        assert 60.0 * (1 - JITTER) <= retry_delay(attempt, 2.0, 60.0) <= 60.0


@pytest.mark.parametrize("attempt", [1, 2, 3, 7, 40])
def test_jitter_stays_within_a_quarter_below_the_nominal_delay(attempt: int) -> None:
    nominal = nominal_delay(attempt, 1.0, 30.0)
    assert retry_delay(attempt, 1.0, 30.0, rand=lambda: 0.0) == nominal
    assert retry_delay(attempt, 1.0, 30.0, rand=lambda: 1.0) == pytest.approx(nominal * (1 - JITTER))
    samples = [retry_delay(attempt, 1.0, 30.0) for _ in range(200)]
    assert all(nominal * (1 - JITTER) <= s <= nominal for s in samples)
    assert len(set(samples)) > 100  # really jittered: workers do not retry in lockstep


@pytest.mark.parametrize(("attempt", "base", "cap"), [(0, 1.0, 2.0), (1, 0.0, 2.0), (1, 3.0, 2.0)])
def test_nonsense_is_refused(attempt: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError):
        nominal_delay(attempt, base, cap)
