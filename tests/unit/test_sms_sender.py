"""AioHttpTwilioSender against the fake Twilio API on 127.0.0.1: form, auth, retries, failures."""

from __future__ import annotations

import asyncio
import socket
from typing import Iterator, List

import pytest

from tests.support.fake_twilio import FakeTwilio
from trd.sms.sender import AioHttpTwilioSender, FakeSmsSender, SmsSendError

SID = "AC" + "1" * 32
TOKEN = "tok-" + "2" * 28
TO = "+15551230000"


@pytest.fixture()
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as f:
        yield f


def _sender(
    base: str, token: str = TOKEN, sleeps: List[float] | None = None, **kw: object
) -> AioHttpTwilioSender:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return AioHttpTwilioSender(SID, token, api_base=base, sleep=sleep, **kw)  # type: ignore[arg-type]


async def _send(sender: AioHttpTwilioSender, body: str, from_number: str | None = "+15559990000") -> str:
    try:
        return await sender.send(TO, body, from_number=from_number)
    finally:
        await sender.close()


@pytest.mark.slow
def test_posts_the_message_form_with_basic_auth(fake: FakeTwilio) -> None:
    sid = asyncio.run(_send(_sender(fake.base_url), "Hello & welcome: 100% = ok"))
    [msg] = fake.messages
    assert (msg.to, msg.from_number, msg.body, msg.account_sid) == (
        TO,
        "+15559990000",
        "Hello & welcome: 100% = ok",
        SID,
    )
    assert sid == msg.sid and sid.startswith("SM")


@pytest.mark.slow
def test_the_configured_from_number_wins(fake: FakeTwilio) -> None:
    asyncio.run(_send(_sender(fake.base_url, from_number="+15550001111"), "Hi"))
    assert fake.messages[0].from_number == "+15550001111"


@pytest.mark.slow
def test_without_any_from_number_nothing_is_sent(fake: FakeTwilio) -> None:
    with pytest.raises(SmsSendError, match="TWILIO_FROM_NUMBER"):
        asyncio.run(_send(_sender(fake.base_url), "Hi", from_number=None))
    assert fake.requests == 0


@pytest.mark.slow
@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_temporary_failures_are_retried_with_backoff(fake: FakeTwilio, status: int) -> None:
    fake.fail_next(2, status=status)
    sleeps: List[float] = []
    asyncio.run(_send(_sender(fake.base_url, sleeps=sleeps, base_delay=0.5), "Hello"))
    assert [m.body for m in fake.messages] == ["Hello"]
    assert fake.requests == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 0.55 and 1.0 <= sleeps[1] <= 1.1


@pytest.mark.slow
def test_retry_after_is_honoured_within_the_bound(fake: FakeTwilio) -> None:
    fake.fail_next(1, status=429, retry_after="3")
    sleeps: List[float] = []
    asyncio.run(_send(_sender(fake.base_url, sleeps=sleeps, max_delay=8.0), "Hello"))
    assert 3.0 <= sleeps[0] <= 3.3
    fake.fail_next(1, status=429, retry_after="3600")
    sleeps.clear()
    asyncio.run(_send(_sender(fake.base_url, sleeps=sleeps, max_delay=8.0), "Again"))
    assert sleeps[0] <= 8.8


@pytest.mark.slow
def test_retries_are_bounded(fake: FakeTwilio) -> None:
    fake.fail_next(10, status=503)
    sleeps: List[float] = []
    with pytest.raises(SmsSendError) as info:
        asyncio.run(_send(_sender(fake.base_url, sleeps=sleeps, max_attempts=3), "Hello"))
    assert info.value.status == 503 and "3 attempts" in str(info.value)
    assert fake.requests == 3 and len(sleeps) == 2 and fake.messages == []


@pytest.mark.slow
def test_a_refused_message_is_not_retried_and_reports_the_code_only(fake: FakeTwilio) -> None:
    with pytest.raises(SmsSendError) as info:
        asyncio.run(_send(_sender(fake.base_url), ""))  # the fake refuses an empty body (21602)
    assert (info.value.status, info.value.code) == (400, 21602)
    assert fake.requests == 1
    assert TO not in str(info.value)


@pytest.mark.slow
def test_wrong_credentials_fail_at_once(fake: FakeTwilio) -> None:
    with pytest.raises(SmsSendError) as info:
        asyncio.run(_send(_sender(fake.base_url, token="wrong"), "Hello"))
    assert info.value.status == 401 and fake.requests == 1


def test_network_errors_are_retried_then_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    sleeps: List[float] = []
    with pytest.raises(SmsSendError, match="network error"):
        asyncio.run(_send(_sender(f"http://127.0.0.1:{port}", sleeps=sleeps, max_attempts=2), "Hello"))
    assert len(sleeps) == 1


def test_fake_sender_records_and_fails_on_demand() -> None:
    fake = FakeSmsSender()
    asyncio.run(fake.send(TO, "one", "+1"))
    assert fake.bodies(TO) == ["one"]
    fake.fail_with = SmsSendError("down", 503)
    with pytest.raises(SmsSendError):
        asyncio.run(fake.send(TO, "two"))
    assert fake.bodies() == ["one"]
