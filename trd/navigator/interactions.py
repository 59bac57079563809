"""Medicine interactions (navigator.md section 10): the table of data/knowledge/interactions.yml and the
rule that finds the pairs among what a person takes now (or stopped too recently for an MAOI pair).

Pure: `build_interactions` receives the already-parsed YAML (the loader reads the file); `find`
looks at the record through the context. No sentence is written here: the findings' words are in
navigator_wording.yml and the reasons (`why`) in interactions.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .lexicon import KnowledgeError, Lexicon

STRENGTHS: Tuple[str, ...] = ("contraindicated", "major", "moderate")
FILE = "interactions.yml"


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    serotonergic: bool


@dataclass(frozen=True)
class PairRule:
    id: str
    a: Tuple[str, ...]
    b: Tuple[str, ...]
    strength: str
    why: str
    sources: Tuple[str, ...]  # citation strings
    washout: bool

    def matches(self, first: Sequence[str], second: Sequence[str]) -> Optional[Tuple[str, str]]:
        """(group of first, group of second) when first and second form this pair (either way round)."""
        for ga in first:
            for gb in second:
                if (ga in self.a and gb in self.b) or (ga in self.b and gb in self.a):
                    return ga, gb
        return None


@dataclass(frozen=True)
class StackRule:
    id: str
    trigger: Tuple[str, ...]
    min_other_serotonergic: int
    strength: str
    why: str
    sources: Tuple[str, ...]


@dataclass(frozen=True)
class InteractionTable:
    groups: Mapping[str, Group]
    washout_weeks: float
    washout_by_drug: Mapping[str, float]
    washout_sources: Tuple[str, ...]
    pairs: Tuple[PairRule, ...]
    stacks: Tuple[StackRule, ...]

    def window(self, generic: str) -> float:
        """Weeks after stopping `generic` during which an MAOI pair still applies."""
        return self.washout_by_drug.get(generic, self.washout_weeks)

    def group_name(self, group: str) -> str:
        return self.groups[group].name


@dataclass(frozen=True)
class Medicine:
    """A medicine that counts for interactions: taken now, or stopped `weeks_since_stopped` ago."""

    generic: str
    groups: Tuple[str, ...]
    now: bool
    weeks_since_stopped: Optional[float] = None


@dataclass(frozen=True)
class Interaction:
    a: Medicine
    b: Medicine
    a_group: str
    b_group: str
    rule: str
    strength: str
    why: str
    sources: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "a": self.a.generic,
            "b": self.b.generic,
            "why": self.why,
            "strength": self.strength,
            "rule": self.rule,
            "groups": [self.a_group, self.b_group],
            "a_taken_now": self.a.now,
            "b_taken_now": self.b.now,
            "a_weeks_since_stopped": self.a.weeks_since_stopped,
            "b_weeks_since_stopped": self.b.weeks_since_stopped,
            "sources": list(self.sources),
        }


# ------------------------------------------------------------------ building


def _fail(where: str, what: str) -> KnowledgeError:
    return KnowledgeError(f"{FILE}: {where}: {what}")


def _map(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "must be a mapping")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be non-empty text")
    return " ".join(value.split())


def _ids(value: Any, where: str, known: Mapping[str, Any], what: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, f"must be a non-empty list of {what}")
    for item in value:
        if item not in known:
            raise _fail(where, f"unknown {what[:-1]} {item!r}")
    return tuple(str(v) for v in value)


def _strength(value: Any, where: str) -> str:
    if value not in STRENGTHS:
        raise _fail(where, f"strength must be one of {list(STRENGTHS)}")
    return str(value)


def build_interactions(data: Any, lexicon: Optional[Lexicon] = None) -> InteractionTable:
    """Build the table from the parsed interactions.yml; with `lexicon`, check every medicine's
    interaction_classes name a group here."""
    data = _map(data, "(top level)")
    sources = {str(k): _text(v, f"sources.{k}") for k, v in _map(data.get("sources"), "sources").items()}
    groups: Dict[str, Group] = {}
    for key, raw in _map(data.get("groups"), "groups").items():
        raw = _map(raw, f"groups.{key}")
        serotonergic = raw.get("serotonergic")
        if not isinstance(serotonergic, bool):
            raise _fail(f"groups.{key}.serotonergic", "must be true or false")
        groups[str(key)] = Group(str(key), _text(raw.get("name"), f"groups.{key}.name"), serotonergic)
    washout = _map(data.get("washout"), "washout")
    weeks = washout.get("weeks")
    if isinstance(weeks, bool) or not isinstance(weeks, (int, float)) or weeks <= 0:
        raise _fail("washout.weeks", "must be a positive number")
    by_drug: Dict[str, float] = {}
    for drug, value in _map(washout.get("by_drug", {}), "washout.by_drug").items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise _fail(f"washout.by_drug.{drug}", "must be a positive number")
        if lexicon is not None and lexicon.lookup(str(drug)) is None:
            raise _fail(f"washout.by_drug.{drug}", "is not in drugs.yml")
        by_drug[str(drug)] = float(value)
    washout_sources = tuple(
        sources[s] for s in _ids(washout.get("sources"), "washout.sources", sources, "sources")
    )

    pairs: List[PairRule] = []
    raw_pairs = data.get("pairs")
    if not isinstance(raw_pairs, list) or not raw_pairs:
        raise _fail("pairs", "must be a non-empty list")
    for i, raw in enumerate(raw_pairs):
        where = f"pairs[{i}]"
        raw = _map(raw, where)
        wash = raw.get("washout", False)
        if not isinstance(wash, bool):
            raise _fail(f"{where}.washout", "must be true or false")
        pairs.append(
            PairRule(
                id=_text(raw.get("id"), f"{where}.id"),
                a=_ids(raw.get("a"), f"{where}.a", groups, "groups"),
                b=_ids(raw.get("b"), f"{where}.b", groups, "groups"),
                strength=_strength(raw.get("strength"), f"{where}.strength"),
                why=_text(raw.get("why"), f"{where}.why"),
                sources=tuple(
                    sources[s] for s in _ids(raw.get("sources"), f"{where}.sources", sources, "sources")
                ),
                washout=wash,
            )
        )
    stacks: List[StackRule] = []
    for i, raw in enumerate(data.get("stacks") or []):
        where = f"stacks[{i}]"
        raw = _map(raw, where)
        minimum = raw.get("min_other_serotonergic")
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
            raise _fail(f"{where}.min_other_serotonergic", "must be a positive integer")
        stacks.append(
            StackRule(
                id=_text(raw.get("id"), f"{where}.id"),
                trigger=_ids(raw.get("trigger"), f"{where}.trigger", groups, "groups"),
                min_other_serotonergic=minimum,
                strength=_strength(raw.get("strength"), f"{where}.strength"),
                why=_text(raw.get("why"), f"{where}.why"),
                sources=tuple(
                    sources[s] for s in _ids(raw.get("sources"), f"{where}.sources", sources, "sources")
                ),
            )
        )
    if len({p.id for p in pairs} | {s.id for s in stacks}) != len(pairs) + len(stacks):
        raise _fail("pairs", "rule ids must be unique")
    if lexicon is not None:
        for entry in lexicon.entries:
            for group in entry.interaction_classes:
                if group not in groups:
                    raise KnowledgeError(
                        f"drugs.yml: {entry.generic}: interaction class {group!r} is not a group of {FILE}"
                    )
    return InteractionTable(groups, float(weeks), by_drug, washout_sources, tuple(pairs), tuple(stacks))


# ------------------------------------------------------------------ finding pairs


def _counts(table: InteractionTable, rule: PairRule, first: Medicine, second: Medicine) -> bool:
    """Whether a pair of medicines, one of which may have been stopped, counts under `rule`."""
    for med in (first, second):
        if med.now:
            continue
        if not rule.washout or med.weeks_since_stopped is None:
            return False
        if med.weeks_since_stopped >= table.window(med.generic):
            return False
    return first.now or second.now


def pairs_among(table: InteractionTable, medicines: Sequence[Medicine]) -> List[Interaction]:
    """Every interaction among `medicines`: pair rules first (in the table's order), then stacks."""
    found: Dict[frozenset, Interaction] = {}
    for i, first in enumerate(medicines):
        for second in medicines[i + 1 :]:
            if first.generic == second.generic:
                continue
            for rule in table.pairs:
                groups = rule.matches(first.groups, second.groups)
                if groups is None or not _counts(table, rule, first, second):
                    continue
                key = frozenset({first.generic, second.generic})
                if key not in found:
                    found[key] = Interaction(
                        first, second, groups[0], groups[1], rule.id, rule.strength, rule.why, rule.sources
                    )
    now = [m for m in medicines if m.now]
    for stack in table.stacks:
        for trigger in now:
            trigger_groups = [g for g in trigger.groups if g in stack.trigger]
            if not trigger_groups:
                continue
            others = [
                m
                for m in now
                if m.generic != trigger.generic and any(table.groups[g].serotonergic for g in m.groups)
            ]
            if len(others) < stack.min_other_serotonergic:
                continue
            why = stack.why.format(trigger=trigger.generic)
            for other in others:
                key = frozenset({trigger.generic, other.generic})
                if key not in found:
                    other_group = next(g for g in other.groups if table.groups[g].serotonergic)
                    found[key] = Interaction(
                        trigger,
                        other,
                        trigger_groups[0],
                        other_group,
                        stack.id,
                        stack.strength,
                        why,
                        stack.sources,
                    )
    return list(found.values())


def would_pair(
    table: InteractionTable, groups: Sequence[str], medicines: Sequence[Medicine]
) -> List[Tuple[Medicine, PairRule, str]]:
    """The medicines an option of `groups` would pair with: (medicine, rule, the option's group)."""
    out = []
    for med in medicines:
        for rule in table.pairs:
            matched = rule.matches(groups, med.groups)
            if matched is None:
                continue
            option_side = Medicine("(option)", (matched[0],), True)
            if _counts(table, rule, option_side, med):
                out.append((med, rule, matched[0]))  # each rule once per medicine
    return out
