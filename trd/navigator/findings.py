"""Findings as codes, and the renderer that turns them into the words of navigator_wording.yml.

The rules never write a sentence: they emit `Finding(code, params)` and the `Renderer` looks the
code up in the wording (data/knowledge/navigator_wording.yml, loaded by loader.py), fills in the
params and cites the sentence's sources. A finding may carry `then` findings, sentences appended
after it (separated by a space), and params may themselves be findings (rendered first).

Pure: `build_wording` receives the already-parsed YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from .lexicon import KnowledgeError
from .model import Statement

WORDING_FILE = "navigator_wording.yml"


@dataclass(frozen=True)
class Finding:
    """One thing the rules found: a wording code and the values its sentence needs."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    then: Tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Sentence:
    text: str
    sources: Tuple[str, ...]
    figures: Mapping[str, str]


@dataclass(frozen=True)
class Therapy:
    id: str
    name: str
    option: Optional[str]
    structured: bool
    trauma_focused: bool


@dataclass(frozen=True)
class OtherTreatment:
    id: str
    name: str
    mechanism: str
    emerging: bool


@dataclass(frozen=True)
class Wording:
    sentences: Mapping[str, Sentence]
    phrases: Mapping[str, str]
    labels: Mapping[str, Mapping[str, str]]
    therapies: Mapping[str, Therapy]
    treatments: Mapping[str, OtherTreatment]
    questions: Mapping[str, Mapping[str, str]]
    courses: Mapping[str, int] = field(default_factory=dict)  # sessions that make a full course

    def codes(self) -> Tuple[str, ...]:
        return tuple(self.sentences) + tuple(self.phrases)

    def source_ids(self) -> Tuple[str, ...]:
        return tuple(s for sentence in self.sentences.values() for s in sentence.sources)


def _fail(where: str, what: str) -> KnowledgeError:
    return KnowledgeError(f"{WORDING_FILE}: {where}: {what}")


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be non-empty text")
    return value


def _map(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "must be a mapping")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "must be true or false")
    return value


def build_wording(data: Any, source_ids: Optional[Sequence[str]] = None) -> Wording:
    """Build `Wording` from the parsed navigator_wording.yml; `source_ids` (treatments.yml's) are checked."""
    data = _map(data, "(top level)")
    sentences: Dict[str, Sentence] = {}
    for code, raw in _map(data.get("sentences"), "sentences").items():
        where = f"sentences.{code}"
        raw = _map(raw, where)
        sources = raw.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise _fail(f"{where}.sources", "must be a list of source ids")
        for source_id in sources:
            if source_ids is not None and source_id not in source_ids:
                raise _fail(f"{where}.sources", f"unknown source id {source_id!r}")
        figures = raw.get("figures", {})
        if not isinstance(figures, Mapping) or not all(isinstance(v, str) for v in figures.values()):
            raise _fail(f"{where}.figures", "must map names to text")
        sentences[str(code)] = Sentence(_str(raw.get("text"), f"{where}.text"), tuple(sources), dict(figures))
    phrases = {str(k): _str(v, f"phrases.{k}") for k, v in _map(data.get("phrases"), "phrases").items()}
    labels = {
        str(kind): {str(k): _str(v, f"labels.{kind}.{k}") for k, v in _map(table, f"labels.{kind}").items()}
        for kind, table in _map(data.get("labels"), "labels").items()
    }
    therapies: Dict[str, Therapy] = {}
    for key, raw in _map(data.get("therapies"), "therapies").items():
        where = f"therapies.{key}"
        raw = _map(raw, where)
        option = raw.get("option")
        therapies[str(key)] = Therapy(
            id=str(key),
            name=_str(raw.get("name"), f"{where}.name"),
            option=None if option is None else _str(option, f"{where}.option"),
            structured=_flag(raw.get("structured"), f"{where}.structured"),
            trauma_focused=_flag(raw.get("trauma_focused"), f"{where}.trauma_focused"),
        )
    treatments: Dict[str, OtherTreatment] = {}
    for key, raw in _map(data.get("treatments"), "treatments").items():
        where = f"treatments.{key}"
        raw = _map(raw, where)
        treatments[str(key)] = OtherTreatment(
            id=str(key),
            name=_str(raw.get("name"), f"{where}.name"),
            mechanism=_str(raw.get("mechanism"), f"{where}.mechanism"),
            emerging=_flag(raw.get("emerging"), f"{where}.emerging"),
        )
    questions = {
        str(group): {
            str(k): _str(v, f"questions.{group}.{k}") for k, v in _map(table, f"questions.{group}").items()
        }
        for group, table in _map(data.get("questions"), "questions").items()
    }
    courses: Dict[str, int] = {}
    raw_courses = _map(data.get("courses", {}), "courses")
    for key, value in raw_courses.items():
        if key == "sources":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(f"courses.{key}", "must be a positive whole number of sessions")
        if key != "psychotherapy" and key not in treatments:
            raise _fail(f"courses.{key}", "is not a treatment of this file")
        courses[str(key)] = value
    for source_id in raw_courses.get("sources", []) or []:
        if source_ids is not None and source_id not in source_ids:
            raise _fail("courses.sources", f"unknown source id {source_id!r}")
    return Wording(sentences, phrases, labels, therapies, treatments, questions, courses)


class Renderer:
    """Turns findings into text and cited statements."""

    def __init__(self, wording: Wording, sources: Mapping[str, str]) -> None:
        self.wording = wording
        self.sources = sources

    def _template(self, code: str) -> str:
        if code in self.wording.sentences:
            return self.wording.sentences[code].text
        if code in self.wording.phrases:
            return self.wording.phrases[code]
        raise KeyError(f"no wording for finding code {code!r}")

    def text(self, finding: Finding) -> str:
        params = {
            key: self.text(value) if isinstance(value, Finding) else value
            for key, value in finding.params.items()
        }
        out = self._template(finding.code).format(**params)
        for tail in finding.then:
            out += " " + self.text(tail)
        return out

    def phrase(self, code: str, **params: Any) -> str:
        return self.text(Finding(code, params))

    def label(self, kind: str, key: Any) -> str:
        return self.wording.labels[kind][str(key)]

    def cite(self, code: str) -> Tuple[str, ...]:
        sentence = self.wording.sentences.get(code)
        return tuple(self.sources[s] for s in sentence.sources) if sentence else ()

    def statement(self, finding: Finding, extra: Sequence[str] = ()) -> Statement:
        """The finding as a statement citing its sentence's sources, then `extra` citations."""
        return Statement(self.text(finding), self.cite(finding.code) + tuple(extra))

    def say(self, code: str, extra: Sequence[str] = (), **params: Any) -> Statement:
        return self.statement(Finding(code, params), extra)
