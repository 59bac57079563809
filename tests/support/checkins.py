"""Weekly check-ins in integration tests: a shared fake clock, the scheduler worker(s), the texts.

Every process of the stack reads "now" for the check-ins from one file
(``CHECKIN_CLOCK_FILE``, trd/checkins/clock.py), so a test moves eight weeks in seconds by
writing it. Workers are started like the escalation worker: ``python -m trd.checkins.worker``
with the stack's environment, each in its own process group (so ``kill -9`` of one is real).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from tests.support.servers import ROOT, Stack
from trd.checkins.clock import FileClock

READY = "check-in scheduler started"


class SharedClock(FileClock):
    def __init__(self, path: Path, start: datetime) -> None:
        super().__init__(path)
        self.set(start)

    @property
    def now(self) -> datetime:
        return self()

    def to(self, moment: datetime) -> None:
        self.set(moment.astimezone(timezone.utc))

    @contextmanager
    def running(self, step: float = 0.25) -> Iterator[None]:
        """Time goes on from where the clock stands, one second a second, as in a deployment
        (leases run out, back-offs end), until the block is left."""
        stop = threading.Event()
        start, began = self(), time.monotonic()

        def tick() -> None:
            while not stop.wait(step):
                self.to(start + timedelta(seconds=time.monotonic() - began))

        ticker = threading.Thread(target=tick, name="shared-clock", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()


class Workers:
    """Check-in scheduler processes for one stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.procs: Dict[str, subprocess.Popen] = {}

    def log(self, name: str) -> Path:
        return self.stack.workdir / f"checkin-{name}.log"

    def start(
        self, name: str = "w1", extra_env: Optional[Dict[str, str]] = None, timeout: float = 60
    ) -> None:
        path = self.log(name)
        before = path.read_text(errors="replace").count(READY) if path.exists() else 0
        proc = subprocess.Popen(
            [sys.executable, "-m", "trd.checkins.worker"],
            cwd=ROOT,
            env={**self.stack.env, **(extra_env or {})},
            stdout=open(path, "ab"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        deadline = time.monotonic() + timeout
        while (path.read_text(errors="replace").count(READY) if path.exists() else 0) <= before:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"check-in worker {name} did not start:\n{self.tail(name)}")
            time.sleep(0.1)

    def tail(self, name: str, n: int = 60) -> str:
        path = self.log(name)
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGTERM) -> Optional[int]:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        return proc.returncode

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def names(self) -> List[str]:
        return list(self.procs)
