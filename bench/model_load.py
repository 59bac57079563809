"""How long the Rasa server takes to load the trained model, Rasa's way and this project's.

    .venv/bin/python -m bench.model_load                     # the model scripts/train.sh names
    .venv/bin/python -m bench.model_load --model models/x.tar.gz

Loads the model twice, each in a fresh process: with Rasa 3.6's own ``RasaModel.load``
(which builds DIET and the response selector by training them one step) and with
bot/rasa_speedups.py's (one eager prediction, then the trained weights). Prints each load's
seconds and whether the two read every message alike: intent ranking to the last digit,
entities and the response selector's answer, on the fixed messages below and every NLU
training example. Exit 1 if any message is read differently. Figures, not a test.

    --one fast|rasa --out FILE   one load only, its readings written to FILE as JSON
                                 (tests/unit/test_rasa_speedups.py uses --one fast)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIXED = [
    "hello", "yes", "no", "what is ketamine", "is ECT safe for older people",
    "tell me about lithium augmentation", "I took sertraline 100mg for 8 weeks and it did nothing",
    "venlafaxine 225 since march, then added aripiprazole", "what does TMS feel like",
    "I feel so tired all the time", "i dont want to be here anymore", "how do I kill a frozen app",
    "my sister tried to overdose last year, she is ok now", "can we stop for today", "/restart",
    "qué es la ketamina", "🙂", "", "x" * 300,
]


def training_examples() -> List[Dict[str, str]]:
    """(text, intent) of every NLU training example (entity annotations taken out)."""
    import re

    out = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line[2:])
                    out.append({"text": text, "intent": block["intent"]})
    return out


def load_and_read(model: str, how: str, texts: List[str]) -> Dict[str, Any]:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    if how == "fast":
        import logging

        from bot import rasa_speedups

        said = logging.getLogger(rasa_speedups.__name__)  # which way each model was loaded
        said.setLevel(logging.INFO)
        said.addHandler(logging.StreamHandler(sys.stderr))
        rasa_speedups.install_fast_model_load()
    from rasa.core.agent import load_agent

    async def run() -> Dict[str, Any]:
        started = time.monotonic()
        agent = await load_agent(model_path=model)
        seconds = time.monotonic() - started
        read = []
        for text in texts:
            data = await agent.parse_message(text)
            read.append({key: data.get(key) for key in ("intent", "intent_ranking", "entities",
                                                          "response_selector")})
        return {"load_seconds": seconds, "read": read}

    return asyncio.run(run())


def one(model: str, how: str, texts: List[str], out: Path) -> Dict[str, Any]:
    """One load in a fresh process; its readings."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(texts, handle)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.model_load", "--model", model, "--one", how, "--texts", handle.name,
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    os.unlink(handle.name)
    if proc.returncode != 0:
        raise RuntimeError(f"loading {model} ({how}) failed:\n{proc.stderr[-3000:]}")
    data: Dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["log"] = proc.stdout + proc.stderr
    return data


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="")
    parser.add_argument("--one", choices=("fast", "rasa"))
    parser.add_argument("--texts", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    model = args.model or subprocess.run(
        [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1]
    if args.one:
        texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
        result = load_and_read(model, args.one, texts)
        # to a file, not stdout: Rasa logs there
        Path(args.out).write_text(json.dumps(result, default=str), encoding="utf-8")
        return 0
    texts = FIXED + [e["text"] for e in training_examples()]
    with tempfile.TemporaryDirectory() as tmp:
        fast = one(model, "fast", texts, Path(tmp) / "fast.json")
        rasa = one(model, "rasa", texts, Path(tmp) / "rasa.json")
    differ = [t for t, a, b in zip(texts, fast["read"], rasa["read"], strict=True) if a != b]
    print(f"model: {model}")
    print(f"Rasa's load:            {rasa['load_seconds']:6.1f} s")
    print(f"bot.rasa_speedups load: {fast['load_seconds']:6.1f} s")
    print(f"messages read alike: {len(texts) - len(differ)} of {len(texts)}")
    for text in differ[:20]:
        print(f"  read differently: {text!r}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
