"""Two check-in schedulers and a kill -9 of one mid-batch: every due check-in is texted exactly once.

On SQLite and on PostgreSQL (where the due rows are claimed FOR UPDATE SKIP LOCKED). Twenty
people are due at once; two workers take batches of three; when the first texts have gone
out, one worker is killed with SIGKILL and a new one is started in its place (a restart).
The rows the dead worker held come back when their lease (3 s here) runs out: from the
kill on, the shared clock runs one second a second. At the end
every person has received the week's first question exactly once, every check-in is
``sent`` with next week's scheduled, and the audit shows the abandoned attempts.
"""

from __future__ import annotations

import signal
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from tests.support.checkins import SharedClock, Workers
from tests.support.fake_twilio import FakeTwilio
from tests.support.postgres import fresh_database
from tests.support.servers import Stack
from trd.checkins.config import CheckinConfig
from trd.checkins.store import CheckinStore
from trd.sms.store import PhoneVault, SmsStore
from trd.store.db import make_engine

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACCOUNT_SID = "AC" + uuid.uuid4().hex
AUTH_TOKEN = uuid.uuid4().hex
SERVICE = "+15550100888"
START = datetime(2026, 6, 1, 14, 0, tzinfo=timezone.utc)  # Monday 10:00 in New York
PEOPLE = 20
FIRST_QUESTION = "(1 of 9) Little interest or pleasure in doing things"


def run_scenario(make_stack: Callable[..., Stack], tmp_path: Path, database_url: str = "") -> None:
    clock_file = tmp_path / "now.txt"
    clock = SharedClock(clock_file, START)
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        stack = make_stack(
            database_url=database_url or None,
            extra_env={
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_FROM_NUMBER": SERVICE,
                "TWILIO_API_BASE": fake.base_url, "SMS_REPLY_MODE": "rest",
                "CHECKIN_CLOCK_FILE": str(clock_file), "CHECKIN_POLL_SECONDS": "0.2",
                "CHECKIN_BATCH_SIZE": "3", "CHECKIN_LEASE_SECONDS": "3",
            },
        )
        engine = make_engine(stack.database_url)
        store = CheckinStore(engine, config=CheckinConfig(), clock=clock)
        sms = SmsStore(PhoneVault(stack.env["PHONE_HASH_SECRET"]), engine=engine)
        phones: Dict[str, str] = {}
        for i in range(PEOPLE):
            phone = f"+1212556{i:04d}"
            state = sms.ensure_contact(phone)
            store.subscribe(state.sender_id, "sms", "America/New_York", state.sender_id)
            phones[phone] = state.sender_id
        clock.to(START + timedelta(days=7))

        workers = Workers(stack)
        try:
            # the clock stands still until the first texts are out, then runs, one second a
            # second: the dead worker's leases (3 s) run out only as time goes on, as in a
            # deployment (a clock that stood still would keep its rows forever)
            workers.start("w1")
            workers.start("w2")
            fake.wait_for(lambda msgs: len(msgs) >= 5, timeout=120)
            with clock.running():
                assert workers.stop("w1", signal.SIGKILL) == -signal.SIGKILL  # mid-batch
                workers.start("w3")  # a restart
                fake.wait_for(
                    lambda msgs: len({m.to for m in msgs if FIRST_QUESTION in m.body}) >= PEOPLE,
                    timeout=240,
                )
                time.sleep(5)  # longer than a lease: anything sent twice would show now
            messages = fake.messages
        finally:
            workers.stop_all()
        per_phone: Dict[str, List[str]] = {}
        for m in messages:
            per_phone.setdefault(m.to, []).append(m.body)
        assert set(per_phone) == set(phones)
        twice = {p: b for p, b in per_phone.items() if sum(FIRST_QUESTION in x for x in b) != 1}
        assert twice == {}, twice
        for sender in phones.values():
            sub = store.subscription(sender)
            assert sub is not None
            assert [c.status for c in store.checkins(sub.id)] == ["sent", "scheduled"]
        for name in ("w2", "w3"):
            assert "Traceback" not in workers.tail(name, 100_000), workers.tail(name)
        store.dispose()
        engine.dispose()
        stack.stop()  # free its memory now (the session's teardown stops it again, harmlessly)


def test_two_workers_and_a_kill_on_sqlite(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    run_scenario(make_stack, tmp_path)


@pytest.mark.postgres
def test_two_workers_and_a_kill_on_postgresql(
    make_stack: Callable[..., Stack], tmp_path: Path, postgres_url: str
) -> None:
    run_scenario(make_stack, tmp_path, fresh_database("checkin_workers"))
