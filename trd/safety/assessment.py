"""One risk decision from the lexicon's floor, the detector's reading and the recent turns.

The safety guard asks this module, for the person's last few messages (the newest last),
which of the tiers applies (trd/safety/detector.py names them):

1. the risk engine (lexicon) on the newest message is the floor: an explicit phrase it
   lists is clear risk (or third-party, or harm to others), whatever the detector says,
   except a phrase about the past with nothing that could be now
   (data/knowledge/risk_past_framing.yml), which is asked about (the possible tier);
2. the detector on the newest message: its tier by the validation-chosen thresholds; a
   plain denial the engine recognises ("I'm not suicidal, just worn out") with nothing
   else risky in it stays an ordinary message, and a denial beside something the
   detector reads as risk is asked about (the possible tier), not blocked; a whole reply
   that only answers a question ("I don't know", "nothing else":
   data/knowledge/plain_answers.yml) is too short for the detector and is not read by it;
3. the recent turns together: risk that builds up over several messages (each mild on
   its own) is read on the last few messages joined, and can raise the answer to the
   possible tier (a direct question), never to the crisis block on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

from trd.safety.contract import INTENT_SOS, RiskCategory
from trd.safety.detector import Reading, RiskDetector
from trd.safety.history import PastFraming, load_past_framing
from trd.safety.plain_answers import PlainAnswers, load_plain_answers
from trd.safety.risk import RiskEngine, RiskResult

CONTEXT_TURNS = 3  # the newest message and the two before it
# The joined messages' risk (p(clear) + p(possible)) at or above which they are asked about.
# Chosen on tests/safety/validation/conversations_validation.yml (written blind): every
# at-risk conversation there is answered by its single messages already, and 0.9 is the
# lowest value at which the context reading adds no question to a not-at-risk conversation.
CONTEXT_THRESHOLD = 0.9
CONTEXT_MIN_WORDS = 4  # shorter messages are form answers, not read in context
# A message with no risk words that says someone else is safe ("she's seeing a therapist and
# says she's ok") explains the detector's reading of someone else at risk below this; at or
# above it the third-party answer stands (the detector is sure; what they said may not be true)
REASSURED_CEILING = 0.8
# The lexicon's explicit phrase in a message that asks a question, or that tells of the past
# with the present only in weak words ("now", "today", "still": risk_past_framing.yml), and that
# the detector reads, whole, as no risk with at least this p(none), is asked about (the
# possible tier, the crisis lines in view), not blocked: "what happened with that actor? i know
# it was suicide", "self harm free since 2019 and i don't miss it, today was just a crap day".
# A statement in the present ("I want to kill myself", "my brother is suicidal") keeps the
# block whatever the detector reads. Chosen on the validation sets (tests/safety/validation/,
# written blind): at 0.9 it moves 8 of their look-alikes from the block to the question and
# none of their 1,050 risk messages (at 0.8 without the past-or-question condition: 16
# look-alikes and one risk message). Never for danger now, "help now", harm to others, method
# seeking or a plan (_NEVER_DOUBTED), and never without the detector (the channels'
# lexicon-only check blocks as before).
LEXICON_DOUBT = 0.9
_NEVER_DOUBTED = (RiskCategory.METHOD_SEEKING.value, RiskCategory.PLAN.value)
# A message that says the person is safe ("I'm ok", "I'm fine") whose detector reading of risk
# (p(clear) + p(possible)) is at least this is asked about all the same. Chosen on the
# validation sets: of their messages said to be safe, the three of possible risk read 0.96 to
# 1.0, and the highest no-risk one 0.93 ("sometimes i wish i had more friends but i'm ok").
MASKED_RISK = 0.95
_QUESTION = re.compile(r"\?|^\W*(?:what|how|why|when|where|who|which|is|are|can|could|does|do|did|was|were|"
                       r"should|would|will|has|have)\b", re.IGNORECASE)

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
    def __init__(
        self,
        engine: RiskEngine,
        detector: RiskDetector,
        past: Optional[PastFraming] = None,
        plain: Optional[PlainAnswers] = None,
    ) -> None:
        self.engine = engine
        self.detector = detector
        self.past = past if past is not None else load_past_framing()
        self.plain = plain if plain is not None else load_plain_answers()

    @classmethod
    def from_files(cls) -> RiskAssessor:
        return cls(RiskEngine.from_file(), RiskDetector.from_file())

    def assess(self, messages: Sequence[str]) -> Assessment:
        """The tier for the newest of ``messages`` (the person's own, oldest first)."""
        if not messages:
            raise ValueError("no message to assess")
        newest = messages[-1]
        single = self.assess_with(newest, self.engine.assess(newest))
        if single.tier != "none" or "denial" in single.notes:
            return single
        context = self.context(messages)
        if context is not None:
            return Assessment(tier="possible", source="context", engine=single.engine,
                              reading=single.reading, context=context)
        return single

    def assess_with(self, text: str, result: RiskResult) -> Assessment:
        """The tier for one message on its own, given the engine's result for it."""
        # The engine fires on a first-person denial ("I'm not suicidal, just tired"): safety
        # first, when it had no other reading. Here a message whose only hits are such
        # denials is not clear risk on the lexicon's word; the detector reads what else it says.
        denial_only = bool(result.hits) and all(h.note.startswith("denial") for h in result.hits)
        floor = "none" if denial_only else _engine_tier(result)
        askable = floor == "third_party" or (
            floor == "clear" and result.intent != INTENT_SOS and result.category != RiskCategory.DANGER_NOW.value  # noqa: E501
        )
        past_mention = floor == "third_party" and result.mention_only  # the detector reads it below
        if askable and self.past.about_the_past(text) and not past_mention:
            # history ("at 22 I tried to hang myself; I'm 38 now"): ask whether it is there now
            return Assessment(tier="possible", source="lexicon", engine=result, notes=("past",))
        if askable and floor == "clear" and result.reported_question:
            # a question someone else asked the person ("my therapist asked me if I'd ever want
            # to kill myself"), with no answer given: ask them, do not assume
            return Assessment(tier="possible", source="lexicon", engine=result, notes=("asked",))
        if floor in ("clear", "third_party") and result.mention_only and result.intent != INTENT_SOS:
            # the topic word with nothing about the person's own state ("how many people die
            # by suicide a year"): the detector decides between the block and the question,
            # and the question (988 in view) is the least a mention gets; someone else's risk
            # told as history ("my roommate was suicidal in college") is the detector's to read
            reading = self.detector.read(text)
            least = "none" if result.about_someone_else else "possible"
            tier = reading.tier if reading.tier != "none" else least
            return Assessment(tier=tier, source="detector", engine=result, reading=reading,
                              notes=("mention",))
        # never for a question about method or lethality ("what's a deadly amount of lithium"):
        # the detector's calm reading of it is the miss this product must not make
        method = any(h.category in _NEVER_DOUBTED for h in result.hits)
        if askable and not method and (_QUESTION.search(text) or self.past.past_with_weak_present(text)):
            doubt = self._doubt(text)
            if doubt is not None:
                return Assessment(tier="possible", source="lexicon", engine=result, reading=doubt,
                                  notes=("doubted",))
        if floor != "none":
            return Assessment(tier=floor, source="lexicon", engine=result)
        if self.plain.is_plain_answer(text):
            # a whole reply that only answers the question asked ("I don't know", "nothing
            # else"): too little for the detector to read (data/knowledge/plain_answers.yml)
            return Assessment(tier="none", source="none", engine=result, notes=("plain answer",))
        # a message that denies risk or says the person is safe is read whole: one of its
        # sentences alone ("I'm just worn out") has lost the denial beside it
        denies = denial_only or (result.safe_affirmation and not result.hits)
        reading = self._read_whole(text) if denies else self.detector.read(text)
        tier = reading.tier
        if denial_only:
            # a denial with something risky beside it is asked about, never blocked on the denial
            tier = "possible" if tier in ("clear", "possible") else "none"
            return Assessment(tier=tier, source="detector" if tier != "none" else "none", engine=result,
                              reading=reading, notes=("denial",))
        if result.safe_affirmation and not result.hits and tier in ("clear", "possible"):
            # "I'm not in danger or anything, I just feel invisible": said to be safe in so many
            # words, nothing the lexicon lists: not asked about on the detector's word alone, and
            # its clear reading is asked about, never blocked. A reading of risk beyond doubt
            # (MASKED_RISK) is asked about still: "promise I'm ok. just lying here wondering why
            # I bother" is the safe words masking it
            sure = reading.probabilities["clear"] + reading.probabilities["possible"] >= MASKED_RISK
            tier = "possible" if tier == "clear" or sure else "none"
            return Assessment(tier=tier, source="detector" if tier != "none" else "none", engine=result,
                              reading=reading, notes=("safe",))
        # no risk words, and someone else said to be safe ("she's seeing a therapist and says
        # she's ok"): it explains only an uncertain reading of someone else at risk. A sure one
        # stands ("my friend just texted me goodbye, she says she's fine": ask about them), and
        # so does any reading of the person's own risk ("they're fine, it's me who can't see the
        # point anymore"): the look-alike rule below is not for it
        reassured = result.explained_by == ("third_party_safe",) and not result.suppressed and not result.hits
        if reassured and tier == "third_party" and reading.probabilities["third_party"] < REASSURED_CEILING:
            return Assessment(tier="none", source="none", engine=result, reading=reading,
                              notes=("reassured",))
        if result.explained_by and not reassured and not result.has_risk_signal and tier != "none":
            # an explicit look-alike the lexicon recognises ("this drug is killing me", news of a
            # death, someone else's past risk with them safe now): the detector's clear reading is
            # asked about, never blocked; its possible reading, or its reading of someone else
            # at risk, is what the look-alike explains (an ordinary reply)
            tier = "possible" if tier == "clear" else "none"
            return Assessment(tier=tier, source="detector" if tier != "none" else "none", engine=result,
                              reading=reading, notes=("lookalike",))
        return Assessment(tier=tier, source="detector" if tier != "none" else "none", engine=result,
                          reading=reading)

    def _doubt(self, text: str) -> Optional[Reading]:
        """The detector's whole reading when it is sure there is no risk (``LEXICON_DOUBT``); None
        otherwise, and always without a detector that reads whole (a channel's lexicon-only
        check: the lexicon's floor stands)."""
        read_whole = getattr(self.detector, "read_whole", None)
        if not callable(read_whole):
            return None
        reading: Reading = read_whole(text)
        return reading if reading.probabilities["none"] >= LEXICON_DOUBT else None

    def _read_whole(self, text: str) -> Reading:
        """The detector's reading of the text as one; a detector with only ``read`` (a stand-in,
        such as a channel's lexicon-only check) reads it that way."""
        read_whole = getattr(self.detector, "read_whole", None)
        return read_whole(text) if callable(read_whole) else self.detector.read(text)

    def context(self, messages: Sequence[str]) -> Optional[Reading]:
        """The detector's reading of the last few messages joined, when it shows risk (else None).

        Risk that builds up over several messages, each mild on its own: it can raise the
        answer to the possible tier (a direct question), never to the crisis block.
        """
        # Short replies ("Several days", "1", "go back") are answers to the form's questions,
        # not what a person says about themselves: joined they read as nonsense, so they are
        # left out, and a short newest message is never read in context.
        if len(messages[-1].split()) < CONTEXT_MIN_WORDS:
            return None
        recent = [m for m in messages[-CONTEXT_TURNS:] if len(m.split()) >= CONTEXT_MIN_WORDS]
        if len(recent) < 2:
            return None
        reading = self._read_whole(" ".join(recent))
        return reading if reading.risk >= CONTEXT_THRESHOLD else None
