"""A throwaway PostgreSQL cluster for the test session.

``initdb`` into a temp dir, serve on 127.0.0.1 with a free port (unix socket in
the temp dir, fsync off), create a database, and remove everything at the end.
PostgreSQL refuses to run as root, so when the tests run as root (CI) the server
programs run as the ``postgres`` system user through ``runuser``.

Missing binaries are an error, never a skip: scripts/system_deps.sh installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, List
from urllib.parse import quote

import pytest

PG_USER = "trd"
PG_DATABASE = "trd_test"
SYSTEM_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def _version_key(path: str) -> List[int]:
    return [int(p) for p in re.findall(r"\d+", path)]


def find_pg_bin() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: List[str] = []
    if os.environ.get("PG_BIN"):
        candidates.append(os.environ["PG_BIN"])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for cand in candidates:
        d = Path(cand)
        if all(os.access(d / prog, os.X_OK) for prog in ("initdb", "pg_ctl", "postgres")):
            return d
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in "
        "/usr/lib/postgresql/*/bin, $PG_BIN or PATH. Install them with scripts/system_deps.sh "
        "(apt-get install postgresql); the PostgreSQL tests cannot be skipped."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    nologin = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", nologin, SYSTEM_USER],
            check=True, capture_output=True, text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise PostgresUnavailable(
            f"running as root and there is no {SYSTEM_USER!r} user to run PostgreSQL as; "
            f"creating it failed: {detail.strip()}"
        ) from exc
    return pwd.getpwnam(SYSTEM_USER)


class PostgresCluster:
    """One PostgreSQL server in a temp dir; use as a context manager."""

    def __init__(self, pg_bin: Path | None = None) -> None:
        self.pg_bin = pg_bin or find_pg_bin()
        self.password = "pw-" + secrets.token_hex(8) + "!@:/"  # URL-special characters on purpose
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="trd-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "postgres.log"
        self.as_root = os.geteuid() == 0
        self._started = False

    # -- helpers --------------------------------------------------------------------
    def _cmd(self, *args: str) -> List[str]:
        if self.as_root:
            return ["runuser", "-u", SYSTEM_USER, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = dict(os.environ, LC_ALL="C", LANG="C")
        env.pop("PGDATA", None)
        try:
            proc = subprocess.run(
                self._cmd(*args), capture_output=True, text=True, timeout=timeout, env=env, cwd=str(self.root)
            )
        except FileNotFoundError as exc:
            raise PostgresUnavailable(
                f"cannot run {exc.filename!r}: PostgreSQL runs as the {SYSTEM_USER!r} user through "
                "runuser (util-linux) when the tests run as root"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise PostgresUnavailable(f"{Path(args[0]).name} did not finish in {timeout:.0f}s") from exc
        if proc.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                f"{self.log_tail()}"
            )
        return proc

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "server log:\n" + "\n".join(lines[-n:])

    def url(self, database: str = PG_DATABASE) -> str:
        return (
            f"postgresql+psycopg2://{PG_USER}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> PostgresCluster:
        self.sockets.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chmod(self.root, 0o700)
        os.chmod(pwfile, 0o600)
        if self.as_root:
            user = _ensure_system_user()
            for path in (self.root, self.sockets, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            str(self.pg_bin / "initdb"), "-D", str(self.data), "-U", PG_USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync",
        )
        pwfile.unlink()
        last_error: Exception | None = None
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            try:
                self._run(
                    str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                    "-o", options, "-w", "-t", "60", "start",
                )
                self._started = True
                break
            except PostgresUnavailable as exc:
                last_error = exc
        if not self._started:
            raise PostgresUnavailable(f"PostgreSQL did not start: {last_error}")
        self.create_database(PG_DATABASE)
        return self

    def create_database(self, name: str) -> str:
        """Create a database (name: letters, digits, _) and return its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"bad database name {name!r}")
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1", port=self.port, user=PG_USER, password=self.password,
                    dbname="postgres", connect_timeout=5,
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        try:
            if self._started:
                self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self._started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


_cluster: PostgresCluster | None = None


def fresh_database(prefix: str = "t") -> str:
    """A new empty database on the session's cluster (needs the ``postgres_url`` fixture)."""
    if _cluster is None:
        raise RuntimeError("fresh_database() needs the postgres_url fixture to be active")
    return _cluster.create_database(f"{prefix}_{secrets.token_hex(6)}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a database on a throwaway PostgreSQL cluster (for the whole session)."""
    global _cluster
    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        cluster.start()
    except BaseException as exc:
        cluster.stop()
        if isinstance(exc, PostgresUnavailable):
            pytest.fail(f"the throwaway PostgreSQL cluster could not start: {exc}", pytrace=False)
        raise
    _cluster = cluster
    try:
        yield cluster.url()
    finally:
        _cluster = None
        cluster.stop()
