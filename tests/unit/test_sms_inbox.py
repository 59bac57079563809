"""#10, nothing lost on SMS: the inbox (written before the 200, handled once, drained after a
crash), the outbox (a failed part is retried from the queue, in order), the crisis lines at
once when the turn is stuck, and the spool when the database cannot take a message.

The webhook runs over real HTTP on 127.0.0.1 (tests/unit/test_sms_webhook.py's harness),
with a real migrated SQLite database and a fake provider.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage

from bot.channels.sms_inbox import InboxSettings, SmsInbox
from tests.unit.test_sms_webhook import (
    FakeRasa,
    Mount,
    SmsServer,
    _make_channel,
    message,
    new_phone,
    sender_id,
)
from trd.sms.queues import CLAIMED, HANDLED, IN_HAND, NEW, SmsQueues, owner_is_gone
from trd.sms.sender import FakeSmsSender, SmsSendError
from trd.sms.spool import InboxSpool
from trd.store.db import make_engine
from trd.store.migrate import upgrade
from trd.store.sms_models import SmsInbound

CRISIS = "I want to kill myself"


class StuckRasa(FakeRasa):
    """Like FakeRasa; "stuck ..." hangs for a while first, a crisis message answers with the
    crisis text after a hang (as a turn stuck on a hung action server would)."""

    def __init__(self) -> None:
        super().__init__()
        self.hang = 0.0

    async def on_new_message(self, message: UserMessage) -> None:
        if self.hang:
            await asyncio.sleep(self.hang)
        if message.text == CRISIS:
            self.received.append(message)
            from bot.channels import crisis_now

            text = crisis_now.crisis_message(None, "utter_crisis", "twilio")["text"]
            await message.output_channel.send_text_message(message.sender_id, text)
            await message.output_channel.send_text_message(message.sender_id, "Are you safe right now?")
            return
        await super().on_new_message(message)


@pytest.fixture()
def mount(tmp_path: Path) -> Iterator[Mount]:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    channel = _make_channel(url, "rest", FakeSmsSender())
    channel.inbox = SmsInbox(
        channel,
        channel.store,  # type: ignore[arg-type]
        InboxSettings(
            lease_seconds=30, poll_seconds=0.3, accept_wait=2.0, outbox_poll_seconds=0.2, crisis_wait=0.5
        ),
        spool_dir=tmp_path / "spool",
    )
    srv = SmsServer()
    m = srv.mount("/webhooks/twilio", channel, StuckRasa())
    with srv:
        yield m


def _engine(m: Mount) -> sa.engine.Engine:
    assert m.channel.store is not None and m.channel.store._engine is not None
    return m.channel.store._engine


def _inbox_row(m: Mount, sid: str) -> Optional[SmsInbound]:
    with sa.orm.Session(_engine(m)) as session:
        return session.execute(
            sa.select(SmsInbound).where(SmsInbound.message_sid == sid)
        ).scalar_one_or_none()


def _sent(m: Mount, phone: str) -> List[str]:
    assert isinstance(m.channel.sender, FakeSmsSender)
    return m.channel.sender.bodies(phone)


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_message_is_in_the_inbox_before_the_200_and_handled_after_its_turn(mount: Mount) -> None:
    mount.rasa.hang = 1.0  # type: ignore[attr-defined]
    phone = new_phone()
    params = message(phone, "hello")
    r = mount.post(params)
    assert r.status_code == 200
    row = _inbox_row(mount, params["MessageSid"])
    assert row is not None and row.handled_at is None and row.payload_encrypted
    assert "hello" not in row.payload_encrypted and phone not in row.payload_encrypted  # encrypted
    _wait(lambda: _sent(mount, phone) == ["You said: hello"])
    row = _inbox_row(mount, params["MessageSid"])
    assert row is not None and row.handled_at is not None and row.payload_encrypted is None


def test_a_retry_while_the_message_is_handled_is_not_handled_twice(mount: Mount) -> None:
    mount.rasa.hang = 1.0  # type: ignore[attr-defined]
    phone = new_phone()
    params = message(phone, "hello")
    mount.post(params)
    mount.post(params)  # the provider's retry, while the first is still in its turn
    _wait(lambda: len(_sent(mount, phone)) == 1)
    mount.post(params)  # and after it was handled
    time.sleep(0.5)
    assert mount.rasa.texts_from(sender_id(mount, phone)) == ["hello"]
    assert _sent(mount, phone) == ["You said: hello"]


def test_a_retry_of_a_message_whose_handler_died_is_handled_not_dropped(mount: Mount) -> None:
    """A message persisted by a process that then died (kill -9): its retry is handled, once."""
    phone = new_phone()
    params = message(phone, "are you there")
    queues = SmsQueues(mount.channel.store, owner="thishost:999999:dead")  # type: ignore[arg-type]
    assert queues.accept(params["MessageSid"], phone, params["To"], "are you there", 0).outcome == NEW
    # not this machine's process: its lease must run out first; make it so
    with _engine(mount).begin() as conn:
        conn.execute(sa.update(SmsInbound).values(lease_until=sa.func.datetime("now", "-1 minute")))
    mount.post(params)
    _wait(lambda: _sent(mount, phone) == ["You said: are you there"])
    assert mount.rasa.texts_from(sender_id(mount, phone)) == ["are you there"]


def test_unhandled_messages_are_drained_and_a_saved_turn_is_not_run_twice(mount: Mount) -> None:
    phone = new_phone()
    queues = SmsQueues(mount.channel.store, owner="otherhost:1:gone", lease_seconds=5)  # type: ignore[arg-type]
    queues.accept("SM" + "a" * 32, phone, "+15550009999", "first", 0)
    queues.accept("SM" + "b" * 32, phone, "+15550009999", "second", 0)
    with _engine(mount).begin() as conn:
        conn.execute(sa.update(SmsInbound).values(lease_until=sa.func.datetime("now", "-1 minute")))
    _wait(lambda: len(_sent(mount, phone)) == 2)
    assert _sent(mount, phone) == ["You said: first", "You said: second"]  # in order
    assert mount.rasa.texts_from(sender_id(mount, phone)) == ["first", "second"]


def test_a_second_part_that_fails_is_retried_from_the_queue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    channel = _make_channel(url, "rest", FakeSmsSender())
    queues = SmsQueues(channel.store, lease_seconds=30)  # type: ignore[arg-type]
    phone = new_phone()
    accepted = queues.accept("SM" + "c" * 32, phone, "+15550009999", "hi", 0)
    assert accepted.outcome == NEW
    sid_ = channel.store.sender_id_for(phone)  # type: ignore[union-attr]
    queues.complete("SM" + "c" * 32, sid_, ["part one", "part two", "part three"], "+15550009999")

    class FailsOnce(FakeSmsSender):
        calls = 0

        async def send(self, to: str, body: str, from_number: Optional[str] = None) -> str:
            FailsOnce.calls += 1
            if body == "part two" and FailsOnce.calls == 2:
                raise SmsSendError("network error: ClientConnectionError")
            return await super().send(to, body, from_number)

    from trd.sms.delivery import OutboxPump

    sender = FailsOnce()
    pump = OutboxPump(queues, sender)

    async def rounds() -> None:
        for _ in range(6):
            await pump.send_due()

    asyncio.run(rounds())
    assert sender.bodies(phone) == ["part one"]  # part two failed; part three waits behind it
    outbox = queues.outbox(sid_)
    assert [(o["key"].rsplit(":", 1)[1], o["sent"], o["attempts"]) for o in outbox] == [
        ("0", True, 1),
        ("1", False, 1),
        ("2", False, 0),
    ]
    # its retry comes due (backoff): then parts two and three go, in order, once each
    with make_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE trd_sms_outbox SET next_attempt_at = '2000-01-01 00:00:00'"))
    asyncio.run(rounds())
    assert sender.bodies(phone) == ["part one", "part two", "part three"]
    # a restart re-sends only what was not acknowledged: nothing here
    queues.complete("SM" + "c" * 32, sid_, ["part one", "part two", "part three"], "+15550009999")
    asyncio.run(rounds())
    assert sender.bodies(phone) == ["part one", "part two", "part three"]
    assert "part two" not in str(queues.outbox(sid_)[0]["key"])  # keys, not texts


def test_a_crisis_gets_the_crisis_lines_while_its_turn_is_stuck_and_not_twice(mount: Mount) -> None:
    mount.rasa.hang = 2.0  # type: ignore[attr-defined]
    phone = new_phone()
    start = time.monotonic()
    mount.post(message(phone, CRISIS))
    _wait(lambda: len(_sent(mount, phone)) >= 1, timeout=5)
    assert time.monotonic() - start < 1.5
    [first] = _sent(mount, phone)
    assert "Text 988" in first
    _wait(lambda: len(_sent(mount, phone)) >= 2, timeout=10)
    time.sleep(0.5)
    assert _sent(mount, phone) == [first, "Are you safe right now?"]  # the turn's copy is not repeated


def test_when_the_database_cannot_take_a_message_it_is_spooled_and_moved_in_later(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    channel = _make_channel(url, "rest", FakeSmsSender())  # not migrated yet: the inbox table is missing
    inbox = SmsInbox(channel, channel.store, InboxSettings(), spool_dir=tmp_path / "spool")  # type: ignore[arg-type]
    phone = new_phone()
    from bot.channels.sms import Inbound

    assert channel.store is not None
    inbound = Inbound(
        "SM" + "d" * 32, phone, "+15550009999", "I need help", 0, channel.store.sender_id_for(phone)
    )
    accepted = asyncio.run(inbox.accept(inbound))
    assert accepted.outcome == NEW
    raw = (tmp_path / "spool" / "inbox.journal").read_bytes()
    assert b"I need help" not in raw and phone.encode() not in raw  # encrypted on disk
    upgrade(url)  # the database is back
    assert inbox.spool.replay(inbox.queues.restore) == 1
    [pending] = inbox.queues.claim_pending()
    assert (pending.message_sid, pending.body, pending.phone) == ("SM" + "d" * 32, "I need help", phone)
    assert inbox.spool.entries() == []


def test_accept_outcomes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    channel = _make_channel(url, "rest", FakeSmsSender())
    a = SmsQueues(channel.store, lease_seconds=30, owner="hostA:1:x")  # type: ignore[arg-type]
    b = SmsQueues(channel.store, lease_seconds=30, owner="hostB:2:y")  # type: ignore[arg-type]
    phone = new_phone()
    sid = "SM" + "e" * 32
    assert a.accept(sid, phone, "", "hi", 0).outcome == NEW
    assert b.accept(sid, phone, "", "hi", 0).outcome == IN_HAND  # a holds a live lease
    assert b.claim_pending() == []
    with make_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE trd_sms_inbound SET lease_until = '2000-01-01 00:00:00'"))
    assert b.accept(sid, phone, "", "hi", 0).outcome == CLAIMED
    b.complete(sid, channel.store.sender_id_for(phone), [], None)  # type: ignore[union-attr]
    assert a.accept(sid, phone, "", "hi", 0).outcome == HANDLED


def test_a_lease_of_a_gone_process_on_this_machine_is_free_at_once() -> None:
    import os
    import socket

    me = f"{socket.gethostname()[:80]}:{os.getpid()}:now"
    assert owner_is_gone(f"{socket.gethostname()[:80]}:{os.getpid()}:before", me)  # restarted, same pid
    assert owner_is_gone(f"{socket.gethostname()[:80]}:999999:x", me)
    assert not owner_is_gone(f"{socket.gethostname()[:80]}:{os.getppid()}:x", me)  # alive
    assert not owner_is_gone("elsewhere:999999:x", me)  # another machine: wait for the lease
    assert not owner_is_gone(me, me)


def test_the_spool_takes_messages_while_a_replay_waits_for_the_database(tmp_path: Path) -> None:
    import threading

    from cryptography.fernet import Fernet

    spool = InboxSpool(tmp_path / "spool", Fernet(Fernet.generate_key()))
    spool.received("SM1", "sms-a", {"from": "+15550001111", "body": "one"}, "2024-01-01T00:00:00+00:00")
    started = threading.Event()

    def slow_failing_restore(*args: object) -> None:
        started.set()
        time.sleep(1.0)  # a locked database
        raise RuntimeError("database is locked")

    replay = threading.Thread(target=spool.replay, args=(slow_failing_restore,))
    replay.start()
    started.wait(5)
    t0 = time.monotonic()
    spool.received("SM2", "sms-b", {"from": "+15550002222", "body": "two"}, "2024-01-01T00:00:01+00:00")
    assert time.monotonic() - t0 < 0.5  # not held up by the replay
    replay.join()
    assert sorted(e["sid"] for e in spool.entries()) == ["SM1", "SM2"]  # the failed one is kept
    restored: List[str] = []
    assert spool.replay(lambda sid, *rest: restored.append(sid)) == 2
    assert sorted(restored) == ["SM1", "SM2"] and spool.entries() == []


def test_a_failed_message_is_given_back_as_soon_as_the_database_takes_writes_again(
    mount: Mount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not left until its lease runs out: the write-locked database fault (tests/faults/) then
    left a crisis message's turn waiting minutes after the database was back."""
    import bot.channels.sms_inbox as sms_inbox

    monkeypatch.setattr(sms_inbox, "RELEASE_RETRY_SECONDS", 0.05)
    inbox = mount.channel.inbox
    assert inbox is not None
    calls: List[str] = []

    def release(sid: str, retry_after: float) -> None:
        calls.append(sid)
        if len(calls) < 3:
            raise sa.exc.OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(inbox.queues, "release", release)
    asyncio.run(inbox._release_later("SM-locked"))
    assert calls == ["SM-locked"] * 3  # twice refused, then given back, then no more tries


