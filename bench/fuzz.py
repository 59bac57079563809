"""Fuzz every endpoint of a running assistant with malformed requests (#10) and print figures.

    python bench/fuzz.py --base-url http://127.0.0.1:5005 --auth-token "$RASA_AUTH_TOKEN" \\
        --twilio-token "$TWILIO_AUTH_TOKEN" --count 3000 --log var/rasa.log

Requests, chosen at random (seeded, so a run can be repeated) across: the web chat (session,
message, history, end, static files), the REST channel, the SMS webhook (bad signatures, and
correctly signed odd bodies when ``--twilio-token`` is given), summary links, the clinician
API, the check-in links, the health routes and Rasa's HTTP API (with the token, from this
machine). Bodies: invalid JSON, wrong types, nested junk, huge bodies (over the 64 KB cap),
odd unicode (lone surrogates, bidi controls, zero-width and NUL characters, 4-byte emoji,
overlong text), slash commands and injected intents, wrong methods and content types.

Statuses -2 (the client library refused to send it: a header with a newline) and -3 (the
server closed the connection on a body over its cap before reading it) and -4 (a 503 from a
part this deployment has not configured, saying so: e.g. the check-in route without REST SMS
replies) are counted, not failures; -1 (no answer) is a failure.

Pass: no response is a 5xx (a 503 with the crisis lines is the designed answer while a part of
the service is unavailable, so it is counted separately and listed: the run fails on it
unless ``--allow-503``), no log file given with ``--log`` gains a ``Traceback`` line, and
the server still answers a normal message afterwards. Prints a table by endpoint and status.
Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

import requests

ODD = [
    "\ud800",  # a lone surrogate (sent as the JSON escape)
    "\u202e\u2066kill\u2069",
    "\u200b\u200c\u200d\ufeff",
    "\x00\x01\x1b[31m",
    "\U0001f600" * 50,
    "e\u0301" * 100,
    "\u0000null",
    "%00%0a%0d",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}",
    "' OR 1=1 --",
    "\u00ad" * 10 + "sui\u00adcide",
]
SLASH = [
    "/restart",
    "/crisis",
    '/crisis{"risk_category": "plan"}',
    '/inform{"drug": "x"}',
    "/session_start",
    "/back",
    "/affirm",
    "/" + "a" * 300,
    '/greet{"x":' * 50,
    "/EXTERNAL_checkin",
]
BODY_CAP = 64 * 1024  # REQUEST_MAX_BYTES
NOT_CONFIGURED = re.compile(r'"(?:error|outcome)":\s*"(?:not_configured|unavailable)"')
TYPES: List[Any] = [None, 0, -1, 1.5, True, [], {}, [1, 2], {"a": {"b": []}}, "x" * 5, float("1e308")]


def q(text: str) -> str:
    """``text`` for a URL path or query, whatever it holds (lone surrogates become raw bytes)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def junk_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(ODD)
    if kind == 1:
        return rng.choice(SLASH)
    if kind == 2:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 200)))
    if kind == 3:
        return (
            "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randrange(1, 60)))
            .encode("utf-8", "replace")
            .decode("utf-8", "replace")
        )
    if kind == 4:
        return "x" * rng.choice([2001, 5000, 70000])
    return rng.choice(["hi", "I want to kill myself", "yes", "1", "delete my data", "start over"])


