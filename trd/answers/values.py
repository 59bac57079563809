"""The two answers that are not values: UNKNOWN ("I don't know": null in the record, never "no")
and INVALID (not an answer to the question: asked again with a hint)."""

from __future__ import annotations

from typing import Any


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


INVALID: Any = _Sentinel("INVALID")
UNKNOWN: Any = _Sentinel("UNKNOWN")
