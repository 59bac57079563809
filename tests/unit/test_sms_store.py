"""The SMS tables on a real, migrated SQLite database: sender ids, encrypted numbers, duplicates, opt-outs."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
import sqlalchemy as sa

from tests.support.postgres import fresh_database
from trd.sms.store import PhoneVault, SmsConfigError, SmsStore, fernet_key, is_sms_sender
from trd.store.db import make_engine
from trd.store.migrate import upgrade

SECRET = "h" * 64
PHONE = "+15551234567"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trd.sqlite3'}"
    else:
        request.getfixturevalue("postgres_url")
        url = fresh_database("sms")
    upgrade(url)
    return url


@pytest.fixture()
def engine(url: str) -> Iterator[sa.engine.Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _store(
    engine: sa.engine.Engine, secret: str = SECRET, key: Optional[str] = None, **kw: object
) -> SmsStore:
    return SmsStore(PhoneVault(secret, key), engine=engine, **kw)  # type: ignore[arg-type]


def test_sender_id_is_a_keyed_hash_of_the_number() -> None:
    vault = PhoneVault(SECRET)
    sender = vault.sender_id_for(PHONE)
    expected = hmac.new(SECRET.encode(), PHONE.encode(), hashlib.sha256).hexdigest()[:32]
    assert sender == "sms-" + expected
    assert is_sms_sender(sender)
    assert vault.sender_id_for(" +1 555 123 4567 ") == sender  # whitespace is not part of the number
    assert PhoneVault("x" * 64).sender_id_for(PHONE) != sender  # another key, another id
    assert hashlib.sha256(PHONE.encode()).hexdigest()[:32] not in sender  # not a plain hash


def test_secrets_must_be_set_and_long_enough() -> None:
    with pytest.raises(SmsConfigError, match="PHONE_HASH_SECRET"):
        PhoneVault("")
    with pytest.raises(SmsConfigError, match="PHONE_HASH_SECRET"):
        PhoneVault("short")
    with pytest.raises(SmsConfigError, match="SMS_ENCRYPTION_KEY"):
        PhoneVault(SECRET, "short")
    with pytest.raises(SmsConfigError, match="PHONE_HASH_SECRET"):
        SmsStore.from_env({})
    with pytest.raises(SmsConfigError, match="SMS_DEDUP_RETENTION_DAYS"):
        SmsStore.from_env({"PHONE_HASH_SECRET": SECRET, "SMS_DEDUP_RETENTION_DAYS": "soon"})


def test_the_encryption_key_comes_from_its_own_secret_or_from_the_hash_secret() -> None:
    derived = PhoneVault(SECRET)
    own = PhoneVault(SECRET, "k" * 40)
    token = derived.encrypt(PHONE)
    assert PHONE not in token
    assert derived.decrypt(token) == PHONE
    assert own.decrypt(token) is None  # another key cannot read it
    assert own.decrypt(own.encrypt(PHONE)) == PHONE
    assert derived.decrypt("not a token") is None
    # HKDF output, never the raw secret
    assert fernet_key(SECRET) != fernet_key("k" * 40)
    assert SECRET.encode() not in fernet_key(SECRET)


def test_first_message_creates_the_contact_without_a_clear_number(engine: sa.engine.Engine, url: str) -> None:
    store = _store(engine)
    state = store.record_inbound("SM" + "1" * 32, PHONE)
    assert state is not None and state.sender_id == store.sender_id_for(PHONE)
    assert state.opted_out is False and state.last_buttons == ()
    assert store.phone_for_sender(state.sender_id) == PHONE
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM trd_sms_contacts")).mappings().all()
    assert len(rows) == 1
    assert rows[0]["sender_hash"] == state.sender_id
    assert PHONE not in str(dict(rows[0]))
    if not url.startswith("sqlite"):
        return
    engine.dispose()
    db_file = Path(url.split("///", 1)[1])
    for path in [db_file, *db_file.parent.glob(db_file.name + "-wal")]:
        assert PHONE.encode() not in path.read_bytes()
        assert PHONE[1:].encode() not in path.read_bytes()


def test_a_repeated_message_sid_is_reported_once(engine: sa.engine.Engine) -> None:
    store = _store(engine)
    assert store.record_inbound("SMdup", PHONE) is not None
    assert store.record_inbound("SMdup", PHONE) is None
    assert store.record_inbound("SMdup", "+15550000000") is None
    assert store.record_inbound("SMother", PHONE) is not None


def test_concurrent_first_messages_make_one_contact(engine: sa.engine.Engine) -> None:
    store = _store(engine)
    results: List[object] = []

    def receive(i: int) -> None:
        results.append(store.record_inbound(f"SMc{i}", PHONE))

    threads = [threading.Thread(target=receive, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(r is not None for r in results)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM trd_sms_contacts")).scalar() == 1


def test_opt_out_and_back_in(engine: sa.engine.Engine) -> None:
    store = _store(engine)
    sender = store.sender_id_for(PHONE)
    store.record_inbound("SM1", PHONE)
    store.set_last_buttons(sender, [("Yes", "/affirm")])
    assert store.set_opted_out(sender, True) is True
    assert store.set_opted_out(sender, True) is False  # already
    state = store.contact(sender)
    assert state is not None and state.opted_out and state.last_buttons == ()
    assert store.is_opted_out(sender)
    assert store.set_opted_out(sender, False) is True
    assert not store.is_opted_out(sender)
    assert store.set_opted_out("sms-" + "0" * 32, True) is False  # unknown sender


def test_last_buttons_are_remembered_and_forgotten(engine: sa.engine.Engine) -> None:
    store = _store(engine)
    sender = store.sender_id_for(PHONE)
    store.record_inbound("SM1", PHONE)
    store.set_last_buttons(sender, [("I'm safe", "/confirm_safe"), ("I'm not safe", "/not_safe")])
    state = store.record_inbound("SM2", PHONE)
    assert state is not None
    assert state.last_buttons == (("I'm safe", "/confirm_safe"), ("I'm not safe", "/not_safe"))
    store.set_last_buttons(sender, [])
    assert store.contact(sender).last_buttons == ()  # type: ignore[union-attr]


def test_phone_for_sender_handles_unknown_and_malformed_ids(engine: sa.engine.Engine) -> None:
    store = _store(engine)
    assert store.phone_for_sender("sms-" + "0" * 32) is None
    assert store.phone_for_sender("web-123") is None
    assert store.phone_for_sender("sms-' OR 1=1 --") is None


def test_a_changed_key_is_healed_by_the_next_message(engine: sa.engine.Engine) -> None:
    old = _store(engine, key="a" * 40)
    sender = old.sender_id_for(PHONE)
    old.record_inbound("SM1", PHONE)
    new = _store(engine, key="b" * 40)
    assert new.phone_for_sender(sender) is None  # unreadable with the new key
    new.record_inbound("SM2", PHONE)
    assert new.phone_for_sender(sender) == PHONE


def test_old_message_ids_are_pruned(engine: sa.engine.Engine) -> None:
    now = [datetime(2024, 1, 1, tzinfo=timezone.utc)]
    store = _store(engine, clock=lambda: now[0], dedup_retention=timedelta(days=7))
    store.record_inbound("SMold", PHONE)
    now[0] += timedelta(days=8)
    store.record_inbound("SMnew", PHONE)
    assert store.prune_inbound() == 1
    assert store.record_inbound("SMold", PHONE) is not None  # forgotten, so accepted again
    assert store.record_inbound("SMnew", PHONE) is None


def test_nothing_connects_until_first_use() -> None:
    calls: List[int] = []

    def factory() -> sa.engine.Engine:
        calls.append(1)
        raise RuntimeError("no database here")

    store = SmsStore(PhoneVault(SECRET), engine_factory=factory)
    assert store.sender_id_for(PHONE).startswith("sms-")
    assert calls == []
    with pytest.raises(RuntimeError):
        store.contact("sms-" + "0" * 32)
    assert calls == [1]