def junk_json(rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return b"{not json"
    if kind == 1:
        return b"\xff\xfe\x00garbage"
    if kind == 2:
        return json.dumps(rng.choice(TYPES)).encode()
    if kind == 3:
        return json.dumps({"message": rng.choice(TYPES), "sender": rng.choice(TYPES)}).encode()
    if kind == 4:
        return b'{"message": "' + b"a" * 70000 + b'"}'
    if kind == 5:
        return b"[" * 5000 + b"]" * 5000
    if kind == 6:
        return json.dumps({"message": junk_text(rng), "metadata": {"x": junk_text(rng)}}).encode(
            "utf-8", "surrogatepass"
        )
    return ('{"message": "' + rng.choice(["\\ud800", "\\u0000", "\\udfff\\ud800"]) + '"}').encode()


@dataclass
class Target:
    base_url: str
    auth_token: str
    twilio_token: str
    clinician_token: str
    public_base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    web_tokens: List[str] = field(default_factory=list)


Request = Tuple[str, str, str, Dict[str, Any]]  # (endpoint name, method, path, requests kwargs)


def web_token(target: Target, rng: random.Random) -> str:
    if target.web_tokens and rng.random() < 0.9:
        return rng.choice(target.web_tokens)
    try:
        r = target.session.post(
            target.base_url + "/chat/session", headers={"Origin": target.base_url}, timeout=30
        )
        token = r.json().get("token", "") if r.status_code == 200 else ""
    except (requests.RequestException, ValueError):
        return ""
    if token:
        target.web_tokens.append(token)
    return token


def twilio_signature(target: Target, path: str, params: List[Tuple[str, str]]) -> str:
    import base64
    import hashlib
    import hmac

    data = target.public_base_url + path + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(
        target.twilio_token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def make_request(target: Target, rng: random.Random) -> Request:
    origin = {"Origin": target.base_url}
    pick = rng.randrange(14)
    if pick == 0:
        return ("chat/session", "POST", "/chat/session", {"data": junk_json(rng), "headers": origin})
    if pick in (1, 2):
        token = (
            web_token(target, rng)
            if rng.random() < 0.7
            else rng.choice(["", "v1.x.1.y", "Bearer", "a" * 300])
        )
        headers = {
            **origin,
            "Authorization": f"Bearer {token}",
            "Content-Type": rng.choice(["application/json", "text/plain", "multipart/form-data"]),
        }
        return ("chat/message", "POST", "/chat/message", {"data": junk_json(rng), "headers": headers})
    if pick == 3:
        token = web_token(target, rng) if rng.random() < 0.5 else junk_text(rng)[:50]
        path = rng.choice(
            [
                "/chat/history",
                "/chat/session/end",
                "/chat/static/" + q(junk_text(rng)[:40]),
                "/chat/vendor/deep-chat.js",
                "/chat/" + q(junk_text(rng)[:20]),
            ]
        )
        method = "POST" if path.endswith("/end") else rng.choice(["GET", "GET", "DELETE", "PUT"])
        headers = {
            **origin,
            "Authorization": f"Bearer {token}".encode("utf-8", "replace").decode("latin-1", "replace"),
        }
        return (
            "chat/other",
            method,
            path,
            {"headers": headers, "data": junk_json(rng) if method != "GET" else None},
        )
    if pick in (4, 5):
        token = (
            target.auth_token
            if rng.random() < 0.7
            else junk_text(rng)[:40].encode("latin-1", "replace").decode("latin-1")
        )
        sender = rng.choice(
            [f"rest-fuzz-{rng.randrange(50)}", "web-victim", "sms-" + "a" * 32, "", "rest-" + "x" * 300, 12]
        )
        body = rng.choice(
            [
                junk_json(rng),
                json.dumps(
                    {
                        "sender": sender,
                        "message": junk_text(rng),
                        "input_channel": "twilio",
                        "metadata": {"phone": "+15551234567"},
                    },
                    ensure_ascii=False,
                ).encode("utf-8", "surrogatepass"),
            ]
        )
        return (
            "rest",
            "POST",
            "/webhooks/rest/webhook" + rng.choice(["", "?token=" + q(token)]),
            {
                "data": body,
                "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            },
        )
    if pick in (6, 7):
        params = [
            ("MessageSid", "SM" + "".join(rng.choice("abcdef0123456789") for _ in range(32))),
            (
                "From",
                rng.choice(
                    ["+15550009999", "+1555000" + str(rng.randrange(1000, 9999)), junk_text(rng)[:30]]
                ),
            ),
            ("To", "+15550100000"),
            ("Body", junk_text(rng)[:2000]),
        ]
        if rng.random() < 0.2:
            params = params[: rng.randrange(4)] + [
                (junk_text(rng)[:10], junk_text(rng)[:10]) for _ in range(rng.choice([1, 300]))
            ]
        signed = rng.random() < 0.6 and bool(target.twilio_token)
        try:
            signature = (
                twilio_signature(target, "/webhooks/twilio/webhook", params)
                if signed
                else rng.choice(["", "bad", "a" * 1000])
            )
            body = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in params).encode()
        except UnicodeEncodeError:
            signature, body = "bad", b"Body=%ff%fe&From=%00"
        headers = {
            "X-Twilio-Signature": signature,
            "Content-Type": rng.choice(["application/x-www-form-urlencoded", "application/json", "text/xml"]),
        }
        return (
            "sms",
            "POST",
            "/webhooks/twilio/webhook",
            {"data": body if rng.random() < 0.9 else b"x" * 70000, "headers": headers},
        )
    if pick == 8:
        token = rng.choice(
            [
                "a" * 43,
                "".join(rng.choice(string.ascii_letters) for _ in range(43)),
                q(junk_text(rng)[:60]),
                "..%2F..%2Fetc",
            ]
        )
        suffix = rng.choice(["", ".pdf", ".json", ".html", "/x/y", "?format=pdf", ".PDF"])
        return ("summary", rng.choice(["GET", "POST", "HEAD"]), "/summary/" + token + suffix, {})
    if pick == 9:
        who = rng.choice(["rest-fuzz-1", "web-x", q(junk_text(rng)[:50]), "a/b/../c", "x" * 400])
        token = rng.choice(
            [
                target.clinician_token,
                "",
                "wrong",
                junk_text(rng)[:20].encode("latin-1", "replace").decode("latin-1"),
            ]
        )
        return ("intake", "GET", "/intake/" + who, {"headers": {"Authorization": f"Bearer {token}"}})
    if pick == 10:
        return (
            "checkin",
            rng.choice(["GET", "POST"]),
            "/checkin/" + q(junk_text(rng)[:60]),
            {"data": junk_json(rng)},
        )
    if pick == 12 and rng.random() < 0.3:  # the check-in scheduler's route (RASA_AUTH_TOKEN)
        token = target.auth_token if rng.random() < 0.5 else "wrong"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return (
            "sms/checkin",
            "POST",
            "/webhooks/twilio/checkin",
            {"data": junk_json(rng), "headers": headers},
        )
    if pick == 11:
        return (
            "health",
            rng.choice(["GET", "POST", "OPTIONS"]),
            rng.choice(
                [
                    "/",
                    "/webhooks/rest/",
                    "/webhooks/twilio/",
                    "/version",
                    "/status",
                    "/nope/" + q(junk_text(rng)[:30]),
                ]
            ),
            {},
        )
    api = rng.choice(
        [
            ("POST", "/model/parse", junk_json(rng)),
            ("GET", "/conversations/" + q(junk_text(rng)[:40]) + "/tracker", None),
            ("POST", "/conversations/rest-fuzz-api/messages", junk_json(rng)),
            ("POST", "/conversations/rest-fuzz-api/tracker/events", junk_json(rng)),
            ("POST", "/conversations/rest-fuzz-api/trigger_intent", junk_json(rng)),
            ("POST", "/conversations/rest-fuzz-api/predict", None),
            ("PUT", "/model", junk_json(rng)),
            ("POST", "/model/test/intents", junk_json(rng)),
            ("GET", "/domain", None),
        ]
    )
    token = target.auth_token if rng.random() < 0.7 else "wrong"
    return (
        "http-api",
        api[0],
        api[1] + "?token=" + token,
        {"data": api[2], "headers": {"Content-Type": "application/json"}},
    )


def send(target: Target, request: Request) -> Tuple[str, int, str]:
    name, method, path, kwargs = request
    # A fresh connection each time: after a 413 the server closes the connection, and a pooled
    # one would make the next request fail on the client's side.
    kwargs = {**kwargs, "headers": {**(kwargs.get("headers") or {}), "Connection": "close"}}
    try:
        r = target.session.request(
            method, target.base_url + path, timeout=120, allow_redirects=False, **kwargs
        )
        return name, r.status_code, r.text[:300]
    except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL) as exc:
        return name, -2, f"not sent: {type(exc).__name__}"  # the client refused to send it
    except requests.ConnectionError as exc:
        data = kwargs.get("data") or b""
        if len(data) > BODY_CAP:  # the server closed the connection on a body over its cap
            return name, -3, f"closed on a {len(data)}-byte body"
        return name, -1, f"{type(exc).__name__}: {exc}"[:300]
    except requests.RequestException as exc:
        return name, -1, f"{type(exc).__name__}: {exc}"[:300]
    except (UnicodeError, ValueError) as exc:  # the client could not even send it: not the server's fault
        return name, -2, f"not sent: {type(exc).__name__}"


def still_answers(target: Target) -> bool:
    r = requests.post(
        target.base_url + "/webhooks/rest/webhook",
        json={"sender": "rest-fuzz-after", "message": "hello"},
        headers={"Authorization": f"Bearer {target.auth_token}"},
        timeout=120,
    )
    return r.status_code == 200 and isinstance(r.json(), list) and bool(r.json())


def run(
    target: Target,
    count: int,
    seed: int,
    workers: int = 4,
    logs: Optional[List[Path]] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> Dict[str, Any]:
    """Send ``count`` requests; returns the figures (see the module docstring)."""
    rng = random.Random(seed)
    offsets = {p: (p.stat().st_size if p.exists() else 0) for p in logs or []}
    requests_ = [make_request(target, rng) for _ in range(count)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda req: send(target, req), requests_))
    took = time.monotonic() - started
    table: Dict[str, Counter] = defaultdict(Counter)
    server_errors: List[Tuple[str, int, str, str]] = []
    for (name, status, text), req in zip(results, requests_, strict=True):
        if status == 503 and NOT_CONFIGURED.search(text):
            status = -4  # a part this deployment has not configured says so: the designed answer
        table[name][status] += 1
        if status >= 500 or status == -1:
            server_errors.append((name, status, req[1] + " " + req[2][:120], text))
    tracebacks: List[str] = []
    for path, offset in offsets.items():
        if path.exists():
            with path.open("rb") as f:
                f.seek(offset)
                new = f.read().decode("utf-8", "replace")
            tracebacks += [f"{path.name}: {line}" for line in new.splitlines() if "Traceback" in line]
    return {
        "count": count,
        "seconds": took,
        "table": {k: dict(v) for k, v in sorted(table.items())},
        "server_errors": server_errors,
        "tracebacks": tracebacks,
        "still_answers": still_answers(target),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5005")
    parser.add_argument("--public-base-url", default="", help="PUBLIC_BASE_URL (for SMS signatures)")
    parser.add_argument("--auth-token", required=True, help="RASA_AUTH_TOKEN")
    parser.add_argument("--twilio-token", default="", help="TWILIO_AUTH_TOKEN: also send signed odd SMS")
    parser.add_argument("--clinician-token", default="")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--log", action="append", type=Path, default=[], help="a server log to scan")
    parser.add_argument("--allow-503", action="store_true")
    args = parser.parse_args(argv)
    target = Target(
        args.base_url,
        args.auth_token,
        args.twilio_token,
        args.clinician_token,
        args.public_base_url or args.base_url,
    )
    figures = run(target, args.count, args.seed, args.workers, args.log)
    print(
        f"{figures['count']} requests in {figures['seconds']:.0f}s "
        f"({figures['count'] / figures['seconds']:.0f}/s)"
    )
    print(f"{'endpoint':<14} statuses")
    for name, statuses in figures["table"].items():
        print(f"{name:<14} " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    errors = [e for e in figures["server_errors"] if not (args.allow_503 and e[1] == 503)]
    print(
        f"5xx or no answer: {len(figures['server_errors'])}; "
        f"tracebacks in the logs: {len(figures['tracebacks'])}; "
        f"still answers: {figures['still_answers']}"
    )
    for e in figures["server_errors"][:20]:
        print("  ", e)
    for t in figures["tracebacks"][:20]:
        print("  ", t)
    return 0 if not errors and not figures["tracebacks"] and figures["still_answers"] else 1


if __name__ == "__main__":
    sys.exit(main())
