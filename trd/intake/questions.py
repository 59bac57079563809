"""The intake's wording, read from data/knowledge/intake_questions.yml (checked on load).

Pure data access: the file is read once per process (:func:`default_questions`); the
domain generator (:mod:`actions.intake.domain_gen`) renders the same data into
domain.yml, so a running assistant speaks from the domain while the code knows each
question's form, kind and order from here.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trd.answers.kinds import PARSERS
from trd.knowledge import KnowledgeError
from trd.knowledge.intake_questions import read_intake_questions
from trd.paths import KNOWLEDGE_DIR, REPO_ROOT  # noqa: F401  (REPO_ROOT: used by actions.intake.domain_gen)

QUESTIONS_PATH = KNOWLEDGE_DIR / "intake_questions.yml"


class IntakeDataError(ValueError):
    """intake_questions.yml is missing, malformed or inconsistent (the message names the place)."""


@dataclass(frozen=True)
class Part:
    id: str
    form: str
    number: int
    announce: str

    @property
    def response(self) -> str:
        return f"utter_intake_part_{self.id}"

    @property
    def label(self) -> str:
        """The announcement's first line, e.g. "Part 2 of 5: medicines you've tried"."""
        return self.announce.splitlines()[0].strip()


@dataclass(frozen=True)
class Question:
    slot: str
    form: str
    kind: str
    source: str
    text: str
    answers: Optional[str]
    verbatim: bool = False

    @property
    def response(self) -> str:
        return f"utter_ask_{self.slot}"


@dataclass(frozen=True)
class GlossaryEntry:
    terms: Tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ButtonMessage:
    text: str
    buttons: Tuple[str, ...]


@dataclass(frozen=True)
class IntakeQuestions:
    sources: Mapping[str, str]
    answer_sets: Mapping[str, Tuple[str, ...]]
    parts: Tuple[Part, ...]
    questions: Mapping[str, Question]  # in the order of the file
    messages: Mapping[str, str]
    buttons: Mapping[str, ButtonMessage]
    glossary: Tuple[GlossaryEntry, ...]
    sms: Mapping[str, str]
    other_forms: Mapping[str, str] = dataclasses.field(default_factory=dict)  # form -> what runs it

    def part(self, part_id: str) -> Part:
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)

    def part_of_form(self, form: str) -> Optional[Part]:
        return next((p for p in self.parts if p.form == form), None)

    def form_slots(self, form: str) -> List[str]:
        """The questions a form may ask, in the file's order."""
        return [q.slot for q in self.questions.values() if q.form == form]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise IntakeDataError(f"{where}: expected non-empty text")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise IntakeDataError(f"{where}: expected a mapping")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list) or not value:
        raise IntakeDataError(f"{where}: expected a non-empty list")
    return value


