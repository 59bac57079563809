"""Eight weekly check-ins over SMS through the real servers, with a fake clock (issue 12).

The stack runs in REST reply mode against a fake Twilio API; every inbound message is a
Twilio-format webhook signed with the account's auth token (twilio's own RequestValidator).
The scheduler worker (``python -m trd.checkins.worker``) and the escalation worker run as
processes; every process reads "now" for the check-ins from one clock file, so the eight
weeks (from 2 March 2026, across the clocks going forward on 8 March) take a few minutes.

Checked, message by message: opting in with the time zone guessed from a New York number,
each week's check-in at 10:00 New York time (after daylight saving too), every PHQ-9 item,
the line comparing with last time and the intake with the next date, the "what changed"
note, "later" at 8:30 pm (quiet hours: asked again at 9:00 the next morning, nothing at
10 pm), a reminder, a missed week, a worsening that notifies the care team, item 9 above zero
taking the crisis path mid check-in (resources and the safety question in the same turn,
escalated), STOP (no check-in texted) and START, pause and resume, and at the end the
clinician's record, summary JSON and chart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.support.checkins import SharedClock, Workers
from tests.support.escalation_receiver import EscalationReceiver
from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACCOUNT_SID = "AC" + uuid.uuid4().hex
AUTH_TOKEN = uuid.uuid4().hex
SERVICE = "+15550100999"
START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 EST

ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety "
    "or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
INTRO = (
    "Time for your weekly check-in. Over the last 2 weeks, how often have you been bothered by any of the "
    "following problems?\nReply 0 for not at all, 1 for several days, 2 for more than half the days, 3 for "
    "nearly every day. You can also reply skip, later, or stop check-ins."
)
REMINDER = "A gentle reminder: your weekly check-in is still open whenever you have two minutes."
NOTE_Q = (
    "Has anything changed since last time (a new medicine, a dose, therapy)? Reply in a few words and I'll "
    "note it for your clinician, or reply no."
)
THANKS = "Thank you for checking in. Take care until next time."
NOTED = "Thank you, I've noted that for your clinician. Take care until next time."


def item(i: int) -> str:
    return f"({i} of 9) {ITEMS[i - 1]}\nReply 0, 1, 2 or 3 (or skip, later)."


class Person:
    """One phone texting the stack, and what it receives."""

    def __init__(self, stack: Stack, fake: FakeTwilio, phone: str) -> None:
        self.stack, self.fake, self.phone = stack, fake, phone
        self.seen = 0

    def _received(self) -> List[str]:
        return [m.body for m in self.fake.messages_to(self.phone)]

    def say(self, body: str) -> str:
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": self.phone,
            "To": SERVICE,
            "NumMedia": "0",
            "Body": body,
        }
        url = self.stack.env["PUBLIC_BASE_URL"] + "/webhooks/twilio/webhook"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        r = requests.post(
            self.stack.base_url + "/webhooks/twilio/webhook",
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=90,
        )
        assert r.status_code == 200, r.text
        return self.receive()

    def receive(self, timeout: float = 60) -> str:
        """The texts that arrive next (waits for one, then until quiet)."""
        self.fake.wait_for(lambda _: len(self._received()) > self.seen, timeout=timeout)
        self.fake.settle(quiet=0.8, timeout=timeout)
        new = self._received()[self.seen :]
        self.seen += len(new)
        return "\n\n".join(new)

    def nothing_for(self, seconds: float) -> None:
        time.sleep(seconds)
        extra = self._received()[self.seen :]
        assert extra == [], f"unexpected texts: {extra}"

    def checkin(self, answers: List[int], intro: str = INTRO, first: int = 1) -> str:
        """Answer a check-in that has just arrived; returns the line after the ninth item."""
        reply = ""
        for n, answer in enumerate(answers, first):
            reply = self.say(str(answer))
            if n < 9:
                assert reply == item(n + 1), (n, reply)
        return reply


@pytest.fixture(scope="module")
def deployment(
    make_stack: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dict[str, Any]]:
    secret = secrets.token_hex(16)
    clock_file = Path(tmp_path_factory.mktemp("clock")) / "now.txt"
    clock = SharedClock(clock_file, START)
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake, EscalationReceiver(secret) as receiver:
        stack = make_stack(
            extra_env={
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_FROM_NUMBER": SERVICE,
                "TWILIO_API_BASE": fake.base_url,
                "SMS_REPLY_MODE": "rest",
                "CHECKIN_CLOCK_FILE": str(clock_file),
                "CHECKIN_POLL_SECONDS": "0.2",
                "CHECKIN_LATER_SECONDS": "3600",
                "ESCALATION_WEBHOOK_URL": receiver.url,
                "ESCALATION_WEBHOOK_SECRET": secret,
                "ESCALATION_POLL_SECONDS": "0.2",
            }
        )
        stack.start_worker()
        workers = Workers(stack)
        workers.start("w1")
        try:
            yield {"stack": stack, "fake": fake, "receiver": receiver, "clock": clock, "workers": workers}
        finally:
            workers.stop_all()
            stack.stop()  # not left polling once the module is done


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def test_eight_weekly_check_ins_over_sms(deployment: Dict[str, Any]) -> None:
    stack: Stack = deployment["stack"]
    fake: FakeTwilio = deployment["fake"]
    receiver: EscalationReceiver = deployment["receiver"]
    clock: SharedClock = deployment["clock"]
    workers: Workers = deployment["workers"]
    me = Person(stack, fake, f"+1212555{uuid.uuid4().int % 10000:04d}")

    # The intake's PHQ-9 (the baseline: 16), then a pause.
    assert "988" in me.say("hi")
    assert "Reply 0" in me.say("yes, let's start")
    for answer in [2, 2, 2, 2, 2, 2, 2, 2]:
        me.say(str(answer))
    me.say("0")
    me.say("pause")

    # Opting in: the time zone is guessed from the New York area code, and confirmed.
    assert me.say("weekly check-ins") == (
        "Your number looks like it's on Eastern time. Is that right? Reply yes, or tell me your time zone "
        "(like Central or Pacific)."
    )
    assert me.say("yes") == (
        "You're signed up. Your first check-in comes on Monday 9 March around 10:00 am (Eastern time). "
        'I never text between 9 pm and 9 am your time. Reply "pause check-ins", "resume check-ins" or '
        '"stop check-ins" at any time; STOP ends all texts.'
    )

    # Week 1, after the clocks went forward: 10:00 EDT is 14:00 UTC, not 15:00.
    clock.to(at(9, 3, 13, 59))
    me.nothing_for(1.5)
    clock.to(at(9, 3, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    assert me.checkin([2, 2, 2, 2, 1, 1, 2, 1, 0]) == (
        "Your total this week is 13 out of 27: 3 lower than at your intake (16). Lower means fewer symptoms. "
        "Your next check-in is on Monday 16 March.\n\n" + NOTE_Q
    )
    assert me.say("started sertraline 50 mg") == NOTED

    # Week 2: two answers, then "later" at 8:30 pm: quiet hours put it off to 9:00 the next morning.
    clock.to(at(16, 3, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    assert me.say("1") == item(2)
    clock.to(at(17, 3, 0, 30))  # 20:30 EDT on 16 March
    assert me.say("later") == "Okay, I'll ask again tomorrow at 9:00 am. Your answers so far are saved."
    clock.to(at(17, 3, 2, 0))  # 22:00 EDT
    me.nothing_for(1.5)
    clock.to(at(17, 3, 13, 0))  # 09:00 EDT: the reminder goes on from item 2
    assert me.receive() == REMINDER + "\n\n" + item(2)
    assert me.checkin([1, 1, 1, 1, 1, 1, 1, 0], first=2) == (
        "Your total this week is 8 out of 27: 5 lower than last time (13) "
        "and 8 lower than at your intake (16). "
        "Your next check-in is on Monday 23 March.\n\n" + NOTE_Q
    )
    assert me.say("no") == THANKS

    # Week 3 is missed: one reminder a day later, then nothing.
    clock.to(at(23, 3, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    clock.to(at(24, 3, 14, 0))
    assert me.receive() == REMINDER + "\n\n" + item(1)
    clock.to(at(26, 3, 14, 0))
    me.nothing_for(1.5)

    # Week 4: 6 points higher than last time: the care team is notified (not a crisis).
    clock.to(at(30, 3, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    assert me.checkin([2, 2, 2, 2, 2, 1, 2, 1, 0]) == (
        "Your total this week is 14 out of 27: 6 higher than last time (8) "
        "and 2 lower than at your intake (16). "
        "Your next check-in is on Monday 6 April.\n\n" + NOTE_Q
    )
    assert me.say("no") == THANKS
    note = receiver.wait_for_delivery(lambda r: r.payload.get("type") == "followup_notification", timeout=30)
    assert note.payload["reason"] == "worsening" and note.payload["priority"] == "routine"
    assert note.payload["phq9"]["previous"] == 8 and note.payload["phq9"]["latest"] == 14
    assert note.payload["contact"]["phone"] == me.phone  # the delivery worker adds it: the care team can call

    # Week 5: item 9 above zero takes the crisis path at once, in the same turn, and is escalated.
    clock.to(at(6, 4, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    for n, answer in enumerate([2, 2, 2, 2, 2, 2, 2, 2], 1):
        assert me.say(str(answer)) == item(n + 1)
    crisis = me.say("2")
    assert crisis.startswith(
        "Thank you for answering that honestly. Before we go on, I'd like to check in with you."
    )
    assert "Text 988 (988 Suicide & Crisis Lifeline)" in crisis
    assert "Are you thinking about killing yourself right now? Are you safe right now?" in crisis
    assert crisis.index("988") < crisis.index("Are you safe right now?")
    alert = receiver.wait_for_delivery(lambda r: r.payload.get("type") == "crisis_escalation", timeout=30)
    assert alert.payload["risk_category"] == "suicidal_ideation"
    after = me.say("I'm safe right now")  # the crisis is closed; the safety follow-up may ask more
    assert after and not after.startswith("I'm really glad you told me")
    if "Not now" in after:
        me.say("not now")

    # STOP: no check-in is texted in week 6; START: week 7 comes.
    stop = me.say("STOP")
    assert stop.startswith("You won't get any more messages from")
    clock.to(at(13, 4, 14, 0))
    me.nothing_for(2.0)
    assert me.say("START").startswith("You'll get messages from")
    clock.to(at(20, 4, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    assert me.checkin([1, 1, 1, 1, 1, 1, 1, 1, 0]) == (
        "Your total this week is 8 out of 27: 10 lower than last time (18) "
        "and 8 lower than at your intake (16). "
        "Your next check-in is on Monday 27 April.\n\n" + NOTE_Q
    )
    assert me.say("dose up to 100 mg") == NOTED

    # Pause: nothing on the 27th; resume: the next one a week from then (Monday 4 May).
    assert me.say("pause check-ins") == (
        'Okay, your weekly check-ins are paused. Say "resume check-ins" whenever you want them again.'
    )
    clock.to(at(27, 4, 14, 0))
    me.nothing_for(1.5)
    assert me.say("resume check-ins") == "Your weekly check-ins are back on. The next one is on Monday 4 May."

    # Week 8.
    clock.to(at(4, 5, 14, 0))
    assert me.receive() == INTRO + "\n\n" + item(1)
    assert me.checkin([1, 0, 1, 0, 1, 0, 1, 0, 0]) == (
        "Your total this week is 4 out of 27: 4 lower than last time (8) "
        "and 12 lower than at your intake (16). "
        "Your next check-in is on Monday 11 May.\n\n" + NOTE_Q
    )
    assert me.say("no") == THANKS

    # The clinician's record: the series, with the notes; the summary: the status and the chart.
    sid = (
        "sms-"
        + hmac.new(stack.env["PHONE_HASH_SECRET"].encode(), me.phone.encode(), hashlib.sha256).hexdigest()[
            :32
        ]
    )
    record = requests.get(
        f"{stack.base_url}/intake/{sid}",
        headers={"Authorization": f"Bearer {stack.env['CLINICIAN_TOKEN']}"},
        timeout=30,
    ).json()
    totals = [(e["date"], sum(e["phq9"]), e.get("note")) for e in record["follow_up"]]
    assert totals == [
        ("2026-03-09", 13, "started sertraline 50 mg"),
        ("2026-03-17", 8, None),
        ("2026-03-30", 14, None),
        ("2026-04-06", 18, None),
        ("2026-04-20", 8, "dose up to 100 mg"),
        ("2026-05-04", 4, None),
    ]
    link = me.say("show my summary")
    token = link.split("/summary/")[1].split()[0]
    data = requests.get(f"{stack.base_url}/summary/{token}.json", timeout=30).json()
    fu = data["navigator"]["follow_up"]
    assert (fu["baseline"], fu["latest"], fu["status"]) == (16, 4, "remission")
    assert fu["item9"] == [{"date": "2026-04-06", "score": 2}]
    page = requests.get(f"{stack.base_url}/summary/{token}", timeout=30).text
    assert "<svg" in page and "PHQ-9 item 9 scored 2 on 2026-04-06" in page
    assert "item 9: 2" in page and "remission: under 5" in page

    # Every attempt was audited; no worker error.
    assert "Traceback" not in workers.tail("w1", 10_000), workers.tail("w1")