def test_a_reply_queued_before_the_number_is_on_file_waits_for_it(tmp_path: Path) -> None:
    """A message spooled while the database was away gets its number back when the spool is
    replayed; its turn's replies may be queued first. They wait (backoff), not given up at once
    (the write-locked database fault lost a crisis conversation's replies that way)."""
    url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    upgrade(url)
    channel = _make_channel(url, "rest", FakeSmsSender())
    queues = SmsQueues(channel.store, lease_seconds=30)  # type: ignore[arg-type]
    phone = new_phone()
    queues.accept("SM" + "d" * 32, phone, "+15550009999", "hi", 0)
    sid_ = channel.store.sender_id_for(phone)  # type: ignore[union-attr]
    with make_engine(url).begin() as conn:  # as if the contact were still in the spool
        saved = conn.execute(sa.text("SELECT * FROM trd_sms_contacts")).mappings().all()
        conn.execute(sa.text("DELETE FROM trd_sms_contacts"))
    queues.complete("SM" + "d" * 32, sid_, ["your reply"], "+15550009999")

    from trd.sms.delivery import OutboxPump

    sender = FakeSmsSender()
    pump = OutboxPump(queues, sender)
    asyncio.run(pump.send_due())
    assert sender.bodies(phone) == []
    [part] = queues.outbox(sid_)
    assert (part["sent"], part["attempts"]) == (False, 1)  # waiting, not given up
    with make_engine(url).begin() as conn:  # the spool is replayed: the number is on file again
        for row in saved:
            columns, values = ", ".join(row), ", ".join(":" + k for k in row)
            conn.execute(sa.text(f"INSERT INTO trd_sms_contacts ({columns}) VALUES ({values})"), dict(row))
        conn.execute(sa.text("UPDATE trd_sms_outbox SET next_attempt_at = '2000-01-01 00:00:00'"))
    asyncio.run(pump.send_due())
    assert sender.bodies(phone) == ["your reply"]
