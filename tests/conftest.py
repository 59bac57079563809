"""Shared fixtures: the trained model and real servers on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import pytest

from tests.support import answers_blind, navigator_heldout, safety_report
from tests.support.postgres import postgres_url  # noqa: F401  (session fixture)
from tests.support.servers import PUBLIC_HOST, ROOT, Stack

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

# Several unit-test modules start small Sanic apps in this one process. Sanic 21.12
# rewrites its own classes when the first app starts (TouchUp) and a second app then
# fails to start, unless test mode keeps the original methods (as sanic-testing does).
from sanic import Sanic  # noqa: E402

Sanic.test_mode = True


@pytest.fixture(scope="session")
def trained_model() -> str:
    """The model for the current config, domain and data (trained once, cached)."""
    path = os.environ.get("TRD_MODEL")
    if path and Path(path).exists():
        return path
    out = subprocess.run(
        [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def make_stack(trained_model: str) -> Iterator[Callable[..., Stack]]:
    stacks: List[Stack] = []

    def factory(
        database_url: Optional[str] = None,
        extra_env: Optional[dict] = None,
        with_actions: bool = True,
    ) -> Stack:
        s = Stack(trained_model, database_url=database_url, extra_env=extra_env, with_actions=with_actions)
        stacks.append(s)
        return s

    yield factory
    for s in stacks:
        s.stop()


@pytest.fixture(autouse=True)
def _escalation_journal_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crisis spooled in a test (the database "down") goes to a temporary journal, never var/ (#10)."""
    path = tmp_path_factory.mktemp("journal") / "escalation-journal.jsonl"
    monkeypatch.setenv("ESCALATION_JOURNAL_PATH", str(path))


@pytest.fixture(scope="session")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    """One shared deployment for tests that only talk to it (use fresh sender ids).

    Its PUBLIC_BASE_URL is a public-looking host, so the web chat turns summary links into
    links (tests/browser/test_summary_link.py maps that host to the server in chromium);
    requests still go to ``stack.base_url`` on 127.0.0.1.
    """
    return make_stack(extra_env={"PUBLIC_BASE_URL": f"http://{PUBLIC_HOST}", "SUMMARY_LINK_TTL_DAYS": "7"})


# --- running on both cores (pytest-xdist, `make test` passes -n 3 --dist loadgroup) -------------
# Tests that need a real Rasa server run in three groups, one per worker, each in collection
# order: those on the shared stack (and its restart scenarios), those that start stacks of
# their own (SMS, escalation, PostgreSQL), and the fault and check-in tests, which mostly
# wait (a 90 s database lock, weeks of check-ins on a fake clock). Each session-scoped stack
# so starts once per run, as without xdist, and the groups' servers run side by side (three
# workers on two cores: much of their time is spent waiting on servers); the rest (unit,
# golden, safety-engine, navigator tests) is shared out between them. PostgreSQL-only tests
# share one throwaway cluster the same way.
_SHARED_STACK_FIXTURES = {"stack", "restarted_stack", "stack_without_actions", "safety_results"}
_SERVER_FIXTURES = {"trained_model", "make_stack", "sms_stacks", "fault_stack"}  # fault_stack: tests/faults/


@pytest.hookimpl(tryfirst=True)  # before -m deselects the integration tests
def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    safety_report.note_collected(config, items)
    navigator_heldout.note_collected(config, items)
    answers_blind.note_collected(config, items)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _SHARED_STACK_FIXTURES:
            item.add_marker(pytest.mark.xdist_group("rasa-shared"))
        elif item.get_closest_marker("integration") or item.get_closest_marker("browser") or (
            fixtures & _SERVER_FIXTURES
        ):
            # the fault and check-in tests (long waits: a 90 s database lock, eight weeks of
            # check-ins) in a group of their own, beside the other stacks of their own
            path = str(getattr(item, "path", item.fspath))
            long_waits = "/tests/faults/" in path or "/tests/integration/test_checkins_" in path
            item.add_marker(pytest.mark.xdist_group("rasa-waits" if long_waits else "rasa-own"))
        elif item.get_closest_marker("postgres") or "postgres_url" in fixtures:
            item.add_marker(pytest.mark.xdist_group("postgres"))


# --- the safety suite's per-category table (tests/support/safety_report.py) --------------------
def pytest_sessionfinish(session: pytest.Session) -> None:
    safety_report.hand_over(session.config)
    navigator_heldout.hand_over(session.config)
    answers_blind.hand_over(session.config)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: only called when xdist runs
def pytest_testnodedown(node: Any, error: Any) -> None:
    safety_report.take_over(node.config, getattr(node, "workeroutput", {}) or {})
    navigator_heldout.take_over(node.config, getattr(node, "workeroutput", {}) or {})
    answers_blind.take_over(node.config, getattr(node, "workeroutput", {}) or {})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    safety_report.terminal_summary(terminalreporter, config)
    navigator_heldout.terminal_summary(terminalreporter, config)
    answers_blind.terminal_summary(terminalreporter, config)
