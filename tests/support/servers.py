"""Real servers for integration tests: the action server and the Rasa server on 127.0.0.1.

A :class:`Stack` is one deployment in miniature: its own database (a fresh SQLite
file unless a URL is given), its own free ports and secrets, and the trained model.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The shared stack's PUBLIC_BASE_URL host (tests/conftest.py): summary links point there.
PUBLIC_HOST = "trd-summary.example.org"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            r = requests.get(url, timeout=2)
            if r.status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s")


class Stack:
    """An action server and a Rasa server running the trained model."""

    def __init__(
        self,
        model: str,
        database_url: Optional[str] = None,
        extra_env: Optional[Dict[str, str]] = None,
        with_actions: bool = True,
    ) -> None:
        self.model = model
        self._worker: Optional[subprocess.Popen] = None
        self.workdir = Path(tempfile.mkdtemp(prefix="trd-stack-"))
        self.database_url = database_url or f"sqlite:///{self.workdir / 'trd.sqlite3'}"
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}/webhook"
        self.auth_token = secrets.token_hex(16)
        env = dict(os.environ)
        env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONDONTWRITEBYTECODE": "1",
                "DATABASE_URL": self.database_url,
                "ACTION_SERVER_URL": self.action_url,
                "ACTION_PORT": str(self.action_port),
                "RASA_PORT": str(self.rasa_port),
                "RASA_AUTH_TOKEN": self.auth_token,
                "PUBLIC_BASE_URL": self.base_url,
                "WEBCHAT_SECRET": secrets.token_hex(32),
                "WEBCHAT_ALLOWED_ORIGINS": f"{self.base_url},http://localhost:{self.rasa_port}",
                "CLINICIAN_TOKEN": secrets.token_hex(16),
                "PHONE_HASH_SECRET": secrets.token_hex(32),
                # the stack's own escalation journal (a crisis spooled while its database is
                # away), never the checkout's var/, where `make run` would deliver it
                "ESCALATION_JOURNAL_PATH": str(self.workdir / "escalation-journal.jsonl"),
                # The browser tests drive whole intakes faster than anyone types; the limits
                # themselves are tested in tests/unit/test_webchat_ratelimit.py.
                "WEBCHAT_MESSAGES_PER_MINUTE": "0",
                "WEBCHAT_SESSIONS_PER_MINUTE": "0",
            }
        )
        env.update(extra_env or {})
        self.env = env
        self._actions: Optional[subprocess.Popen] = None
        self._rasa: Optional[subprocess.Popen] = None
        self._migrate()
        # The two servers load at the same time (each mostly on one core); then wait for both.
        if with_actions:
            self._spawn_actions()
        self._spawn_rasa()
        try:
            if with_actions:
                self._wait_actions()
            self._wait_rasa()
        except BaseException:
            self.stop()
            raise

    # --- processes -------------------------------------------------------
    def _log(self, name: str) -> Any:
        return open(self.workdir / f"{name}.log", "ab")

    def log_tail(self, name: str, n: int = 60) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])

    def _migrate(self) -> None:
        if not (ROOT / "trd" / "store" / "migrate.py").exists():
            return
        subprocess.run(
            [sys.executable, "-m", "trd.store.migrate"],
            cwd=ROOT, env=self.env, check=True, capture_output=True, timeout=120,
        )

    def start_actions(self) -> None:
        self._spawn_actions()
        self._wait_actions()

    def _spawn_actions(self) -> None:
        self._actions = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(self.action_port)],
            cwd=ROOT, env=self.env, stdout=self._log("actions"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_actions(self) -> None:
        try:
            wait_http(f"http://127.0.0.1:{self.action_port}/health", 60, self._actions)
        except Exception as exc:
            raise RuntimeError(f"action server failed: {exc}\n{self.log_tail('actions')}") from exc

    def start_rasa(self) -> None:
        self._spawn_rasa()
        self._wait_rasa()

    def _spawn_rasa(self) -> None:
        self._rasa = subprocess.Popen(
            [
                str(VENV_BIN / "python"), "-m", "bot", "run", "--model", self.model,
                "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                "--enable-api", "--auth-token", self.auth_token,
                "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
            ],
            cwd=ROOT, env=self.env, stdout=self._log("rasa"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_rasa(self) -> None:
        try:
            wait_http(self.base_url + "/", 240, self._rasa)
        except Exception as exc:
            raise RuntimeError(f"Rasa server failed: {exc}\n{self.log_tail('rasa')}") from exc

    @staticmethod
    def _kill(proc: Optional[subprocess.Popen], sig: int = signal.SIGTERM) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_actions(self) -> None:
        self._kill(self._actions)
        self._actions = None

    def stop_rasa(self, sig: int = signal.SIGTERM) -> None:
        self._kill(self._rasa, sig)
        self._rasa = None

    def restart_rasa(self) -> None:
        self.stop_rasa()
        self.start_rasa()

    # The escalation delivery worker is not started with the stack: tests that need it start it.
    WORKER_READY = "escalation worker started"

    def start_worker(self, extra_env: Optional[Dict[str, str]] = None, timeout: float = 60) -> None:
        """Start ``python -m trd.escalation.worker`` with the stack's env; wait until it polls."""
        if self._worker is not None and self._worker.poll() is None:
            raise RuntimeError("the escalation worker is already running")
        before = self.log_tail("worker", n=100_000).count(self.WORKER_READY)
        self._worker = subprocess.Popen(
            [sys.executable, "-m", "trd.escalation.worker"],
            cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=self._log("worker"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while self.log_tail("worker", n=100_000).count(self.WORKER_READY) <= before:
            if self._worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"escalation worker did not start\n{self.log_tail('worker')}")
            time.sleep(0.1)

    def stop_worker(self, sig: int = signal.SIGTERM) -> Optional[int]:
        """Stop the worker with ``sig`` (SIGKILL: a crash); returns its exit status."""
        proc, self._worker = self._worker, None
        if proc is None:
            return None
        self._kill(proc, sig)
        return proc.returncode

    def stop(self) -> None:
        self.stop_worker()
        self.stop_rasa()
        self.stop_actions()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- HTTP helpers ----------------------------------------------------
    def rest(self, sender: str, message: str, timeout: float = 30) -> List[Dict[str, Any]]:
        r = requests.post(
            self.base_url + "/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers={"Authorization": f"Bearer {self.auth_token}"},
            timeout=timeout,
        )
        r.raise_for_status()
        result: List[Dict[str, Any]] = r.json()
        return result

    def parse(self, text: str) -> Dict[str, Any]:
        r = requests.post(
            self.base_url + "/model/parse",
            params={"token": self.auth_token},
            json={"text": text},
            timeout=30,
        )
        r.raise_for_status()
        result: Dict[str, Any] = r.json()
        return result

    def tracker(self, sender: str) -> Dict[str, Any]:
        r = requests.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.auth_token},
            timeout=30,
        )
        r.raise_for_status()
        result: Dict[str, Any] = r.json()
        return result


def new_sender(prefix: str = "test") -> str:
    """A fresh REST sender id (the REST channel takes only ids that start with "rest-")."""
    return f"rest-{prefix}-{uuid.uuid4().hex[:12]}"


def texts(messages: List[Dict[str, Any]]) -> str:
    """All the text a person would read in a list of bot messages, in order."""
    return "\n".join(m.get("text") or "" for m in messages)
