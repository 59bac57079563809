"""Session-wide deployments shared by several integration test modules."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.support.fake_twilio import FakeTwilio
from tests.support.restarts import RestartedStack
from tests.support.servers import Stack
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, SmsStacks


@pytest.fixture(scope="session")
def sms_fake() -> Iterator[FakeTwilio]:
    """The fake Twilio API the session's SMS stack sends its REST-mode replies to."""
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as f:
        yield f


@pytest.fixture(scope="session")
def sms_stacks(make_stack: Callable[..., Stack], sms_fake: FakeTwilio) -> SmsStacks:
    """One SMS deployment for test_sms_channel.py and test_sms_intake.py (``in_mode("rest")``)."""
    return SmsStacks(make_stack, sms_fake)


@pytest.fixture(scope="session")
def restarted_stack(stack: Stack) -> RestartedStack:
    """The shared stack after one restart of its Rasa server, with every restart scenario
    begun before it (tests/support/restarts.py); each test finishes its own scenario."""
    from tests.integration.test_intake import pause_then_resume
    from tests.integration.test_restart import conversation_survives_restart

    return RestartedStack(
        stack,
        {
            "pause_then_resume": pause_then_resume,
            "conversation_survives_restart": conversation_survives_restart,
        },
    )
