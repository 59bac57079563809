"""What a user message asks of the crisis path: shared by the safety and free-text policies.

:func:`classify` reads the latest message's intent and the safety guard's ``risk_category``
entities (trd/safety/contract.py) into the response the safety policy answers with. The
free-text answer policy uses it too, to never give a risky message to a form as an
answer; that policy trains with the model, so this module imports nothing that runs only
when the model serves.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Set, Tuple

from rasa.shared.core.events import UserUttered

from trd.safety.contract import (
    ALL_CATEGORIES,
    CRISIS_INTENTS,
    INTENT_DANGER_NOW,
    INTENT_NOT_SAFE,
    INTENT_SAFETY_PLAN_REQUEST,
    INTENT_SOS,
    POSSIBLE_CATEGORY,
    RISK_ENTITY,
    SAFETY_POLICY_PRIORITY,
    SELF_HARM_CATEGORIES,
)

__all__ = ["SAFETY_POLICY_PRIORITY", "classify", "entity_categories"]

# Intents, entity, categories and slots: the safety contract (trd/safety/contract.py).
NOT_SAFE_INTENT = INTENT_NOT_SAFE
SAFETY_PLAN_INTENT = INTENT_SAFETY_PLAN_REQUEST
KNOWN_CATEGORIES = frozenset(ALL_CATEGORIES)

# Domain names (domain.yml, "# --- safety dialogue" sections).
UTTER_CRISIS = "utter_crisis"
UTTER_DANGER_NOW = "utter_crisis_danger_now"
UTTER_THIRD_PARTY = "utter_crisis_third_party"
UTTER_HARM_TO_OTHERS = "utter_crisis_harm_to_others"
UTTER_SOS = "utter_sos"
UTTER_NOT_SAFE = "utter_crisis_not_safe"
UTTER_RISK_CHECK = "utter_risk_check"


def entity_categories(message: Optional[UserUttered]) -> List[str]:
    """The values of the guard's risk_category entities on a message."""
    if message is None:
        return []
    found = []
    for entity in message.entities or []:
        if isinstance(entity, dict) and entity.get("entity") == RISK_ENTITY:
            value = entity.get("value")
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
    return found


def classify(intent: Optional[str], categories: Sequence[str]) -> Optional[Tuple[str, str]]:
    """(crisis response, category to record) for a message, or None if it is not a crisis.

    The most urgent reading wins: danger now, then harm to others, then risk to the
    person themselves, then "help now", then worry about someone else.
    """
    cats: Set[str] = set(categories)
    if intent == INTENT_DANGER_NOW or "danger_now" in cats:
        return UTTER_DANGER_NOW, "danger_now"
    if "harm_to_others" in cats:
        return UTTER_HARM_TO_OTHERS, "harm_to_others"
    for category in SELF_HARM_CATEGORIES:  # about the person themselves, most specific first
        if category in cats:
            return UTTER_CRISIS, category
    if intent == NOT_SAFE_INTENT:
        return UTTER_NOT_SAFE, "not_safe"
    if intent == INTENT_SOS or "sos" in cats:
        return UTTER_SOS, "sos"
    if "third_party" in cats:
        return UTTER_THIRD_PARTY, "third_party"
    if intent not in CRISIS_INTENTS and cats == {POSSIBLE_CATEGORY}:
        return UTTER_RISK_CHECK, POSSIBLE_CATEGORY
    cats.discard(POSSIBLE_CATEGORY)
    if intent in CRISIS_INTENTS or cats:
        # a crisis intent without a category, or a category this version does not know
        return UTTER_CRISIS, "unspecified"
    return None
