"""The SMS deployment shared by the SMS integration tests: one stack per test session.

tests/integration/test_sms_channel.py (REST mode, then TwiML) and test_sms_intake.py (TwiML)
use the same servers: the Rasa server restarts only when the reply mode changes. Requests
are signed with these credentials; replies in REST mode go to a fake Twilio API.
"""

from __future__ import annotations

import uuid
from typing import Callable, Dict, Optional

from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import Stack

ACCOUNT_SID = "AC" + uuid.uuid4().hex
AUTH_TOKEN = uuid.uuid4().hex
SERVICE_NUMBER = "+15550100000"


class SmsStacks:
    """The session's SMS stack, started on first use in the reply mode asked for."""

    def __init__(self, make_stack: Callable[..., Stack], fake: FakeTwilio) -> None:
        self._make_stack = make_stack
        self._fake = fake
        self._stack: Optional[Stack] = None

    def env(self, mode: str) -> Dict[str, str]:
        return {
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_FROM_NUMBER": SERVICE_NUMBER,
            "TWILIO_API_BASE": self._fake.base_url,
            "SMS_REPLY_MODE": mode,
        }

    def in_mode(self, mode: str) -> Stack:
        """The stack with ``SMS_REPLY_MODE=mode`` (restarting the Rasa server to change it)."""
        if self._stack is None:
            self._stack = self._make_stack(extra_env=self.env(mode))
        elif self._stack.env.get("SMS_REPLY_MODE") != mode:
            self._stack.env["SMS_REPLY_MODE"] = mode
            self._stack.restart_rasa()
        return self._stack
