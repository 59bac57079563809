"""The safety contract: the one definition of the names the crisis path is built on.

The NLU safety guard (``bot/nlu/safety_guard.py``) and the risk engine
(:mod:`trd.safety.risk`) produce these intents and the ``risk_category`` entity; the
safety policy (``bot/policies/safety_policy.py``) acts on them and sets these slots; the
action server (``actions/safety.py``, the intake forms) reads them. ``domain.yml``
declares exactly these intents, entity, slots and category values in its "safety"
sections (tests/unit/test_safety_contract.py checks it).

The enums document and enumerate the contract; code compares against the plain ``str``
constants below (a ``str`` enum member hashes by its name, so ``"crisis"`` would not be
found in a set of members).
"""

from __future__ import annotations

from enum import Enum
from typing import FrozenSet, Tuple


class Intent(str, Enum):
    """The safety intents (domain.yml ``intents``, "# --- safety")."""

    CRISIS = "crisis"
    DANGER_NOW = "crisis_danger_now"
    SOS = "sos"
    CRISIS_RETRACT = "crisis_retract"
    CONFIRM_SAFE = "confirm_safe"
    NOT_SAFE = "not_safe"
    SAFETY_PLAN_REQUEST = "safety_plan_request"


class RiskCategory(str, Enum):
    """Values of the ``risk_category`` entity and slot (domain.yml ``slots.risk_category.values``)."""

    SUICIDAL_IDEATION = "suicidal_ideation"
    CODED_LANGUAGE = "coded_language"
    METHOD_SEEKING = "method_seeking"
    PLAN = "plan"
    SELF_HARM = "self_harm"
    DANGER_NOW = "danger_now"
    HARM_TO_OTHERS = "harm_to_others"
    THIRD_PARTY = "third_party"
    SOS = "sos"
    # set by the dialogue, never by the risk lexicon:
    UNSPECIFIED = "unspecified"  # a crisis intent without a category (or one this version does not know)
    NOT_SAFE = "not_safe"  # the person answered the check question "I'm not safe"
    POSSIBLE = "possible"  # possible risk: the guard asks directly (never the crisis block by itself)


class Slot(str, Enum):
    """The crisis path's slots (domain.yml ``slots``, "# --- safety dialogue")."""

    CRISIS_ACTIVE = "crisis_active"  # true from the first risky message until the person says they are safe
    RISK_CATEGORY = "risk_category"  # the latest crisis's category (SafetyPolicy sets the one it acted on)
    INTERRUPTED_LOOP = "crisis_interrupted_loop"  # the form a crisis interrupted, resumed afterwards
    RISK_CHECK = "risk_check"  # the possible-risk question's state (RISK_CHECK_STATES)


# --- intents ------------------------------------------------------------------------------------
INTENT_CRISIS = Intent.CRISIS.value
INTENT_DANGER_NOW = Intent.DANGER_NOW.value
INTENT_SOS = Intent.SOS.value
INTENT_CRISIS_RETRACT = Intent.CRISIS_RETRACT.value
INTENT_CONFIRM_SAFE = Intent.CONFIRM_SAFE.value
INTENT_NOT_SAFE = Intent.NOT_SAFE.value
INTENT_SAFETY_PLAN_REQUEST = Intent.SAFETY_PLAN_REQUEST.value
SAFETY_INTENTS: Tuple[str, ...] = tuple(i.value for i in Intent)

# The intents that are a crisis by themselves (the policy answers them with crisis resources).
CRISIS_INTENTS: Tuple[str, ...] = (INTENT_CRISIS, INTENT_DANGER_NOW, INTENT_SOS)
# The crisis dialogue's own intents: never the target when the guard downgrades a false alarm.
SAFETY_DIALOGUE_INTENTS: Tuple[str, ...] = (
    INTENT_NOT_SAFE,
    INTENT_CONFIRM_SAFE,
    INTENT_CRISIS_RETRACT,
    INTENT_SAFETY_PLAN_REQUEST,
)

# --- the entity and the categories --------------------------------------------------------------
RISK_ENTITY = "risk_category"  # the entity the safety guard adds to a risky message

