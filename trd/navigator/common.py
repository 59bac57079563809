"""Small helpers the rules share: three-valued logic, number and list formatting, record access."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

Tri = Optional[bool]


def t_or(values: Iterable[Tri]) -> Tri:
    vals = list(values)
    if any(v is True for v in vals):
        return True
    if all(v is False for v in vals):
        return False
    return None


def t_and(values: Iterable[Tri]) -> Tri:
    vals = list(values)
    if any(v is False for v in vals):
        return False
    if all(v is True for v in vals):
        return True
    return None


def at_least(count: int, values: Iterable[Tri]) -> Tri:
    vals = list(values)
    yes = sum(1 for v in vals if v is True)
    unknown = sum(1 for v in vals if v is None)
    if yes >= count:
        return True
    if yes + unknown < count:
        return False
    return None


def num(x: float) -> str:
    return f"{x:g}"


def join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def section(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def boolean(section_: Mapping[str, Any], key: str) -> Tri:
    value = section_.get(key)
    return value if isinstance(value, bool) else None


def tri_pick(value: Any, yes: str, no: str, unknown: str) -> str:
    if value is True:
        return yes
    if value is False:
        return no
    return unknown


def screen_word(result: Tri) -> str:
    if result is None:
        return "incomplete"
    return "positive" if result else "negative"
