"""No SQL parameter (what a person typed, a phone number) in a database error or log line (#10)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.tracker_store import _make_engine
from trd.store.db import make_engine

SECRET = "I want to kill myself +15551234567"


@pytest.mark.parametrize("which", ["store", "tracker store"])
def test_a_failing_statement_does_not_show_its_parameters(
    tmp_path: Path, which: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = make_engine(url) if which == "store" else _make_engine(make_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
        conn.execute(sa.text("INSERT INTO t (v) VALUES (:v)"), {"v": SECRET})
    caplog.set_level(logging.INFO, logger="sqlalchemy")
    with pytest.raises(sa.exc.IntegrityError) as error:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t (v) VALUES (:v)"), {"v": SECRET})
    assert SECRET not in str(error.value)
    assert "parameters hidden" in str(error.value)
    assert SECRET not in caplog.text
