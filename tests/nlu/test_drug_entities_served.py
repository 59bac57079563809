"""The drug entity through the trained model and a real Rasa server (/model/parse on 127.0.0.1).

This is the path a person's message takes: SpacyNLP loads build/nlu/spacy_drugs
(whose custom spaCy factory must be registered before Rasa calls spacy.load),
SpacyEntityExtractor finds the names, DrugNormaliser turns them into generic
names, and the safety guard still has the last word on the intent.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from scripts.eval_drugs import evaluate, load_cases

pytestmark = pytest.mark.integration


def drug_entities(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    ents = sorted(result.get("entities") or [], key=lambda e: e["start"])
    return [e for e in ents if e["entity"] == "drug"]


def test_parse_gives_generic_names_once_each(stack: Any) -> None:
    text = "I took Zoloft then lexapro XR, and abilify was added"
    ents = drug_entities(stack.parse(text))
    assert [(e["value"], text[e["start"]: e["end"]]) for e in ents] == [
        ("sertraline", "Zoloft"),
        ("escitalopram", "lexapro XR"),
        ("aripiprazole", "abilify"),
    ]
    assert {e["extractor"] for e in ents} == {"SpacyEntityExtractor"}  # DIET's own guesses are dropped


def test_unseen_misspellings_are_recognised_by_the_served_model(stack: Any) -> None:
    ents = drug_entities(stack.parse("zolaft and welbutrn, then symbolta"))
    assert [e["value"] for e in ents] == ["sertraline", "bupropion", "duloxetine"]


def test_a_crisis_message_that_names_a_drug_stays_a_crisis(stack: Any) -> None:
    result = stack.parse("I want to take all my zoloft and end it tonight")
    assert result["intent"]["name"] in ("crisis", "crisis_danger_now")
    assert [e["value"] for e in drug_entities(result)] == ["sertraline"]


def test_recall_and_precision_through_the_server(stack: Any) -> None:
    report = evaluate(load_cases(), lambda text: [e["value"] for e in drug_entities(stack.parse(text))])
    detail = "\n".join(report.misses + report.false_alarms)
    assert report.total.recall >= 0.95, detail
    assert report.total.precision >= 0.98, detail
