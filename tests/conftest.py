"""Shared fixtures: the trained model and real servers on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

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


@pytest.fixture(scope="session")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    """One shared deployment for tests that only talk to it (use fresh sender ids).

    Its PUBLIC_BASE_URL is a public-looking host, so the web chat turns summary links into
    links (tests/browser/test_summary_link.py maps that host to the server in chromium);
    requests still go to ``stack.base_url`` on 127.0.0.1.
    """
    return make_stack(extra_env={"PUBLIC_BASE_URL": f"http://{PUBLIC_HOST}", "SUMMARY_LINK_TTL_DAYS": "7"})
