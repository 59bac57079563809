"""domain.yml declares exactly the safety contract (trd/safety/contract.py), and its users share it."""

from __future__ import annotations

import re
from typing import Dict, List

import yaml

from trd.paths import DOMAIN_FILE
from trd.safety import contract

DOMAIN_TEXT = DOMAIN_FILE.read_text(encoding="utf-8")
DOMAIN = yaml.safe_load(DOMAIN_TEXT)


def _sections(key: str) -> Dict[str, List[str]]:
    """Names declared under each "# --- <section>" comment of a top-level key of domain.yml."""
    lines = DOMAIN_TEXT.splitlines()
    start = lines.index(f"{key}:")
    found: Dict[str, List[str]] = {}
    section = ""
    for line in lines[start + 1:]:
        if line and not line.startswith((" ", "#")):
            break  # the next top-level key
        marker = re.match(r"^  # --- ([a-z ]+)", line)
        if marker:
            section = marker.group(1).strip()
            continue
        name = re.match(r"^  - ([A-Za-z_]+)\s*$", line) or re.match(r"^  ([A-Za-z_]+):", line)
        if name:
            found.setdefault(section, []).append(name.group(1))
    return found


def test_domain_declares_exactly_the_safety_intents() -> None:
    assert _sections("intents")["safety"] == list(contract.SAFETY_INTENTS)
    assert set(contract.CRISIS_INTENTS) <= set(contract.SAFETY_INTENTS)
    dialogue = set(contract.SAFETY_INTENTS) - set(contract.CRISIS_INTENTS)
    assert set(contract.SAFETY_DIALOGUE_INTENTS) == dialogue


def test_domain_declares_exactly_the_safety_slots() -> None:
    assert _sections("slots")["safety dialogue"] == list(contract.SAFETY_SLOTS)
    form = DOMAIN["forms"][contract.SAFETY_PLAN_FORM]
    assert tuple(form["required_slots"]) == contract.SAFETY_PLAN_SLOTS


def test_domain_declares_exactly_the_risk_entity_and_categories() -> None:
    assert _sections("entities")["safety dialogue"] == [contract.RISK_ENTITY]
    slot = DOMAIN["slots"][contract.SLOT_RISK_CATEGORY]
    assert slot["values"] == list(contract.ALL_CATEGORIES)
    assert slot["mappings"] == [{"type": "from_entity", "entity": contract.RISK_ENTITY}]


def test_crisis_active_is_set_by_the_crisis_intents_and_not_safe() -> None:
    (mapping,) = DOMAIN["slots"][contract.SLOT_CRISIS_ACTIVE]["mappings"]
    assert set(mapping["intent"]) == {*contract.CRISIS_INTENTS, contract.INTENT_NOT_SAFE}


def test_the_category_sets_are_consistent() -> None:
    everything = set(contract.ALL_CATEGORIES)
    assert set(contract.LEXICON_CATEGORIES) <= everything
    assert sorted(contract.CATEGORY_PRIORITY) == sorted(contract.LEXICON_CATEGORIES)
    assert set(contract.SELF_HARM_CATEGORIES) <= set(contract.LEXICON_CRISIS_CATEGORIES)
    # the intake's "about the person's own safety" is wider than the self-harm response's set
    assert set(contract.SELF_HARM_CATEGORIES) < contract.SUICIDAL_THOUGHTS_NOW_CATEGORIES <= everything
    assert contract.SUICIDAL_THOUGHTS_NOW_CATEGORIES - set(contract.SELF_HARM_CATEGORIES) == {
        "danger_now",
        "not_safe",
        "unspecified",
    }


def test_the_constants_are_plain_strings() -> None:
    # a str enum member hashes by its name: sets of members would not find "crisis"
    names = (*contract.SAFETY_INTENTS, *contract.ALL_CATEGORIES, *contract.SAFETY_SLOTS, contract.RISK_ENTITY)
    for value in names:
        assert type(value) is str


def test_every_user_takes_the_contract_from_one_place() -> None:
    import actions.safety
    import bot.nlu.safety_guard
    import bot.policies.crisis_reading
    import bot.policies.safety_policy
    import trd.intake.parts
    import trd.safety.risk

    for module in (actions.safety, bot.nlu.safety_guard, bot.policies.crisis_reading):
        assert module.RISK_ENTITY is contract.RISK_ENTITY
    for module in (actions.safety, bot.policies.safety_policy, trd.intake.parts):
        assert module.SLOT_CRISIS_ACTIVE is contract.SLOT_CRISIS_ACTIVE
        assert module.SLOT_RISK_CATEGORY is contract.SLOT_RISK_CATEGORY
        assert module.SLOT_INTERRUPTED_LOOP is contract.SLOT_INTERRUPTED_LOOP
    assert bot.nlu.safety_guard.CRISIS_INTENTS is contract.CRISIS_INTENTS
    assert bot.policies.crisis_reading.CRISIS_INTENTS is contract.CRISIS_INTENTS
    assert bot.policies.safety_policy.SAFETY_POLICY_PRIORITY == contract.SAFETY_POLICY_PRIORITY
    assert bot.policies.safety_policy.SLOT_RISK_CHECK is contract.SLOT_RISK_CHECK
    assert trd.safety.risk.ALL_CATEGORIES is contract.LEXICON_CATEGORIES
    assert trd.safety.risk._PRIORITY is contract.CATEGORY_PRIORITY
