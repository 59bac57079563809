"""Property tests over schema-valid intake records (hypothesis).

Properties, stated precisely:

P1 (no crash, contract). For every schema-valid record R, navigate(R) returns a result whose to_dict()
   survives a JSON round trip unchanged; flags are a subset of the section-8 vocabulary in vocabulary
   order; layers are exactly reframe, optimise, mechanism, psychotherapy, emerging with statuses from
   {open, partly, worked_through}; there is one trial assessment per trial with an adequacy from the
   seven values; every evidence statement has at least one source; every option text is a question
   for a clinician (starts with "Ask").

P2 (unknown is never read as "no"). Let R be schema-valid and p the path of a field whose schema allows
   null and whose value in R is `false`. Let R' be R with that value replaced by null, and R'' be R with
   the key removed. Then for R' and R'': (a) every flag of R is still raised (flags(R) ⊆ flags(R')), and
   (b) no layer looks more worked through: rank(status_L(R')) <= rank(status_L(R)) for each layer L,
   with open < partly < worked_through.

P3 (unknown never makes a trial count). Replacing a trial's max_dose_mg, weeks_at_dose or adherence by
   null never turns that trial adequate, never increases the number of different failed adequate
   antidepressants (so never creates trd_criteria_met), and never raises the rank of the optimise or
   mechanism layer.

P4 (urgency). "urgent" is raised exactly when the PHQ-9 total is at least 20, or PHQ-9 item 9 is above 0,
   or suicidal_thoughts_now is true; when it is raised, ECT and ketamine/esketamine are the first two
   mechanism options; otherwise TMS is first.

P5 (adequacy agrees with its definition). A trial is "adequate" only if its dose is at least the
   lexicon's minimum, its weeks at dose at least the required weeks, and adherence is "most_days".
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trd.navigator import FLAG_VOCABULARY, LAYER_IDS, evaluate, load_knowledge, navigate
from trd.navigator.model import ADEQUACY_VALUES, STATUS_RANK

pytestmark = pytest.mark.slow  # 100 generated records per property
KNOWLEDGE = load_knowledge()
LEXICON = KNOWLEDGE.lexicon
TREATMENTS = KNOWLEDGE.treatments
DRUG_NAMES = sorted({name for entry in LEXICON.entries for name in entry.names()})

SETTINGS = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

tri = st.one_of(st.none(), st.booleans())
# A fixed alphabet (with non-ASCII letters) keeps hypothesis from building its unicode cache in .hypothesis/.
free_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ -/+.0123456789éüøßжу日本", max_size=15)
outcomes = st.sampled_from(
    [
        None,
        "no_response",
        "partial_response",
        "response_then_relapse",
        "remission",
        "stopped_side_effects",
        "too_early",
    ]
)
numbers = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=600),
    st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.025, 0.05, 2, 5, 6, 10, 20, 50, 75, 100, 150, 300]),
)
weeks = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=52),
    st.floats(min_value=0, max_value=52),
    st.sampled_from([2, 5.9, 6, 8]),
)


def optional_keys(**fields: st.SearchStrategy) -> st.SearchStrategy:
    """A dict in which every key may be missing (missing means unknown)."""
    return st.fixed_dictionaries({}, optional=fields)


trial_strategy = st.fixed_dictionaries(
    {"drug": st.one_of(st.sampled_from(DRUG_NAMES), free_text)},
    optional={
        "role": st.sampled_from([None, "antidepressant", "augmentation"]),
        "max_dose_mg": numbers,
        "weeks_at_dose": weeks,
        "adherence": st.sampled_from([None, "most_days", "often_missed"]),
        "outcome": outcomes,
        "still_taking": tri,
        "side_effects": st.lists(free_text, max_size=2),
    },
)
therapy_strategy = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "cbt",
                "behavioural_activation",
                "ipt",
                "emdr",
                "ifs",
                "sensorimotor",
                "dbt",
                "act",
                "psychodynamic",
                "other",
            ]
        )
    },
    optional={"sessions": st.one_of(st.none(), st.integers(0, 60)), "completed": tri},
)
other_strategy = st.fixed_dictionaries(
    {"type": st.sampled_from(["tms", "ect", "ketamine", "esketamine", "vns", "dbs", "tdcs", "psilocybin"])},
    optional={"completed": tri, "outcome": outcomes},
)
record_strategy = optional_keys(
    phq9=st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=9, max_size=9)),
    episode_months=st.one_of(st.none(), st.integers(0, 400)),
    previous_episodes=tri,
    trials=st.lists(trial_strategy, max_size=5),
    psychotherapy=st.lists(therapy_strategy, max_size=3),
    other_treatments=st.lists(other_strategy, max_size=3),
    bipolar=optional_keys(
        elevated_periods=tri, little_sleep_needed=tri, antidepressant_activation=tri, family_history=tri
    ),
    trauma=optional_keys(
        exposure=tri, pc_ptsd5=st.one_of(st.none(), st.lists(st.booleans(), min_size=5, max_size=5))
    ),
    adhd=optional_keys(since_childhood=tri, trouble_finishing=tri, distractible=tri, interest_lifts_mood=tri),
    medical=optional_keys(
        labs_checked_past_year=optional_keys(
            thyroid=tri, b12=tri, vitamin_d=tri, blood_count=tri, glucose=tri
        ),
        loud_snoring=tri,
        breathing_pauses_seen=tri,
        daytime_sleepiness=tri,
        heavy_alcohol_or_drugs=tri,
    ),
    cautions=optional_keys(
        uncontrolled_blood_pressure_or_heart_disease=tri,
        psychosis_or_dissociation_history=tri,
        substance_use_problem=tri,
        pregnant_or_planning=tri,
        can_attend_daily_visits=tri,
    ),
    suicidal_thoughts_now=tri,
)


def false_paths(value: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    """Paths of `false` values whose schema allows null (every boolean except the PC-PTSD-5 items)."""
    if value is False and "pc_ptsd5" not in path:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from false_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from false_paths(item, path + (index,))


def replaced(record: Dict[str, Any], path: Tuple[Any, ...], delete: bool) -> Dict[str, Any]:
    out = copy.deepcopy(record)
    target = out
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = None
    return out


def statuses(result) -> Dict[str, int]:
    return {layer.id: STATUS_RANK[layer.status] for layer in result.layers}


@SETTINGS
@given(record_strategy)
def test_p1_no_schema_valid_record_crashes_and_the_contract_holds(record: Dict[str, Any]) -> None:
    result = navigate(record, KNOWLEDGE)
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["flags"] == [flag for flag in FLAG_VOCABULARY if flag in data["flags"]]
    assert [layer["id"] for layer in data["layers"]] == list(LAYER_IDS)
    assert {layer["status"] for layer in data["layers"]} <= set(STATUS_RANK)
    assert len(data["trials"]) == len(record.get("trials", []))
    assert all(trial["adequacy"] in ADEQUACY_VALUES for trial in data["trials"])
    assert all(item["sources"] for item in data["evidence"])
    assert all(
        option["text"].startswith("Ask") for layer in data["layers"] for option in layer["option_details"]
    )
    assert data["questions"][:1] and data["measurement_plan"]["measure"] == "PHQ-9"


@SETTINGS
@given(record_strategy)
def test_p2_replacing_false_by_unknown_never_removes_a_flag_or_closes_a_layer(record: Dict[str, Any]) -> None:
    navigate(record, KNOWLEDGE)  # the record is schema-valid
    base = evaluate(record, LEXICON, TREATMENTS)
    base_flags = set(base.flags)
    base_status = statuses(base)
    for path in false_paths(record):
        for delete in (False, True):
            variant = replaced(record, path, delete)
            result = evaluate(variant, LEXICON, TREATMENTS)
            assert base_flags <= set(result.flags), (path, delete, base_flags - set(result.flags))
            after = statuses(result)
            for layer_id, rank in base_status.items():
                assert after[layer_id] <= rank, (path, delete, layer_id)


@SETTINGS
@given(record_strategy, st.data())
def test_p3_unknown_dose_weeks_or_adherence_never_makes_a_trial_count(record: Dict[str, Any], data) -> None:
    trials: List[Dict[str, Any]] = record.get("trials", [])
    if not trials:
        return
    index = data.draw(st.integers(0, len(trials) - 1))
    field = data.draw(st.sampled_from(["max_dose_mg", "weeks_at_dose", "adherence"]))
    base = evaluate(record, LEXICON, TREATMENTS)
    variant = copy.deepcopy(record)
    variant["trials"][index][field] = None
    navigate(variant, KNOWLEDGE)
    result = evaluate(variant, LEXICON, TREATMENTS)
    if base.trials[index].adequacy != "adequate":
        assert result.trials[index].adequacy != "adequate"
    assert result.counts["failed_adequate_antidepressants"] <= base.counts["failed_adequate_antidepressants"]
    if "trd_criteria_met" not in base.flags:
        assert "trd_criteria_met" not in result.flags
    for layer_id in ("optimise", "mechanism"):
        assert STATUS_RANK[result.layer(layer_id).status] <= STATUS_RANK[base.layer(layer_id).status]


@SETTINGS
@given(record_strategy)
def test_p4_urgency_rule_and_option_order(record: Dict[str, Any]) -> None:
    result = navigate(record, KNOWLEDGE)
    phq9 = record.get("phq9")
    # section 10: a PHQ-9 of 20+ is urgent; item 9 or suicidal thoughts of unknown kind are a safety check
    expected = isinstance(phq9, list) and sum(phq9) >= 20
    safety = (isinstance(phq9, list) and phq9[8] > 0) or record.get("suicidal_thoughts_now") is True
    assert ("urgent" in result.flags) is expected
    assert ("safety_check" in result.flags) is safety
    order = [option.id for option in result.layer("mechanism").options]
    assert order[:2] == (["ect", "ketamine_esketamine"] if expected else ["tms", "ketamine_esketamine"])


@SETTINGS
@given(st.lists(trial_strategy, min_size=1, max_size=4))
def test_p5_adequate_only_when_every_criterion_is_met(trials: List[Dict[str, Any]]) -> None:
    result = evaluate({"trials": trials}, LEXICON, TREATMENTS)
    for assessed, raw in zip(result.trials, trials, strict=True):
        if assessed.adequacy == "adequate":
            entry = LEXICON.lookup(raw["drug"])
            assert entry is not None and entry.min_dose_mg is not None
            assert raw["max_dose_mg"] >= entry.min_dose_mg
            assert raw["weeks_at_dose"] >= assessed.weeks_required
            assert raw["adherence"] == "most_days"
        if assessed.failed_adequate:
            assert assessed.adequacy == "adequate"
            assert raw["outcome"] in ("no_response", "partial_response", "response_then_relapse")
