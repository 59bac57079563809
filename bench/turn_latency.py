"""Turn latency over a full scripted intake, through the REST channel.

    .venv/bin/python -m bench.turn_latency                 # starts its own servers (trained model)
    .venv/bin/python -m bench.turn_latency --url http://127.0.0.1:5005
    .venv/bin/python -m bench.turn_latency --script bench/intake_script.yml --runs 3
    .venv/bin/python -m bench.turn_latency --per-turn      # also every turn's median and message

Prints the median latency of turns 1-10 and of the last ten turns, their ratio
(target: at most 1.3, so latency does not grow with conversation length), and
the median single turn (target: under 150 ms on 2 cores). Figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import List, Optional

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT / "bench" / "intake_script.yml"


def load_script(path: Path) -> List[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    messages = data["messages"] if isinstance(data, dict) else data
    return [str(m) for m in messages]


def intake_turns(path: Path) -> Optional[int]:
    """How many of the script's turns are the intake itself (``intake_turns`` in the file)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    value = data.get("intake_turns") if isinstance(data, dict) else None
    return int(value) if value else None


def run_once(base_url: str, messages: List[str], token: str) -> List[float]:
    sender = f"rest-bench-{uuid.uuid4().hex[:10]}"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    timings: List[float] = []
    for text in messages:
        t0 = time.perf_counter()
        r = session.post(
            f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        timings.append((time.perf_counter() - t0) * 1000.0)
        r.raise_for_status()
    return timings


def report(
    all_runs: List[List[float]], messages: Optional[List[str]] = None, intake: Optional[int] = None
) -> float:
    n = len(all_runs[0])
    per_turn = [statistics.median(run[i] for run in all_runs) for i in range(n)]
    if messages:
        for i, (ms, text) in enumerate(zip(per_turn, messages, strict=True), start=1):
            print(f"turn {i:3d} {ms:7.1f} ms  {text[:60]}")
    first = statistics.median(per_turn[:10])
    last = statistics.median(per_turn[-10:])
    overall = statistics.median(per_turn)
    ratio = last / first if first else float("inf")
    print(f"turns per intake:            {n}")
    print(f"runs:                        {len(all_runs)}")
    print(f"median turns 1-10:           {first:7.1f} ms")
    print(f"median last 10 turns:        {last:7.1f} ms")
    print(f"ratio last/first:            {ratio:7.2f}   (target <= 1.30)")
    if intake and intake >= 20:
        # The script's last turns are questions after the summary; the last ten turns of the
        # intake itself (forms, the longest conversation state, the summary) are shown too.
        late = statistics.median(per_turn[intake - 10 : intake])
        print(f"median intake turns {intake - 9}-{intake}:    {late:7.1f} ms (ratio {late / first:4.2f})")
    print(f"median single turn:          {overall:7.1f} ms (target < 150 ms on 2 cores)")
    print(f"p90 single turn:             {sorted(per_turn)[int(0.9 * (n - 1))]:7.1f} ms")
    return ratio


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running Rasa server; default: start one on a free port")
    parser.add_argument("--token", default=os.environ.get("RASA_AUTH_TOKEN", ""),
                        help="the server's RASA_AUTH_TOKEN (with --url; default: $RASA_AUTH_TOKEN)")
    parser.add_argument("--script", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-turn", action="store_true", help="print every turn's median latency")
    args = parser.parse_args(argv)
    messages = load_script(args.script)
    stack = None
    base_url = args.url
    if not base_url:
        sys.path.insert(0, str(ROOT))
        from tests.support.servers import Stack

        model = os.environ.get("TRD_MODEL") or subprocess.run(
            [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip().splitlines()[-1]
        stack = Stack(model)
        base_url = stack.base_url
    token = stack.auth_token if stack is not None else args.token
    try:
        run_once(base_url, messages[:5], token)  # warm-up
        runs = [run_once(base_url, messages, token) for _ in range(args.runs)]
    finally:
        if stack is not None:
            stack.stop()
    report(runs, messages if args.per_turn else None, intake_turns(args.script))
    return 0


if __name__ == "__main__":
    sys.exit(main())
