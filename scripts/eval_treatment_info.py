"""Measure the treatment-information answers on held-out questions (tests/nlu/treatment_info_heldout.yml).

    .venv/bin/python -m scripts.eval_treatment_info --server http://127.0.0.1:5005 --token T
        # /model/parse of a running Rasa server (needs --enable-api and its auth token)
    .venv/bin/python -m scripts.eval_treatment_info --rest http://127.0.0.1:5005
        # the REST channel, as a person would ask (one fresh conversation per question)

A question counts as answered right when the answer the person would read carries every
"fact" listed for it (case-insensitive), and, through /model/parse, when the message is
classified as the retrieval intent ``treatment_info`` with the expected answer id (any
other intent, e.g. ``treatment_question`` or ``nlu_fallback``, is a miss).
Prints the accuracy, the accuracy per topic, and every miss. Exits 1 when
``--min-accuracy`` is given and not reached, 2 when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import yaml

from scripts.gen_treatment_info import INTENT, Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ROOT / "tests" / "nlu" / "treatment_info_heldout.yml"


@dataclass(frozen=True)
class Case:
    text: str
    id: str
    facts: Tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """What the assistant did with a question: the answer id it chose (None: no answer) and the text."""

    id: Optional[str]
    text: str
    intent: Optional[str] = None


@dataclass
class Miss:
    case: Case
    answer: Answer
    missing_facts: List[str]

    def describe(self) -> str:
        if self.answer.id:
            got = self.answer.id
        elif self.answer.intent:
            got = f"no answer (intent {self.answer.intent})"
        else:
            got = f"another reply ({self.answer.text[:70]!r})"
        facts = f"; missing {self.missing_facts}" if self.missing_facts else ""
        return f"{self.case.text!r}: expected {self.case.id}, got {got}{facts}"


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    misses: List[Miss] = field(default_factory=list)
    by_topic: Dict[str, List[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_cases(path: Path = DEFAULT_CASES) -> List[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for i, item in enumerate(data["questions"]):
        facts = item.get("facts") or []
        if not isinstance(item.get("text"), str) or not isinstance(item.get("id"), str) or not facts:
            raise ValueError(f"{path}: questions[{i}] needs text, id and at least one fact")
        cases.append(Case(item["text"], item["id"], tuple(str(f) for f in facts)))
    return cases


def missing_facts(case: Case, text: str) -> List[str]:
    low = text.lower()
    return [f for f in case.facts if f.lower() not in low]


def evaluate(cases: Sequence[Case], ask: Callable[[str], Answer], knowledge: Knowledge) -> Report:
    report = Report()
    topics = {e.id: e.topic for e in knowledge.entries}
    for case in cases:
        answer = ask(case.text)
        missing = missing_facts(case, answer.text)
        ok = answer.id == case.id and not missing
        report.total += 1
        bucket = report.by_topic[topics.get(case.id, "?")]
        bucket[1] += 1
        if ok:
            report.correct += 1
            bucket[0] += 1
        else:
            report.misses.append(Miss(case, answer, missing))
    return report


# --- asking a server --------------------------------------------------------------------------


def _post(url: str, payload: Dict[str, Any], timeout: float = 30) -> Any:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    body = json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310 (http(s) only)
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only)
        return json.loads(resp.read().decode("utf-8"))


def answer_from_parse(result: Dict[str, Any], knowledge: Knowledge) -> Answer:
    """The answer /model/parse leads to: the selected id if the intent is treatment_info."""
    intent = ((result.get("intent") or {}).get("name")) or None
    selector = (result.get("response_selector") or {}).get(INTENT) or {}
    key = str(((selector.get("response") or {}).get("intent_response_key")) or "")
    if intent != INTENT or not key.startswith(f"{INTENT}/"):
        return Answer(None, "", intent)
    qid = key.split("/", 1)[1]
    try:
        text = knowledge.text(knowledge.entry(qid))
    except KeyError:
        return Answer(None, "", intent)
    return Answer(qid, text, intent)


def answer_from_messages(messages: List[Dict[str, Any]], knowledge: Knowledge) -> Answer:
    """The answer a person reads in the bot's messages (matched to an entry by its exact text)."""
    text = "\n".join(str(m.get("text") or "") for m in messages)
    for entry in knowledge.entries:
        if knowledge.text(entry) in text:
            return Answer(entry.id, text)
    return Answer(None, text)


def parse_asker(server: str, token: Optional[str], knowledge: Knowledge) -> Callable[[str], Answer]:
    url = server.rstrip("/") + "/model/parse"
    if token:
        url += "?" + urllib.parse.urlencode({"token": token})

    def ask(text: str) -> Answer:
        return answer_from_parse(_post(url, {"text": text}), knowledge)

    return ask


def rest_asker(server: str, knowledge: Knowledge, token: Optional[str] = None) -> Callable[[str], Answer]:
    """Asks through the REST channel (it needs the server's RASA_AUTH_TOKEN and a rest- sender)."""
    url = server.rstrip("/") + "/webhooks/rest/webhook"
    if token:
        url += "?" + urllib.parse.urlencode({"token": token})

    def ask(text: str) -> Answer:
        sender = f"rest-eval-treatment-info-{uuid.uuid4().hex[:12]}"
        return answer_from_messages(_post(url, {"sender": sender, "message": text}), knowledge)

    return ask


def print_report(report: Report, out: TextIO = sys.stdout) -> None:
    print(f"treatment info: {report.correct}/{report.total} answered right ({report.accuracy:.1%})", file=out)
    for topic in sorted(report.by_topic):
        ok, n = report.by_topic[topic]
        print(f"  {topic:<14} {ok}/{n}", file=out)
    if report.misses:
        print("misses:", file=out)
        for miss in report.misses:
            print(f"  {miss.describe()}", file=out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--server", help="base URL of a Rasa server: ask /model/parse")
    where.add_argument("--rest", help="base URL of a Rasa server: ask through the REST channel")
    parser.add_argument("--token", help="the Rasa server's auth token (RASA_AUTH_TOKEN)")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--min-accuracy", type=float, help="exit 1 below this fraction (e.g. 0.9)")
    args = parser.parse_args(argv)

    knowledge = load_knowledge()
    cases = load_cases(args.cases)
    ask = (
        rest_asker(args.rest, knowledge, args.token) if args.rest
        else parse_asker(args.server, args.token, knowledge)
    )
    try:
        report = evaluate(cases, ask, knowledge)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"error: cannot ask the server: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    if args.min_accuracy is not None and report.accuracy < args.min_accuracy:
        print(f"error: accuracy {report.accuracy:.1%} is below {args.min_accuracy:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
