"""Cost of one check-in scheduler pass, and how it grows with the number of people.

    .venv/bin/python -m bench.checkins                         # SQLite in a temporary file
    .venv/bin/python -m bench.checkins --database-url postgresql+psycopg2://...  # no check-ins in it
    .venv/bin/python -m bench.checkins --sizes 1000,10000 --batch 50

For each size N it schedules N people (their next check-ins spread evenly over one week,
as real sign-ups would be), then times, with the clock at a moment when 50 are due:

- an idle pass (nothing due yet): the claim query alone;
- a full pass: claim a batch of 50 due check-ins and, for each, what the Rasa server's
  check-in route does in the database (take the send, record it with next week's row);
- the query plan of the claim (it must use the (status, next_action_at) index: a pass
  reads what is due, never every conversation).

No Rasa server and no texts: the turn itself costs what a person's message costs
(``python -m bench.turn_latency``). Figures, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEEK = 7 * 86400
START = datetime(2026, 6, 1, 14, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def populate(store: object, engine: object, n: int, clock: Clock) -> None:
    """N subscriptions, each with its next check-in due somewhere in the coming week (bulk inserts)."""
    import sqlalchemy as sa

    from trd.store.checkin_models import Checkin, CheckinSubscription

    subs = []
    for _ in range(n):
        subs.append(
            {
                "conversation_id": f"sms-{uuid.uuid4().hex}",
                "channel": "sms",
                "sms_sender_id": None,
                "status": "active",
                "timezone": "America/New_York",
                "created_at": clock.now,
                "updated_at": clock.now,
            }
        )
    for s in subs:
        s["sms_sender_id"] = s["conversation_id"]
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.insert(CheckinSubscription.__table__), subs)
        ids = [r for (r,) in conn.execute(sa.select(CheckinSubscription.id).order_by(CheckinSubscription.id))]
        rows = []
        for k, sub_id in enumerate(ids[-n:]):
            due = clock.now + timedelta(seconds=1 + (k * WEEK) // n)
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "subscription_id": sub_id,
                    "sequence": 1,
                    "due_at": due,
                    "status": "scheduled",
                    "next_action_at": due,
                    "attempts": 0,
                    "created_at": clock.now,
                }
            )
        conn.execute(sa.insert(Checkin.__table__), rows)


def timed(fn: Callable[[], object], repeat: int) -> List[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def claim_plan(engine: object) -> str:
    import sqlalchemy as sa

    with engine.connect() as conn:  # type: ignore[attr-defined]
        if conn.dialect.name == "sqlite":
            rows = conn.execute(
                sa.text(
                    "EXPLAIN QUERY PLAN SELECT id, attempts, status FROM trd_checkins WHERE status IN "
                    "('scheduled','sent','sending') AND next_action_at <= :now "
                    "ORDER BY next_action_at LIMIT 50"
                ),
                {"now": START.replace(tzinfo=None)},
            ).all()
            return "; ".join(str(r[-1]) for r in rows)
        rows = conn.execute(
            sa.text(
                "EXPLAIN SELECT id, attempts, status FROM trd_checkins WHERE status IN "
                "('scheduled','sent','sending') AND next_action_at <= :now ORDER BY next_action_at LIMIT 50 "
                "FOR UPDATE SKIP LOCKED"
            ),
            {"now": START},
        ).all()
        return "; ".join(str(r[0]).strip() for r in rows)


def run_size(url: str, n: int, batch: int, repeat: int) -> dict:
    from trd.checkins.config import CheckinConfig
    from trd.checkins.store import ACTION_SEND, CheckinStore
    from trd.store.db import make_engine
    from trd.store.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    clock = Clock(START)
    store = CheckinStore(engine, config=CheckinConfig(quiet_hours=None), clock=clock)
    t0 = time.perf_counter()
    populate(store, engine, n, clock)
    load_s = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE trd_checkins")
    idle = timed(lambda: store.claim_due(batch), repeat)
    passes: List[float] = []
    per_checkin: List[float] = []
    step = timedelta(seconds=WEEK * batch / n)  # moves the clock so that `batch` more are due each time
    for _ in range(repeat):
        clock.now += step
        t0 = time.perf_counter()
        claims = store.claim_due(batch)
        for c in claims:
            if store.begin(c.checkin_id, c.token, ACTION_SEND) is not None:
                store.finish(c.checkin_id, c.token, True)
        ms = (time.perf_counter() - t0) * 1000
        passes.append(ms)
        if claims:
            per_checkin.append(ms / len(claims))
    plan = claim_plan(engine)
    engine.dispose()
    return {
        "n": n,
        "load_s": load_s,
        "idle_ms": statistics.median(idle),
        "pass_ms": statistics.median(passes),
        "per_checkin_ms": statistics.median(per_checkin) if per_checkin else float("nan"),
        "plan": plan,
    }


CHECKIN_TABLES = ("trd_checkin_attempts", "trd_checkins", "trd_checkin_codes", "trd_checkin_subscriptions")


def _empty(url: str) -> bool:
    import sqlalchemy as sa

    from trd.store.db import make_engine
    from trd.store.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM trd_checkin_subscriptions")).scalar_one()
    engine.dispose()
    return int(count) == 0


def _clear(url: str) -> None:
    import sqlalchemy as sa

    from trd.store.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(CHECKIN_TABLES)))
    engine.dispose()


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checkins", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,2500,5000,10000")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--database-url", default="", help="an EMPTY database per size is needed; default SQLite"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: List[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-checkins-") as tmp:
        for n in sizes:
            if args.database_url:
                url = args.database_url
                if not results and not _empty(url):
                    print(
                        "refusing: the database already has check-ins (use an empty database)",
                        file=sys.stderr,
                    )
                    return 2
                if results:
                    _clear(url)  # the rows the previous size wrote
            else:
                url = f"sqlite:///{Path(tmp) / f'bench-{n}.sqlite3'}"
            results.append(run_size(url, n, args.batch, args.repeat))
    print(
        f"check-in scheduler pass, batch {args.batch}, median of {args.repeat} "
        f"({'SQLite' if not args.database_url else 'PostgreSQL'})"
    )
    print(f"{'people':>8} {'idle pass':>10} {'pass of 50':>11} {'per check-in':>13} {'load':>7}")
    for r in results:
        print(
            f"{r['n']:>8} {r['idle_ms']:>8.2f}ms {r['pass_ms']:>9.1f}ms "
            f"{r['per_checkin_ms']:>11.2f}ms {r['load_s']:>6.1f}s"
        )
    if len(results) >= 2:
        a, b = results[0], results[-1]
        print(
            f"growth {a['n']} -> {b['n']} people ({b['n'] / a['n']:.0f}x): "
            f"idle pass {b['idle_ms'] / a['idle_ms']:.2f}x, "
            f"full pass {b['pass_ms'] / a['pass_ms']:.2f}x"
        )
    print(f"claim query plan: {results[-1]['plan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
