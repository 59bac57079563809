"""One risk decision from the lexicon's floor, the detector's reading and the recent turns.

The safety guard asks this module, for the person's last few messages (the newest last),
which of the tiers applies (trd/safety/detector.py names them):

1. the risk engine (lexicon) on the newest message is the floor: an explicit phrase it
   lists is clear risk (or third-party, or harm to others), whatever the detector says;
2. the detector on the newest message: its tier by the validation-chosen thresholds; a
   plain denial the engine recognises ("I'm not suicidal, just worn out") with nothing
   else risky in it stays an ordinary message, and a denial beside something the
   detector reads as risk is asked about (the possible tier), not blocked;
3. the recent turns together: risk that builds up over several messages (each mild on
   its own) is read on the last few messages joined, and can raise the answer to the
   possible tier (a direct question), never to the crisis block on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

from trd.safety.contract import INTENT_SOS, RiskCategory
from trd.safety.detector import Reading, RiskDetector
from trd.safety.risk import RiskEngine, RiskResult

CONTEXT_TURNS = 3  # the newest message and the two before it

TIERS: Tuple[str, ...] = ("clear", "harm_to_others", "third_party", "possible", "none")


@dataclass(frozen=True)
class Assessment:
    tier: str
    source: str  # "lexicon", "detector", "context" or "none"
    engine: RiskResult
    reading: Optional[Reading] = None
    context: Optional[Reading] = None
    notes: Tuple[str, ...] = field(default=())


def _engine_tier(result: RiskResult) -> str:
    if not (result.is_crisis or result.intent == INTENT_SOS):
        return "none"
    if result.category == RiskCategory.THIRD_PARTY.value:
        return "third_party"
    if result.category == RiskCategory.HARM_TO_OTHERS.value:
        return "harm_to_others"
    return "clear"


class RiskAssessor:
    def __init__(self, engine: RiskEngine, detector: RiskDetector) -> None:
        self.engine = engine
        self.detector = detector

    @classmethod
    def from_files(cls) -> RiskAssessor:
        return cls(RiskEngine.from_file(), RiskDetector.from_file())

    def assess(self, messages: Sequence[str]) -> Assessment:
        """The tier for the newest of ``messages`` (the person's own, oldest first)."""
        if not messages:
            raise ValueError("no message to assess")
        newest = messages[-1]
        result = self.engine.assess(newest)
        # The engine fires on a first-person denial ("I'm not suicidal, just tired"): safety
        # first, when it had no other reading. Here a message whose only hits are such
        # denials is not clear risk on the lexicon's word; the detector reads what else it says.
        denial_only = bool(result.hits) and all(h.note.startswith("denial") for h in result.hits)
        floor = "none" if denial_only else _engine_tier(result)
        if floor != "none":
            return Assessment(tier=floor, source="lexicon", engine=result)
        reading = self.detector.read(newest)
        tier = reading.tier
        if denial_only:
            # a denial with something risky beside it is asked about, never blocked on the denial
            tier = "possible" if tier in ("clear", "possible") else "none"
            return Assessment(tier=tier, source="detector" if tier != "none" else "none", engine=result,
                              reading=reading, notes=("denial",))
        if tier != "none":
            return Assessment(tier=tier, source="detector", engine=result, reading=reading)
        recent = [m for m in messages[-CONTEXT_TURNS:] if m.strip()]
        if len(recent) > 1:
            context = self.detector.read(" ".join(recent))
            if context.tier in ("clear", "possible"):
                return Assessment(tier="possible", source="context", engine=result, reading=reading,
                                  context=context)
        return Assessment(tier="none", source="none", engine=result, reading=reading)
