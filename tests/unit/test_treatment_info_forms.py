"""A treatment question asked in the middle of any form is answered, then the form goes on.

Rasa 3.6 needs one rule per form ("chitchat/FAQ inside forms": condition active_loop
<form>; steps intent, answer, the form again, active_loop <form>), so:

* every form of domain.yml has that rule in data/rules/treatment_info.yml (a form added
  later fails here until scripts/gen_treatment_info.py is run);
* a treatment question never becomes a form's answer: each from_text slot mapping either
  lists treatment_info in ``not_intent``, or its form's validator rejects the form for such
  a question (the intake forms do, actions/forms/intake_base.py), checked by running the
  real validator. (A blanket not_intent would also drop real answers the classifier reads
  as treatment_info, such as "IFS" or "ketamine infusions".)
* the pipeline has the ResponseSelector for treatment_info after DIETClassifier, and the
  safety guard still runs last.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

import actions.checkins
import actions.forms
from tests.support.trackers import form_answer_events, make_tracker
from trd.store.repository import InMemoryRepository

ROOT = Path(__file__).resolve().parents[2]
INTENT = "treatment_info"
ACTION = "utter_treatment_info"
# Treatment questions as people type them in the middle of a form.
QUESTIONS = ("what is TMS?", "how fast does ketamine work?", "is ECT a last resort?")


def _yaml(name: str) -> Dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    return data


def _forms() -> List[str]:
    return list((_yaml("domain.yml").get("forms") or {}).keys())


def _rules() -> List[Dict[str, Any]]:
    return list(_yaml("data/rules/treatment_info.yml")["rules"])


def test_a_treatment_question_outside_a_form_gets_its_answer() -> None:
    plain = [r for r in _rules() if not r.get("condition")]
    assert [r["steps"] for r in plain] == [[{"intent": INTENT}, {"action": ACTION}]]


@pytest.mark.slow
def test_every_form_has_a_rule_that_answers_and_resumes_it() -> None:
    forms = _forms()
    assert forms, "domain.yml declares no forms"
    by_form = {
        r["condition"][0]["active_loop"]: r["steps"]
        for r in _rules()
        if r.get("condition") and "active_loop" in r["condition"][0]
    }
    missing = [f for f in forms if f not in by_form]
    assert missing == [], (
        f"forms without a treatment-question rule (run scripts/gen_treatment_info.py): {missing}"
    )
    for form in forms:
        assert by_form[form] == [
            {"intent": INTENT},
            {"action": ACTION},
            {"action": form},
            {"active_loop": form},
        ], form


@pytest.mark.slow
def test_rules_name_only_forms_that_exist() -> None:
    forms = set(_forms())
    named = {r["condition"][0]["active_loop"] for r in _rules() if r.get("condition")}
    assert named <= forms, named - forms


def _no_store() -> Any:
    raise RuntimeError("a treatment question must not reach the check-in store")


def _validators() -> Dict[str, FormValidationAction]:
    """Every form validation action of the action server (its forms and check-ins packages), by
    name, built on in-memory stand-ins: none of them may need a database for a question."""
    for package in (actions.forms, actions.checkins):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found: Dict[str, FormValidationAction] = {}
    for cls in subclasses(FormValidationAction):
        if inspect.isabstract(cls):
            continue
        params = inspect.signature(cls.__init__).parameters
        stand_ins: Dict[str, Any] = {
            "repository_factory": InMemoryRepository,
            "store_factory": _no_store,
            "env": {},
        }
        kwargs = {name: value for name, value in stand_ins.items() if name in params}
        try:
            action = cls(**kwargs)
            found[action.name()] = action
        except (TypeError, NotImplementedError):
            continue
    return found


def _asked(form: str, slot: str, text: str, slots: Dict[str, Any]) -> Tracker:
    """What FormAction sends when the from_text mapping stored a question as the answer to ``slot``."""
    parse = {"intent": {"name": INTENT, "confidence": 0.99}, "entities": [], "text": text}
    message = {"event": "user", "text": text, "input_channel": "rest", "parse_data": parse}
    events = form_answer_events(form, slot, message, text)
    values: Dict[str, Any] = {name: None for name in slots}
    values.update({slot: text, "requested_slot": slot})
    return make_tracker("treatment-info-check", values, parse, events, active_loop=form, latest_action=form)


def _question_reaches_the_rules(
    validator: FormValidationAction, form: str, slot: str, domain: Dict[str, Any]
) -> bool:
    """The validator rejects the form for a treatment question instead of storing it as the answer."""
    for text in QUESTIONS:
        events = asyncio.run(
            validator.run(CollectingDispatcher(), _asked(form, slot, text, domain["slots"]), domain)
        )
        rejected = any(e.get("event") == "action_execution_rejected" for e in events)
        stored = any(e.get("event") == "slot" and e.get("name") == slot and e.get("value") for e in events)
        if not rejected or stored:
            return False
    return True


@pytest.mark.slow
def test_a_treatment_question_in_any_form_is_never_stored_as_the_answer() -> None:
    """Each from_text slot either lists treatment_info in not_intent (the mapping never fills it),
    or its form's validator hands the question back to the rules (ActionExecutionRejected),
    as the intake forms do (actions/forms/intake_base.py). Either way data/rules/treatment_info.yml
    answers it and the form asks again. A free-text validator that stores whatever it gets fails."""
    domain = _yaml("domain.yml")
    slots = domain.get("slots") or {}
    validators = _validators()
    failing = []
    for name, slot in slots.items():
        for mapping in (slot or {}).get("mappings") or []:
            if mapping.get("type") != "from_text" or INTENT in (mapping.get("not_intent") or []):
                continue
            forms = [c.get("active_loop") for c in mapping.get("conditions") or [] if c.get("active_loop")]
            ok = bool(forms) and all(
                f"validate_{form}" in validators
                and _question_reaches_the_rules(validators[f"validate_{form}"], form, name, domain)
                for form in forms
            )
            if not ok:
                failing.append(name)
    assert failing == [], (
        f"a treatment question asked at these {len(failing)} slots is stored as the answer (add {INTENT} "
        f"to the mapping's not_intent, or reject it in the form's validator): {', '.join(failing)}"
    )


def test_pipeline_has_the_response_selector_and_the_guard_stays_last() -> None:
    pipeline = _yaml("config.yml")["pipeline"]
    names = [c["name"] for c in pipeline]
    selectors = [c for c in pipeline if c["name"] == "ResponseSelector"]
    assert len(selectors) == 1 and selectors[0]["retrieval_intent"] == INTENT
    assert names.index("ResponseSelector") == names.index("DIETClassifier") + 1
    assert names[-1] == "bot.nlu.safety_guard.SafetyGuard"
