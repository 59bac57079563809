"""A generated region of domain.yml: the lines between a BEGIN and an END marker line.

The one mechanism every generator of domain.yml uses (``make generate`` runs them in turn):
scripts/gen_crisis_responses.py and scripts/gen_treatment_info.py own one region each in
the responses section, and ``python -m actions.intake.domain_gen`` owns one region in each of
intents, slots, responses, forms and actions. The rest of the file is written by hand and
kept byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Tuple, Type


@dataclass(frozen=True)
class DomainRegion:
    begin_marker: str
    end_marker: str
    error: Type[Exception]  # raised, with a message, when the markers are missing or misplaced
    section: str = "responses"  # the top-level section of domain.yml the region lives in

    def find(self, lines: List[str]) -> Tuple[int, int, str]:
        """(index of the BEGIN line, index of the END line, the BEGIN line's indentation)."""
        begins = [i for i, line in enumerate(lines) if line.strip() == self.begin_marker]
        ends = [i for i, line in enumerate(lines) if line.strip() == self.end_marker]
        if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
            raise self.error(
                f"domain.yml needs exactly one '{self.begin_marker}' line followed by one "
                f"'{self.end_marker}' line inside its {self.section} section"
            )
        begin = begins[0]
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        return begin, ends[0], indent

    def current(self, domain_text: str) -> str:
        """The region's text as it is now (without the marker lines)."""
        lines = domain_text.splitlines(keepends=True)
        begin, end, _ = self.find(lines)
        return "".join(lines[begin + 1 : end])

    def replace(self, domain_text: str, render: Callable[[str], str]) -> str:
        """``domain_text`` with the region replaced by ``render(indent)``."""
        lines = domain_text.splitlines(keepends=True)
        begin, end, indent = self.find(lines)
        return "".join(lines[: begin + 1]) + render(indent or "  ") + "".join(lines[end:])
