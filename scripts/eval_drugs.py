"""Measure the drug recogniser on tests/nlu/drug_mentions.yml.

    .venv/bin/python -m scripts.eval_drugs                       # the spaCy pipeline (fast)
    .venv/bin/python -m scripts.eval_drugs --server http://127.0.0.1:5005 --token T   # a running Rasa

Prints precision, recall and F1 over drug mentions (each expected generic name
counts once per message it is expected in), the figures per kind of message,
and every miss and false alarm. The spaCy mode reads ``ent.ent_id_`` (the
generic); the server mode reads the `drug` entities of ``/model/parse``, whose
value the DrugNormaliser sets to the generic, so both modes score the same thing.
Exits 1 when ``--min-recall`` or ``--min-precision`` is given and not reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ROOT / "tests" / "nlu" / "drug_mentions.yml"
DEFAULT_MODEL = ROOT / "build" / "nlu" / "spacy_drugs"


@dataclass(frozen=True)
class Case:
    text: str
    drugs: List[str]
    kind: str = "other"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    messages: int = 0
    exact: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    total: Score = field(default_factory=Score)
    by_kind: Dict[str, Score] = field(default_factory=dict)
    misses: List[str] = field(default_factory=list)
    false_alarms: List[str] = field(default_factory=list)


def load_cases(path: Path = DEFAULT_CASES) -> List[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for item in data["messages"]:
        cases.append(Case(text=str(item["text"]), drugs=[str(d) for d in item.get("drugs") or []],
                          kind=str(item.get("kind", "other"))))
    return cases


def evaluate(cases: Sequence[Case], recognise: Callable[[str], List[str]]) -> Report:
    report = Report()
    for case in cases:
        predicted = Counter(recognise(case.text))
        expected = Counter(case.drugs)
        tp = sum((predicted & expected).values())
        fp = sum((predicted - expected).values())
        fn = sum((expected - predicted).values())
        for score in (report.total, report.by_kind.setdefault(case.kind, Score())):
            score.tp += tp
            score.fp += fp
            score.fn += fn
            score.messages += 1
            score.exact += int(fp == 0 and fn == 0)
        if fn:
            report.misses.append(f"{case.text!r}: missed {sorted((expected - predicted).elements())}"
                                 f" (found {sorted(predicted.elements())})")
        if fp:
            report.false_alarms.append(f"{case.text!r}: found {sorted((predicted - expected).elements())}"
                                       f" (expected {sorted(expected.elements())})")
    return report


def spacy_recogniser(model: Path = DEFAULT_MODEL) -> Callable[[str], List[str]]:
    import bot.nlu.drug_pipeline as drug_pipeline

    nlp = drug_pipeline.load(model)
    return lambda text: [generic for _, generic in drug_pipeline.drug_mentions(nlp, text)]


def server_recogniser(url: str, token: Optional[str]) -> Callable[[str], List[str]]:
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"--server must be an http(s) URL, got {url!r}")
    endpoint = url.rstrip("/") + "/model/parse"
    if token:
        endpoint += "?" + urllib.parse.urlencode({"token": token})

    def recognise(text: str) -> List[str]:
        body = json.dumps({"text": text}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(endpoint, data=body, headers=headers)  # noqa: S310 (http(s) only)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http(s) only)
            result = json.loads(response.read().decode("utf-8"))
        ents = sorted(result.get("entities") or [], key=lambda e: e.get("start", 0))
        return [str(e.get("value")) for e in ents if e.get("entity") == "drug"]

    return recognise


def print_report(report: Report, out: TextIO = sys.stdout) -> None:
    t = report.total
    print(f"messages {t.messages}  mentions {t.tp + t.fn}  exact messages {t.exact}/{t.messages}", file=out)
    print(f"precision {t.precision:.3f}  recall {t.recall:.3f}  F1 {t.f1:.3f}", file=out)
    print(f"  true positives {t.tp}, false positives {t.fp}, false negatives {t.fn}", file=out)
    print("by kind:", file=out)
    for kind, s in sorted(report.by_kind.items()):
        print(f"  {kind:<12} n={s.messages:<4} precision {s.precision:.3f}  recall {s.recall:.3f}  "
              f"exact {s.exact}/{s.messages}", file=out)
    print(f"misses ({len(report.misses)}):", file=out)
    for line in report.misses:
        print(f"  {line}", file=out)
    print(f"false alarms ({len(report.false_alarms)}):", file=out)
    for line in report.false_alarms:
        print(f"  {line}", file=out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Precision/recall of the drug recogniser.")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="built spaCy pipeline folder")
    parser.add_argument("--server", help="base URL of a running Rasa server (uses /model/parse)")
    parser.add_argument("--token", default=os.environ.get("RASA_AUTH_TOKEN"), help="Rasa auth token")
    parser.add_argument("--min-recall", type=float)
    parser.add_argument("--min-precision", type=float)
    args = parser.parse_args(argv)

    if args.server:
        recognise = server_recogniser(args.server, args.token)
        print(f"recogniser: {args.server}/model/parse")
    else:
        if not (args.model / "config.cfg").exists():
            print(f"no pipeline at {args.model}: run scripts/build_nlu.sh first", file=sys.stderr)
            return 2
        recognise = spacy_recogniser(args.model)
        print(f"recogniser: spaCy pipeline {args.model}")
    try:
        report = evaluate(load_cases(args.cases), recognise)
    except (OSError, ValueError) as exc:  # URLError is an OSError; a non-JSON answer a ValueError
        print(f"cannot evaluate: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    ok = True
    if args.min_recall is not None and report.total.recall < args.min_recall:
        ok = False
    if args.min_precision is not None and report.total.precision < args.min_precision:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
