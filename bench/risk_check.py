"""Cost of the risk check per message: the lexicon, the sentence encoder and the detector.

    .venv/bin/python -m bench.risk_check                 # the messages of bench/intake_script.yml
    .venv/bin/python -m bench.risk_check --repeat 5

Prints p50 and p95 of one message's check (target: p50 under 20 ms on 2 cores), split
into the lexicon and the encoder + detector, then of a whole turn as the server runs it
(the safety guard's check of the message, plus the safety policy's reading of the last
three messages joined), of a long answer (four messages joined as sentences: read whole and
sentence by sentence), and the memory the encoder and detector add to a process
(target: at most 300 MB more in the Rasa server). Figures, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import List

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--script", type=Path, default=ROOT / "bench" / "intake_script.yml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.script.read_text(encoding="utf-8"))
    messages = [str(m) for m in (data["messages"] if isinstance(data, dict) else data)]

    from trd.safety.risk import RiskEngine

    engine = RiskEngine.from_file()
    before = rss_mb()
    started = time.perf_counter()
    from trd.safety.detector import RiskDetector

    detector = RiskDetector.from_file()
    detector.read("warm up")
    load_s = time.perf_counter() - started
    after = rss_mb()

    lexicon_ms: List[float] = []
    detector_ms: List[float] = []
    for _ in range(args.repeat):
        for text in messages:
            t0 = time.perf_counter()
            engine.assess(text)
            t1 = time.perf_counter()
            detector.read(text)
            t2 = time.perf_counter()
            lexicon_ms.append((t1 - t0) * 1000)
            detector_ms.append((t2 - t1) * 1000)
    from trd.safety.assessment import CONTEXT_TURNS, RiskAssessor

    assessor = RiskAssessor(engine, detector)
    turn_ms: List[float] = []
    for _ in range(args.repeat):
        for i, text in enumerate(messages):
            t0 = time.perf_counter()
            single = assessor.assess_with(text, engine.assess(text))
            if single.tier == "none":
                assessor.context(messages[max(0, i - CONTEXT_TURNS + 1): i + 1])
            turn_ms.append((time.perf_counter() - t0) * 1000)
    # long answers: four intake messages joined as sentences, read whole and sentence by sentence
    long_texts = [". ".join(messages[i:i + 4]) for i in range(0, len(messages) - 3, 4)]
    long_ms: List[float] = []
    for _ in range(args.repeat):
        for text in long_texts:
            t0 = time.perf_counter()
            assessor.assess_with(text, engine.assess(text))
            long_ms.append((time.perf_counter() - t0) * 1000)
    total = [a + b for a, b in zip(lexicon_ms, detector_ms, strict=True)]
    mean_len = statistics.mean(map(len, messages))
    print(f"messages: {len(messages)} x {args.repeat}  (mean length {mean_len:.0f} characters)")
    parts = (("lexicon", lexicon_ms), ("encoder + detector", detector_ms), ("risk check in all", total),
             ("turn with context", turn_ms), ("long answer (4 sent.)", long_ms))
    for name, values in parts:
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{name + ':':22} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    print("target: p50 of the whole check under 20 ms")
    print(f"encoder + detector: loaded in {load_s:.2f} s, +{after - before:.0f} MB resident "
          "(target: at most 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
