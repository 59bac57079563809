"""The SMS webhook over real HTTP on 127.0.0.1: a Sanic app with only the channel's blueprint.

Rasa is replaced by a fake ``on_new_message`` that records what Rasa would have
received and answers through the channel's output collector; the SMS tables are
a real migrated SQLite database; replies go to a FakeSmsSender (REST mode) or
come back as TwiML. Signatures are made with twilio's own RequestValidator.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from xml.etree import ElementTree  # noqa: S405 - parses our own server's responses

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from bot.channels.sms import SmsConfig, TwilioSmsInput, load_sms_texts
from tests.support.loopback_app import LoopbackApp
from trd.sms.sender import FakeSmsSender
from trd.sms.spool import InboxSpool
from trd.sms.store import SmsStore
from trd.store.migrate import upgrade

TOKEN = "auth-" + uuid.uuid4().hex
PUBLIC = "https://sms.example.org"
TEXTS = load_sms_texts()
CHECK_BUTTONS = [
    {"title": "I'm safe right now", "payload": "/confirm_safe"},
    {"title": "I'm not safe", "payload": "/not_safe"},
]
_counter = itertools.count(1)


def new_phone() -> str:
    return f"+1555{next(_counter):07d}"


class FakeRasa:
    """Records each UserMessage and answers like a tiny bot, through the channel's collector."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    def texts_from(self, sender_id: str) -> List[str]:
        return [m.text or "" for m in self.received if m.sender_id == sender_id]

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        out = message.output_channel
        text = message.text or ""
        if text == "boom":
            raise RuntimeError("the model broke")
        if text == "slow":
            await asyncio.sleep(1.5)
        if text == "check":
            await out.send_text_with_buttons(message.sender_id, "Are you safe right now?", CHECK_BUTTONS)
        elif text == "variant":
            await out.send_text_message(message.sender_id, f"variant for {out.name()}")
        elif text == "markup":
            await out.send_text_message(message.sender_id, "**Tom & Jerry** <3 [site](https://example.org)")
        else:
            await out.send_text_message(message.sender_id, f"You said: {text}")


class SmsServer(LoopbackApp):
    """One Sanic app serving several SMS channels (one per URL prefix) on a free loopback port.

    One app for the module (starting an app is slow).
    """

    def __init__(self) -> None:
        super().__init__("sms_test")

    def mount(self, prefix: str, channel: TwilioSmsInput, rasa: FakeRasa) -> Mount:
        bp = channel.blueprint(rasa.on_new_message)
        bp.name = f"sms_{prefix.strip('/').replace('/', '_')}"
        self.app.blueprint(bp, url_prefix=prefix)
        return Mount(self, prefix, channel, rasa)


class Mount:
    """One channel of the test server, at ``prefix`` (its webhook at prefix + "/webhook")."""

    def __init__(self, server: SmsServer, prefix: str, channel: TwilioSmsInput, rasa: FakeRasa) -> None:
        self.server = server
        self.channel = channel
        self.rasa = rasa
        self.path = prefix + "/webhook"
        self.base = server.base

    def post(
        self,
        params: Dict[str, str],
        sign: bool = True,
        signature: Optional[str] = None,
        signed_url: Optional[str] = None,
        query: str = "",
    ) -> requests.Response:
        headers = {}
        url_path = self.path + (f"?{query}" if query else "")
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        elif sign:
            headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
                signed_url or PUBLIC + url_path, params
            )
        return requests.post(self.base + url_path, data=params, headers=headers, timeout=30)


def message(phone: str, body: Optional[str], **extra: str) -> Dict[str, str]:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+15550009999",
        "NumMedia": "0",
        **extra,
    }
    if body is not None:
        params["Body"] = body
    return params


