"""The safety suite's session fixture; the reporting lives in tests/support/safety_report.py."""

from __future__ import annotations

import pytest

from tests.support.safety_report import SafetyResults, results_for


@pytest.fixture(scope="session")
def safety_results(request: pytest.FixtureRequest) -> SafetyResults:
    return results_for(request.config)
