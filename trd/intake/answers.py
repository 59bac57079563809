"""The intake's answer readers, by their old names: a thin layer over :mod:`trd.answers`.

Everything here is re-exported from the one home of answer reading: the question kinds
from :mod:`trd.answers.intake`, outcomes from :mod:`trd.answers.outcomes`, ``PARSERS``
(kind -> parser) from the registry (:mod:`trd.answers.kinds`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from trd.answers.intake import (
    GO_BACK_PHRASES,
    MAX_COUNT,
    MAX_EPISODE_MONTHS,
    OTHER_TREATMENT_LABELS,
    OTHER_TREATMENTS,
    PHQ9_ANSWER_WORDS,
    SKIP_PART_PATTERN,
    THERAPY_TYPES,
    UNKNOWN_PHRASES,
    Completion,
    TherapyType,
    find_terms,
    is_go_back,
    is_skip_part,
    is_unknown,
    looks_like_question,
    parse_completed,
    parse_count,
    parse_months,
    parse_phq9,
    parse_therapy_type,
    parse_treatments,
    parse_yes_no,
    strip_filler,
    unknownish,
)
from trd.answers.kinds import PARSERS
from trd.answers.outcomes import OUTCOMES, parse_outcome
from trd.answers.values import INVALID, UNKNOWN

Parser = Callable[[str, Optional[str], float], Any]

__all__ = [
    "GO_BACK_PHRASES",
    "INVALID",
    "MAX_COUNT",
    "MAX_EPISODE_MONTHS",
    "OTHER_TREATMENTS",
    "OTHER_TREATMENT_LABELS",
    "OUTCOMES",
    "PARSERS",
    "PHQ9_ANSWER_WORDS",
    "SKIP_PART_PATTERN",
    "THERAPY_TYPES",
    "UNKNOWN",
    "UNKNOWN_PHRASES",
    "Completion",
    "Parser",
    "TherapyType",
    "find_terms",
    "is_go_back",
    "is_skip_part",
    "is_unknown",
    "looks_like_question",
    "parse_completed",
    "parse_count",
    "parse_months",
    "parse_outcome",
    "parse_phq9",
    "parse_therapy_type",
    "parse_treatments",
    "parse_yes_no",
    "strip_filler",
    "unknownish",
]