def _make_channel(db_url: str, mode: str, sender: Optional[FakeSmsSender]) -> TwilioSmsInput:
    config = SmsConfig(auth_token=TOKEN, public_base_url=PUBLIC, reply_mode=mode, account_sid="AC" + "0" * 32)
    store = SmsStore.from_env({"PHONE_HASH_SECRET": "p" * 64, "DATABASE_URL": db_url})
    store._engine_factory = None  # use the test database, not DATABASE_URL
    from trd.store.db import make_engine

    store._engine = make_engine(db_url)
    channel = TwilioSmsInput(config, store, sender, TEXTS)
    # the local spool beside the test database (never the checkout's var/)
    db_file = Path(db_url.split("///", 1)[1])
    channel.inbox.spool = InboxSpool(db_file.parent / f"spool-{db_file.stem}-{mode}", store.vault._fernet)
    return channel


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sms') / 'trd.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[Dict[str, Mount]]:
    srv = SmsServer()
    rest = srv.mount("/webhooks/twilio", _make_channel(db_url, "rest", FakeSmsSender()), FakeRasa())
    twiml_channel = _make_channel(db_url, "twiml", None)
    twiml_channel.twiml_timeout = 0.5
    twiml = srv.mount("/twiml/twilio", twiml_channel, FakeRasa())
    disabled_channel = TwilioSmsInput.from_env({"PUBLIC_BASE_URL": PUBLIC, "PHONE_HASH_SECRET": "p" * 64})
    disabled = srv.mount("/disabled/twilio", disabled_channel, FakeRasa())
    # a database without the SMS tables (migrations not run, or the database is broken)
    unmigrated = "sqlite:///" + db_url.split("///", 1)[1].replace("trd.sqlite3", "empty.sqlite3")
    nodb = srv.mount("/nodb/twilio", _make_channel(unmigrated, "rest", FakeSmsSender()), FakeRasa())
    with srv:
        yield {"rest": rest, "twiml": twiml, "disabled": disabled, "nodb": nodb}


@pytest.fixture()
def rest(server: Dict[str, Mount]) -> Mount:
    return server["rest"]


@pytest.fixture()
def twiml(server: Dict[str, Mount]) -> Mount:
    return server["twiml"]


def sent_to(srv: Mount, phone: str) -> List[str]:
    sender = srv.channel.sender
    assert isinstance(sender, FakeSmsSender)
    return sender.bodies(phone)