def build_questions(data: Any) -> IntakeQuestions:
    root = _mapping(data, "intake_questions.yml")
    sources = {str(k): _text(v, f"sources.{k}") for k, v in _mapping(root.get("sources"), "sources").items()}
    answer_sets: Dict[str, Tuple[str, ...]] = {}
    for name, titles in _mapping(root.get("answer_sets"), "answer_sets").items():
        answer_sets[str(name)] = tuple(
            _text(t, f"answer_sets.{name}") for t in _list(titles, f"answer_sets.{name}")
        )
    parts: List[Part] = []
    for index, raw in enumerate(_list(root.get("parts"), "parts")):
        item = _mapping(raw, f"parts[{index}]")
        number = item.get("number")
        if not isinstance(number, int) or not 1 <= number <= 5:
            raise IntakeDataError(f"parts[{index}].number: expected 1-5")
        parts.append(
            Part(
                id=_text(item.get("id"), f"parts[{index}].id"),
                form=_text(item.get("form"), f"parts[{index}].form"),
                number=number,
                announce=_text(item.get("announce"), f"parts[{index}].announce"),
            )
        )
    other_forms = {
        str(k): _text(v, f"other_forms.{k}")
        for k, v in _mapping(root.get("other_forms") or {}, "other_forms").items()
    }
    clash = set(other_forms) & {p.form for p in parts}
    if clash:
        raise IntakeDataError(f"other_forms: {sorted(clash)[0]!r} is the form of a part")
    questions: Dict[str, Question] = {}
    for slot, raw in _mapping(root.get("questions"), "questions").items():
        where = f"questions.{slot}"
        item = _mapping(raw, where)
        kind = _text(item.get("kind"), f"{where}.kind")
        if kind not in PARSERS:
            raise IntakeDataError(f"{where}.kind: unknown kind {kind!r}")
        source = _text(item.get("source"), f"{where}.source")
        if source not in sources:
            raise IntakeDataError(f"{where}.source: unknown source {source!r}")
        answers = item.get("answers")
        if answers is not None and answers not in answer_sets:
            raise IntakeDataError(f"{where}.answers: unknown answer set {answers!r}")
        form = _text(item.get("form"), f"{where}.form")
        if form not in {p.form for p in parts} and form not in other_forms:
            raise IntakeDataError(f"{where}.form: {form!r} is not the form of any part or of other_forms")
        questions[str(slot)] = Question(
            slot=str(slot),
            form=form,
            kind=kind,
            source=source,
            text=_text(item.get("text"), f"{where}.text"),
            answers=answers,
            verbatim=bool(item.get("verbatim", False)),
        )
    messages = {
        str(k): _text(v, f"messages.{k}") for k, v in _mapping(root.get("messages"), "messages").items()
    }
    buttons: Dict[str, ButtonMessage] = {}
    for name, raw in _mapping(root.get("buttons"), "buttons").items():
        item = _mapping(raw, f"buttons.{name}")
        titles = tuple(
            _text(t, f"buttons.{name}.buttons") for t in _list(item.get("buttons"), f"buttons.{name}")
        )
        buttons[str(name)] = ButtonMessage(_text(item.get("text"), f"buttons.{name}.text"), titles)
    glossary = []
    for index, raw in enumerate(_list(root.get("glossary"), "glossary")):
        item = _mapping(raw, f"glossary[{index}]")
        terms = tuple(
            _text(t, f"glossary[{index}].terms") for t in _list(item.get("terms"), f"glossary[{index}]")
        )
        glossary.append(
            GlossaryEntry(terms, " ".join(_text(item.get("text"), f"glossary[{index}].text").split()))
        )
    sms = {str(k): _text(v, f"sms.{k}") for k, v in _mapping(root.get("sms"), "sms").items()}
    for key in ("channel", "phq9_legend"):
        if key not in sms:
            raise IntakeDataError(f"sms.{key}: missing")
    return IntakeQuestions(
        sms=sms,
        sources=sources,
        answer_sets=answer_sets,
        parts=tuple(parts),
        questions=questions,
        messages=messages,
        buttons=buttons,
        glossary=tuple(glossary),
        other_forms=other_forms,
    )


def load_questions(path: Optional[Path] = None) -> IntakeQuestions:
    target = path or QUESTIONS_PATH
    try:  # the file's one loader: strict YAML, schema-checked (trd/knowledge/intake_questions.py)
        data = read_intake_questions(target)
    except KnowledgeError as exc:
        raise IntakeDataError(str(exc)) from exc
    return build_questions(data)


@functools.lru_cache(maxsize=1)
def default_questions() -> IntakeQuestions:
    return load_questions()


def explain(text: str, questions: Optional[IntakeQuestions] = None) -> Optional[str]:
    """The glossary's explanation of the first term named in ``text``, or None."""
    from trd.answers.intake import find_terms

    q = questions or default_questions()
    index = find_terms(text, [entry.terms for entry in q.glossary])
    return q.glossary[index].text if index is not None else None