# The risk lexicon's categories (data/knowledge/risk_lexicon.yml, section ``risk``).
LEXICON_CRISIS_CATEGORIES: Tuple[str, ...] = (
    RiskCategory.SUICIDAL_IDEATION.value,
    RiskCategory.CODED_LANGUAGE.value,
    RiskCategory.METHOD_SEEKING.value,
    RiskCategory.PLAN.value,
    RiskCategory.SELF_HARM.value,
    RiskCategory.DANGER_NOW.value,
    RiskCategory.HARM_TO_OTHERS.value,
    RiskCategory.THIRD_PARTY.value,
)
SOS_CATEGORY = RiskCategory.SOS.value
POSSIBLE_CATEGORY = RiskCategory.POSSIBLE.value
LEXICON_CATEGORIES: Tuple[str, ...] = LEXICON_CRISIS_CATEGORIES + (SOS_CATEGORY,)
# Every value the risk_category slot may hold.
ALL_CATEGORIES: Tuple[str, ...] = tuple(c.value for c in RiskCategory)

# Risk of the person harming themselves, answered with utter_crisis. Most specific first:
# when a message has several, the first found is the one recorded (SafetyPolicy).
SELF_HARM_CATEGORIES: Tuple[str, ...] = (
    RiskCategory.PLAN.value,
    RiskCategory.METHOD_SEEKING.value,
    RiskCategory.SELF_HARM.value,
    RiskCategory.SUICIDAL_IDEATION.value,
    RiskCategory.CODED_LANGUAGE.value,
)
# Categories about the person's own safety: a crisis in one of them during the intake makes
# the record's suicidal_thoughts_now true. Wider than SELF_HARM_CATEGORIES: danger now, "I'm
# not safe" and an uncategorised crisis ("unspecified") are about the person unless shown
# otherwise.
SUICIDAL_THOUGHTS_NOW_CATEGORIES: FrozenSet[str] = frozenset(
    {
        *SELF_HARM_CATEGORIES,
        RiskCategory.DANGER_NOW.value,
        RiskCategory.NOT_SAFE.value,
        RiskCategory.UNSPECIFIED.value,
    }
)

# --- the three answers ----------------------------------------------------------------------
# The risk decision's tiers (trd/safety/assessment.py): clear risk gets the crisis block (or the
# harm-to-others / third-party answers), possible risk a direct question with the resources one tap
# away, none an ordinary reply.
TIER_CLEAR = "clear"
TIER_HARM_TO_OTHERS = "harm_to_others"
TIER_THIRD_PARTY = "third_party"
TIER_POSSIBLE = "possible"
TIER_NONE = "none"
TIERS: Tuple[str, ...] = (TIER_CLEAR, TIER_HARM_TO_OTHERS, TIER_THIRD_PARTY, TIER_POSSIBLE, TIER_NONE)

# The risk_check slot's values: the question was asked, asked once more (the reply was no
# answer), or the person said no (the intake goes on; possible risk is not asked again for a while).
RISK_CHECK_ASKED = "asked"
RISK_CHECK_REASKED = "reasked"
RISK_CHECK_DECLINED = "declined"
RISK_CHECK_STATES: Tuple[str, ...] = (RISK_CHECK_ASKED, RISK_CHECK_REASKED, RISK_CHECK_DECLINED)

# --- priority -----------------------------------------------------------------------------------
# The risk engine's primary category when a message has several: the most urgent first.
CATEGORY_PRIORITY: Tuple[str, ...] = (
    RiskCategory.DANGER_NOW.value,
    RiskCategory.PLAN.value,
    RiskCategory.METHOD_SEEKING.value,
    RiskCategory.HARM_TO_OTHERS.value,
    RiskCategory.SELF_HARM.value,
    RiskCategory.SUICIDAL_IDEATION.value,
    RiskCategory.CODED_LANGUAGE.value,
    RiskCategory.THIRD_PARTY.value,
    RiskCategory.SOS.value,
)
# The safety policy's priority: above RulePolicy's (6), so a form never swallows a crisis.
SAFETY_POLICY_PRIORITY = 7

# --- slots --------------------------------------------------------------------------------------
SLOT_CRISIS_ACTIVE = Slot.CRISIS_ACTIVE.value
SLOT_RISK_CATEGORY = Slot.RISK_CATEGORY.value
SLOT_INTERRUPTED_LOOP = Slot.INTERRUPTED_LOOP.value
SLOT_RISK_CHECK = Slot.RISK_CHECK.value
CRISIS_SLOTS: Tuple[str, ...] = tuple(s.value for s in Slot)

# The safety plan form's slots, in the order asked (domain.yml ``forms.safety_plan_form``).
SAFETY_PLAN_FORM = "safety_plan_form"
SAFETY_PLAN_SLOTS: Tuple[str, ...] = (
    "sp_warning_signs",
    "sp_coping_steps",
    "sp_people_places",
    "sp_who_to_call",
    "sp_professionals",
    "sp_safer_surroundings",
)
SAFETY_SLOTS: Tuple[str, ...] = CRISIS_SLOTS + SAFETY_PLAN_SLOTS