def wait_sent(srv: Mount, phone: str, count: int, timeout: float = 10) -> List[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bodies = sent_to(srv, phone)
        if len(bodies) >= count:
            return bodies
        time.sleep(0.05)
    raise AssertionError(f"expected {count} SMS to {phone}, got {sent_to(srv, phone)}")


def wait_idle(srv: Mount, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while srv.channel._tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)


def sender_id(srv: Mount, phone: str) -> str:
    assert srv.channel.store is not None
    return srv.channel.store.sender_id_for(phone)


def is_empty_twiml(r: requests.Response) -> bool:
    root = ElementTree.fromstring(r.text)  # noqa: S314
    return r.status_code == 200 and root.tag == "Response" and list(root) == []


# --- accepted messages ------------------------------------------------------------------------


def test_a_signed_message_reaches_rasa_and_the_reply_is_texted(
    rest: Mount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = new_phone()
    params = message(phone, "hello there")
    r = rest.post(params)
    assert is_empty_twiml(r), r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert wait_sent(rest, phone, 1) == ["You said: hello there"]
    [received] = [m for m in rest.rasa.received if m.sender_id == sender_id(rest, phone)]
    assert received.sender_id.startswith("sms-") and phone not in received.sender_id
    assert received.input_channel == "twilio"
    assert received.message_id == params["MessageSid"]
    assert phone not in repr(received.metadata) and phone[1:] not in repr(received.metadata)
    assert received.metadata == {"sms": {"num_media": 0, "opted_out": False, "button": False}}
    assert phone not in caplog.text and phone[1:] not in caplog.text


def test_the_output_channel_is_named_twilio(rest: Mount) -> None:
    phone = new_phone()
    rest.post(message(phone, "variant"))
    assert wait_sent(rest, phone, 1) == ["variant for twilio"]


def test_replies_are_plain_text(rest: Mount) -> None:
    phone = new_phone()
    rest.post(message(phone, "markup"))
    assert wait_sent(rest, phone, 1) == ["Tom & Jerry <3 site (https://example.org)"]


def test_the_query_string_is_part_of_the_signed_url(rest: Mount) -> None:
    phone = new_phone()
    assert is_empty_twiml(rest.post(message(phone, "with query"), query="clinic=a%20b"))
    assert wait_sent(rest, phone, 1) == ["You said: with query"]
    bad = rest.post(message(phone, "x"), query="clinic=a", signed_url=PUBLIC + rest.path)
    assert bad.status_code == 403


def test_messages_of_one_sender_are_answered_in_order(rest: Mount) -> None:
    phone = new_phone()
    for i in range(5):
        rest.post(message(phone, f"number {i}"))
    assert wait_sent(rest, phone, 5) == [f"You said: number {i}" for i in range(5)]


# --- refused requests ---------------------------------------------------------------------------


def test_a_forged_or_missing_signature_is_refused(rest: Mount, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    phone = new_phone()
    before = len(rest.rasa.received)
    forged = RequestValidator("not-the-token").compute_signature(PUBLIC + rest.path, message(phone, "hi"))
    assert rest.post(message(phone, "hi"), signature=forged).status_code == 403
    assert rest.post(message(phone, "hi"), sign=False).status_code == 403
    assert rest.post(message(phone, "hi"), signature="").status_code == 403
    # signed for the loopback address, not the public one
    assert rest.post(message(phone, "hi"), signed_url=rest.base + rest.path).status_code == 403
    # a valid signature of other parameters
    params = message(phone, "hi")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + rest.path, params)
    assert rest.post({**params, "Body": "I changed it"}, signature=signature).status_code == 403
    wait_idle(rest)
    assert len(rest.rasa.received) == before
    assert sent_to(rest, phone) == []
    assert "signature" in caplog.text and phone not in caplog.text


@pytest.mark.parametrize(
    "params, status",
    [
        ({"Body": None}, 400),
        ({"Body": ""}, 400),
        ({"Body": "   \n "}, 400),
        ({"From": ""}, 400),
        ({"From": "not a number!"}, 400),
        ({"MessageSid": ""}, 400),
        ({"MessageSid": "SM<script>"}, 400),
        ({"NumMedia": "lots", "Body": ""}, 400),
    ],
)
def test_signed_but_malformed_messages_get_400(rest: Mount, params: Dict[str, Any], status: int) -> None:
    base = message(new_phone(), "hi")
    for key, value in params.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    before = len(rest.rasa.received)
    r = rest.post(base)
    assert r.status_code == status, r.text
    assert len(rest.rasa.received) == before


def test_missing_from_is_400(rest: Mount) -> None:
    params = message(new_phone(), "hi")
    del params["From"]
    r = rest.post(params)
    assert r.status_code == 400 and "From" in r.text


def test_a_json_body_is_400(rest: Mount) -> None:
    headers = {
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + rest.path, {}),
        "Content-Type": "application/json",
    }
    r = requests.post(rest.base + rest.path, data=b'{"Body": "hi"}', headers=headers, timeout=10)
    assert r.status_code == 400


def test_a_huge_body_is_413(rest: Mount) -> None:
    r = rest.post(message(new_phone(), "x" * 70_000))
    assert r.status_code == 413


def test_a_picture_without_words_gets_a_polite_reply(rest: Mount) -> None:
    phone = new_phone()
    before = len(rest.rasa.received)
    r = rest.post(message(phone, "", NumMedia="1", MediaUrl0="https://api.twilio.com/x.jpg"))
    assert is_empty_twiml(r)
    assert wait_sent(rest, phone, 1) == [TEXTS.unreadable]
    assert len(rest.rasa.received) == before


def test_a_repeated_message_sid_is_answered_once(rest: Mount) -> None:
    phone = new_phone()
    params = message(phone, "only once")
    assert is_empty_twiml(rest.post(params))
    assert is_empty_twiml(rest.post(params))
    wait_sent(rest, phone, 1)
    wait_idle(rest)
    assert rest.rasa.texts_from(sender_id(rest, phone)) == ["only once"]
    assert sent_to(rest, phone) == ["You said: only once"]


def test_an_unconfigured_channel_refuses_everything(
    server: Dict[str, Mount], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    disabled = server["disabled"]
    assert disabled.channel.disabled_reason is not None
    assert "TWILIO_AUTH_TOKEN" in disabled.channel.disabled_reason
    disabled.channel._last_refusal_log = 0.0
    r = disabled.post(message(new_phone(), "hi"))
    assert r.status_code == 503
    assert requests.get(disabled.base + "/disabled/twilio/", timeout=5).json() == {"status": "unavailable"}
    assert requests.get(disabled.base + "/webhooks/twilio/", timeout=5).json() == {"status": "ok"}
    assert disabled.rasa.received == []
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text


@pytest.mark.parametrize(
    "env, missing",
    [
        ({"TWILIO_AUTH_TOKEN": "t"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "ftp://x"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": PUBLIC}, "TWILIO_ACCOUNT_SID"),
        (
            {"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": PUBLIC, "SMS_REPLY_MODE": "twiml"},
            "PHONE_HASH_SECRET",
        ),
        ({"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": PUBLIC, "SMS_REPLY_MODE": "fax"}, "SMS_REPLY_MODE"),
    ],
)
def test_each_missing_setting_disables_the_channel(env: Dict[str, str], missing: str) -> None:
    channel = TwilioSmsInput.from_env(env)
    assert channel.disabled_reason is not None and missing in channel.disabled_reason


def test_a_complete_environment_enables_the_channel() -> None:
    channel = TwilioSmsInput.from_env(
        {
            "TWILIO_AUTH_TOKEN": "t",
            "PUBLIC_BASE_URL": PUBLIC + "/",
            "TWILIO_ACCOUNT_SID": "AC1",
            "PHONE_HASH_SECRET": "p" * 64,
        }
    )
    assert channel.disabled_reason is None
    assert channel.config is not None and channel.config.public_base_url == PUBLIC
    assert TwilioSmsInput.name() == "twilio" and channel.url_prefix() == "twilio"


# --- keywords and opt-out ---------------------------------------------------------------------------


@pytest.mark.slow
def test_stop_start_and_help(rest: Mount) -> None:
    phone = new_phone()
    sid = sender_id(rest, phone)
    rest.post(message(phone, "hello"))
    wait_sent(rest, phone, 1)

    rest.post(message(phone, "Stop"))
    assert wait_sent(rest, phone, 2)[1] == TEXTS.stop
    rest.post(message(phone, "STOP"))  # confirmed once only
    rest.post(message(phone, "I want to die"))  # still reaches Rasa (recorded, escalated) ...
    wait_idle(rest)
    assert sent_to(rest, phone) == ["You said: hello", TEXTS.stop]  # ... but nothing is texted
    opted = [m for m in rest.rasa.received if m.sender_id == sid and m.text == "I want to die"]
    assert opted and opted[0].metadata["sms"]["opted_out"] is True  # type: ignore[index]

    rest.post(message(phone, "help"))  # HELP is answered even when opted out
    assert wait_sent(rest, phone, 3)[2] == TEXTS.help

    rest.post(message(phone, "START"))
    assert wait_sent(rest, phone, 4)[3] == TEXTS.start
    rest.post(message(phone, "back again"))
    assert wait_sent(rest, phone, 5)[4] == "You said: back again"
    # keywords never reach Rasa
    assert rasa_texts(rest, sid) == ["hello", "I want to die", "back again"]


def rasa_texts(srv: Mount, sid: str) -> List[str]:
    return srv.rasa.texts_from(sid)


def test_yes_is_an_ordinary_answer_unless_opted_out(rest: Mount) -> None:
    phone = new_phone()
    rest.post(message(phone, "yes"))
    assert wait_sent(rest, phone, 1) == ["You said: yes"]


# --- numbered options and slashes -------------------------------------------------------------------


@pytest.mark.slow
def test_numbered_options_map_back_to_payloads(rest: Mount) -> None:
    phone = new_phone()
    sid = sender_id(rest, phone)
    rest.post(message(phone, "check"))
    assert wait_sent(rest, phone, 1) == [
        "Are you safe right now?\nReply 1 for I'm safe right now, 2 for I'm not safe."
    ]
    rest.post(message(phone, "1"))
    wait_sent(rest, phone, 2)
    rest.post(message(phone, "1"))  # the last reply had no options: just "1"
    wait_sent(rest, phone, 3)
    rest.post(message(phone, "check"))
    wait_sent(rest, phone, 4)
    rest.post(message(phone, "i'm NOT safe"))
    wait_sent(rest, phone, 5)
    assert rasa_texts(rest, sid) == ["check", "/confirm_safe", "1", "check", "/not_safe"]
    buttons = [m.metadata["sms"]["button"] for m in rest.rasa.received if m.sender_id == sid]  # type: ignore[index]
    assert buttons == [False, True, False, False, True]


def test_typed_slash_commands_do_not_bypass_nlu(rest: Mount) -> None:
    phone = new_phone()
    sid = sender_id(rest, phone)
    rest.post(message(phone, "/confirm_safe"))  # not offered: stripped
    wait_sent(rest, phone, 1)
    rest.post(message(phone, "/"))  # nothing left
    assert wait_sent(rest, phone, 2)[1] == TEXTS.unreadable
    assert rasa_texts(rest, sid) == ["confirm_safe"]


# --- failures -------------------------------------------------------------------------------------


def test_when_rasa_fails_the_person_gets_the_apology_with_crisis_lines(rest: Mount) -> None:
    phone = new_phone()
    rest.post(message(phone, "boom"))
    assert wait_sent(rest, phone, 1) == [TEXTS.error]


def test_a_send_failure_is_logged_without_the_number(rest: Mount, caplog: pytest.LogCaptureFixture) -> None:
    from trd.sms.sender import SmsSendError

    caplog.set_level(logging.INFO)
    phone = new_phone()
    sender = rest.channel.sender
    assert isinstance(sender, FakeSmsSender)
    sender.fail_with = SmsSendError("the provider refused the message", 400, 21610)
    try:
        rest.post(message(phone, "hello"))
        wait_idle(rest)
    finally:
        sender.fail_with = None
    assert "could not be sent" in caplog.text and "21610" in caplog.text
    assert phone not in caplog.text and phone[1:] not in caplog.text


def test_without_the_sms_tables_messages_are_still_answered(server: Dict[str, Mount]) -> None:
    nodb = server["nodb"]
    phone = new_phone()
    r = nodb.post(message(phone, "I need to talk"))
    assert is_empty_twiml(r)
    assert wait_sent(nodb, phone, 1) == ["You said: I need to talk"]
    assert nodb.rasa.texts_from(sender_id(nodb, phone)) == ["I need to talk"]


# --- TwiML mode ------------------------------------------------------------------------------------


def _twiml_messages(r: requests.Response) -> List[str]:
    assert r.status_code == 200, r.text
    root = ElementTree.fromstring(r.text)  # noqa: S314
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def test_twiml_mode_answers_in_the_response(twiml: Mount) -> None:
    phone = new_phone()
    r = twiml.post(message(phone, "a < b & 'c' > d"))
    assert _twiml_messages(r) == ["You said: a < b & 'c' > d"]
    assert "a &lt; b &amp; 'c' &gt; d" in r.text
    assert _twiml_messages(twiml.post(message(phone, "check"))) == [
        "Are you safe right now?\nReply 1 for I'm safe right now, 2 for I'm not safe."
    ]
    assert _twiml_messages(twiml.post(message(phone, "2"))) == ["You said: /not_safe"]


def test_twiml_mode_keywords_duplicates_and_opt_out(twiml: Mount) -> None:
    phone = new_phone()
    params = message(phone, "HELP")
    assert _twiml_messages(twiml.post(params)) == [TEXTS.help]
    assert _twiml_messages(twiml.post(params)) == []  # duplicate
    assert _twiml_messages(twiml.post(message(phone, "stop"))) == [TEXTS.stop]
    assert _twiml_messages(twiml.post(message(phone, "hello"))) == []
    assert _twiml_messages(twiml.post(message(phone, "unstop"))) == [TEXTS.start]


@pytest.mark.slow
def test_twiml_mode_a_slow_turn_gets_the_apology(twiml: Mount) -> None:
    phone = new_phone()
    assert _twiml_messages(twiml.post(message(phone, "slow"))) == [TEXTS.error]
    # the slow turn still finishes in the background (Rasa records it); later messages are answered
    time.sleep(1.5)
    assert _twiml_messages(twiml.post(message(phone, "after"))) == ["You said: after"]
    assert twiml.rasa.texts_from(sender_id(twiml, phone)) == ["slow", "after"]
