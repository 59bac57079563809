"""Integrity of the knowledge files: the drug lexicon, the treatments file and the intake schema copy."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from trd.navigator import Knowledge, KnowledgeError, build_lexicon, build_treatments, normalise_name
from trd.navigator.lexicon import CLASS_VOCABULARY, MECHANISM_VOCABULARY, ROLE_VOCABULARY
from trd.navigator.loader import DRUGS_PATH, SCHEMA_PATH, TREATMENTS_PATH

REPO = Path(__file__).resolve().parents[3]
RAW_DRUGS: Dict[str, Any] = yaml.safe_load(DRUGS_PATH.read_text(encoding="utf-8"))
RAW_TREATMENTS: Dict[str, Any] = yaml.safe_load(TREATMENTS_PATH.read_text(encoding="utf-8"))

# Every antidepressant class and augmenting agent the brief asks for.
REQUIRED_DRUGS = {
    "ssri": {"citalopram", "escitalopram", "fluoxetine", "fluvoxamine", "paroxetine", "sertraline"},
    "snri": {"venlafaxine", "desvenlafaxine", "duloxetine", "levomilnacipran"},
    "ndri": {"bupropion"},
    "nassa": {"mirtazapine"},
    "serotonin_modulator": {"trazodone", "vilazodone", "vortioxetine", "nefazodone"},
    "tca": {"amitriptyline", "nortriptyline", "imipramine", "desipramine", "clomipramine", "doxepin"},
    "maoi": {"phenelzine", "tranylcypromine", "isocarboxazid", "selegiline"},
    "mood_stabilizer": {"lithium", "lamotrigine"},
    "thyroid": {"liothyronine", "levothyroxine"},
    "atypical_antipsychotic": {
        "aripiprazole",
        "brexpiprazole",
        "cariprazine",
        "quetiapine",
        "olanzapine",
        "olanzapine-fluoxetine",
        "lurasidone",
        "risperidone",
    },
    "glutamatergic": {"ketamine", "esketamine", "dextromethorphan-bupropion"},
    "neurosteroid": {"zuranolone", "brexanolone"},
    "stimulant": {"modafinil"},
    "dopamine_agonist": {"pramipexole"},
    "azapirone": {"buspirone", "gepirone"},
}


def test_at_least_sixty_drugs(knowledge: Knowledge) -> None:
    assert len(knowledge.lexicon) >= 60
    assert len(RAW_DRUGS["drugs"]) == len(knowledge.lexicon)


@pytest.mark.parametrize(("drug_class", "generics"), sorted(REQUIRED_DRUGS.items()))
def test_required_drugs_present_with_their_class(
    knowledge: Knowledge, drug_class: str, generics: set
) -> None:
    for generic in generics:
        assert knowledge.lexicon.get(generic).drug_class == drug_class


def test_fields_come_from_fixed_vocabularies() -> None:
    for raw in RAW_DRUGS["drugs"]:
        assert raw["class"] in CLASS_VOCABULARY, raw["generic"]
        assert raw["mechanism"] in MECHANISM_VOCABULARY, raw["generic"]
        assert raw["role"] in ROLE_VOCABULARY, raw["generic"]
        assert raw["generic"] == raw["generic"].lower().strip()
        assert set(raw) <= {
            "generic",
            "brands",
            "aliases",
            "misspellings",
            "class",
            "mechanism",
            "role",
            "min_dose_mg",
            "min_dose_source",
            "adequate_weeks",
            "adequate_weeks_source",
            "max_plausible_mg",
            "sleep_pain_dose",
            "interaction_classes",
            "note",
        }, raw["generic"]


def test_mechanisms_match_navigator_md(knowledge: Knowledge) -> None:
    for entry in knowledge.lexicon.entries:
        if entry.drug_class in {"ssri", "snri", "ndri", "nassa", "serotonin_modulator", "tca", "maoi"}:
            assert entry.mechanism == "monoamine", entry.generic
    for generic in ("ketamine", "esketamine", "dextromethorphan-bupropion"):
        assert knowledge.lexicon.get(generic).mechanism == "glutamate"


def test_every_drug_has_a_sourced_minimum_dose_or_an_explicit_note() -> None:
    for raw in RAW_DRUGS["drugs"]:
        name = raw["generic"]
        assert "min_dose_mg" in raw and "min_dose_source" in raw, name
        if raw["min_dose_mg"] is None:
            assert raw["min_dose_source"] is None, name
            assert isinstance(raw.get("note"), str) and len(raw["note"]) > 40, name
        else:
            assert isinstance(raw["min_dose_mg"], (int, float)) and raw["min_dose_mg"] > 0, name
            source = raw["min_dose_source"]
            assert re.search(r"FDA label|APA practice guideline|CANMAT|BNF|SmPC|NCI PDQ|et al\.", source), (
                name
            )
            figure = f"{raw['min_dose_mg']:g}"
            assert figure in source or name == "liothyronine", (name, figure, source)


def test_antidepressants_adequacy_can_be_judged_or_is_explained(knowledge: Knowledge) -> None:
    antidepressants = [e for e in knowledge.lexicon.entries if e.role == "antidepressant"]
    assert len(antidepressants) >= 40
    no_dose = {e.generic for e in antidepressants if e.min_dose_mg is None}
    assert no_dose == {"ketamine", "esketamine", "dextromethorphan-bupropion", "brexanolone", "psilocybin"}


def test_no_name_is_shared_between_drugs() -> None:
    owners: Dict[str, set] = {}
    for raw in RAW_DRUGS["drugs"]:
        names = [
            raw["generic"],
            *raw.get("brands", []),
            *raw.get("aliases", []),
            *raw.get("misspellings", []),
        ]
        for name in names:
            owners.setdefault(normalise_name(name), set()).add(raw["generic"])
    shared = {name: drugs for name, drugs in owners.items() if len(drugs) > 1}
    assert shared == {}


def test_no_duplicate_brands_or_generics() -> None:
    generics = Counter(raw["generic"] for raw in RAW_DRUGS["drugs"])
    assert [g for g, n in generics.items() if n > 1] == []
    brands = Counter(b.casefold() for raw in RAW_DRUGS["drugs"] for b in raw.get("brands", []))
    assert [b for b, n in brands.items() if n > 1] == []


def test_misspellings_are_not_real_names(knowledge: Knowledge) -> None:
    real = {normalise_name(n) for e in knowledge.lexicon.entries for n in (e.generic, *e.brands, *e.aliases)}
    for entry in knowledge.lexicon.entries:
        for misspelling in entry.misspellings:
            key = normalise_name(misspelling)
            assert key not in real or knowledge.lexicon.lookup(misspelling) is entry, misspelling
            assert key != normalise_name(entry.generic), misspelling


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("Zoloft", "sertraline"),
        ("  SERTRALINE  ", "sertraline"),
        ("sertraline 50mg", "sertraline"),
        ("Wellbutrin XL", "bupropion"),
        ("buproprion", "bupropion"),
        ("Effexor XR", "venlafaxine"),
        ("olanzapine/fluoxetine", "olanzapine-fluoxetine"),
        ("Olanzapine and Fluoxetine", "olanzapine-fluoxetine"),
        ("dextromethorphan + bupropion", "dextromethorphan-bupropion"),
        ("Spravato", "esketamine"),
        ("Ketanest S", "esketamine"),
        ("Ketalar", "ketamine"),
        ("t3", "liothyronine"),
        ("lithium carbonate", "lithium"),
        ("Emsam patch", "selegiline"),
        ("trazadone", "trazodone"),
        ("Seroquel XR", "quetiapine"),
        ("Rexulti", "brexpiprazole"),
    ],
)
def test_lookup_by_any_name(knowledge: Knowledge, name: str, generic: str) -> None:
    entry = knowledge.lexicon.lookup(name)
    assert entry is not None and entry.generic == generic


@pytest.mark.parametrize("name", ["", "   ", "aspirin", "sertra", "olanzapine fluoxetine sertraline"])
def test_lookup_unknown_names(knowledge: Knowledge, name: str) -> None:
    assert knowledge.lexicon.lookup(name) is None


def test_surface_forms_for_the_nlu(knowledge: Knowledge) -> None:
    forms = knowledge.lexicon.surface_forms()
    assert forms["zoloft"] == "sertraline"
    assert forms["lexipro"] == "escitalopram"
    assert len(forms) > 4 * len(knowledge.lexicon)


def test_lexicon_builder_refuses_collisions_and_missing_sources() -> None:
    base = {
        "class": "ssri",
        "mechanism": "monoamine",
        "role": "antidepressant",
        "min_dose_mg": 10,
        "min_dose_source": "FDA label: 10 mg",
        "interaction_classes": [],
    }
    with pytest.raises(KnowledgeError, match="sleep_pain_dose.max_mg must be below"):
        build_lexicon(
            {
                "drugs": [
                    {
                        "generic": "a",
                        **base,
                        "sleep_pain_dose": {"uses": ["sleep"], "max_mg": 10, "source": "x"},
                    }
                ]
            }
        )
    with pytest.raises(KnowledgeError, match="also names"):
        build_lexicon(
            {
                "drugs": [
                    {"generic": "a", **base, "brands": ["Same"]},
                    {"generic": "b", **base, "misspellings": ["same"]},
                ]
            }
        )
    with pytest.raises(KnowledgeError, match="min_dose_source"):
        build_lexicon({"drugs": [{"generic": "a", **base, "min_dose_source": None}]})
    with pytest.raises(KnowledgeError, match="note must say why"):
        build_lexicon({"drugs": [{"generic": "a", **base, "min_dose_mg": None, "min_dose_source": None}]})
    with pytest.raises(KnowledgeError, match="class"):
        build_lexicon({"drugs": [{"generic": "a", **base, "class": "snake_oil"}]})


def test_treatments_file_has_every_layer_option_and_source() -> None:
    treatments = build_treatments(RAW_TREATMENTS)
    assert list(treatments.layers) == ["reframe", "optimise", "mechanism", "psychotherapy", "emerging"]
    for layer in treatments.layers.values():
        for option in layer.options:
            assert option.text.startswith("Ask"), option.id
            assert option.sources and all(s in treatments.sources for s in option.sources)
    tms = treatments.option("tms")
    assert tms.figures == {"response": "50-60%", "remission": "30-40%", "sessions": "about 20-36 sessions"}
    ketamine = treatments.option("ketamine_esketamine")
    assert ketamine.figures["response"] == "50-70%" and ketamine.figures["remission"] == "30-40%"
    assert all(o.limited_access for o in treatments.layers["emerging"].options)


def test_treatments_builder_refuses_unknown_source_ids() -> None:
    broken = json.loads(json.dumps(RAW_TREATMENTS))
    broken["layers"][0]["options"][0]["sources"] = ["seed_999"]
    with pytest.raises(KnowledgeError, match="seed_999"):
        build_treatments(broken)


def test_no_crisis_numbers_outside_crisis_resources() -> None:
    """crisis_resources.yml is the one place for crisis numbers (safety.md); the summaries add them."""
    crisis = REPO / "data" / "knowledge" / "crisis_resources.yml"
    if not crisis.exists():
        pytest.skip("crisis_resources.yml is not in this checkout")
    resources = yaml.safe_load(crisis.read_text(encoding="utf-8"))["resources"]
    numbers = sorted({str(v) for v in resources.values() if str(v).isdigit() and len(str(v)) >= 3})
    assert numbers, "no crisis numbers found in crisis_resources.yml"
    for path in (DRUGS_PATH, TREATMENTS_PATH, *sorted((REPO / "trd" / "navigator").glob("*.py"))):
        text = path.read_text(encoding="utf-8")
        for number in numbers:
            assert not re.search(rf"(?<!\d){number}(?!\d)", text), (path.name, number)


def _extends(design: Any, copy: Any, where: str = "schema") -> None:
    """`copy` keeps every part of `design` unchanged; it may add properties and reword descriptions."""
    if isinstance(design, dict):
        assert isinstance(copy, dict), where
        for key, value in design.items():
            assert key in copy, f"{where}.{key} is missing from the project's schema"
            if key == "description":
                continue
            if key == "properties":
                for name, sub in value.items():
                    assert name in copy[key], f"{where}.properties.{name} is missing"
                    _extends(sub, copy[key][name], f"{where}.{name}")
            else:
                _extends(value, copy[key], f"{where}.{key}")
    else:
        assert copy == design, f"{where}: {copy!r} differs from the design's {design!r}"


def test_schema_copy_extends_the_design() -> None:
    """The design's schema says the project "may add fields, but keeps these names and meanings": every
    field of shared/design/intake.schema.json is in the project's copy with the same definition."""
    copy = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    design = REPO.parent / "shared" / "design" / "intake.schema.json"
    if not design.exists():
        pytest.skip("shared/design is not beside this checkout")
    _extends(json.loads(design.read_text(encoding="utf-8")), copy)


# Section 10's fields (navigator.md), by the names and shapes section 10 and the held-out set use.
V2_FIELDS = {
    "age_years": 71,
    "perinatal": {
        "pregnant": False,
        "postpartum_within_year": True,
        "breastfeeding": None,
        "planning": False,
    },
    "current_medications": [
        {"drug": "tramadol", "dose_mg": 200},
        {"drug": "st john's wort", "dose_mg": None},
    ],
    "psychosis_now": {"perceptions": False, "fixed_beliefs": None},
    "catatonia_signs": False,
    "suicide_history": {
        "thoughts_now": "passive",
        "plan_or_intent": False,
        "past_attempt": None,
        "hospitalised": False,
        "access_to_means": None,
    },
    "substance": {"alcohol_drinks_per_week": 10, "cannabis_use": True, "other_drugs": None},
    "function_impaired": True,
    "follow_up": [{"date": "2025-03-03", "phq9": [1, 1, 1, 1, 0, 0, 0, 0, 0]}],
    "bipolar": {"antidepressant_switch": True, "family_history_suicide": None},
    "trials": [
        {
            "drug": "bupropion",
            "added_to": "sertraline",
            "purpose": "depression",
            "order": 2,
            "relapse_while_taking": None,
            "weeks_since_stopped": 3,
        }
    ],
    "other_treatments": [{"type": "tms", "sessions": 30, "completed": True}],
}


def test_schema_accepts_every_section_10_field(knowledge: Knowledge) -> None:
    knowledge.validator.validate(V2_FIELDS)
    nulls = {key: None for key in V2_FIELDS if key not in ("bipolar", "trials", "other_treatments")}
    knowledge.validator.validate(nulls)  # every new field may be unknown


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"age_years": -1}, "age_years"),
        ({"age_years": 30.5}, "age_years"),
        ({"perinatal": {"pregnant": "yes"}}, "perinatal.pregnant"),
        ({"current_medications": [{"dose_mg": 5}]}, "current_medications[0].drug"),
        ({"trials": [{"drug": "x", "purpose": "mood"}]}, "trials[0].purpose"),
        ({"trials": [{"drug": "x", "order": 0}]}, "trials[0].order"),
        ({"suicide_history": {"thoughts_now": "some"}}, "suicide_history.thoughts_now"),
        ({"other_treatments": [{"type": "ect", "sessions": -2}]}, "other_treatments[0].sessions"),
        ({"follow_up": [{"date": "March", "phq9": [0] * 9}]}, "follow_up[0].date"),
        ({"follow_up": [{"date": "2025-03-03", "phq9": [0] * 8}]}, "follow_up[0].phq9"),
    ],
)
def test_schema_refuses_bad_section_10_values(
    knowledge: Knowledge, record: Dict[str, Any], field: str
) -> None:
    with pytest.raises(Exception) as caught:
        knowledge.validator.validate(record)
    assert getattr(caught.value, "field", None) == field


def test_heldout_records_are_schema_valid(knowledge: Knowledge) -> None:
    cases = yaml.safe_load((Path(__file__).parent / "heldout_v2.yml").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        knowledge.validator.validate(case["record"])


# ------------------------------------------------------------------ issue 11: the knowledge fixes


def test_tca_minimums_follow_the_files_conservative_rule(knowledge: Knowledge) -> None:
    """About 150 mg imipramine-equivalent (MGH ATRQ), nortriptyline 75 mg or a blood level."""
    lexicon = knowledge.lexicon
    for generic in ("amitriptyline", "imipramine", "desipramine", "clomipramine", "doxepin", "trimipramine"):
        assert lexicon.get(generic).min_dose_mg == 150, generic
        assert "150" in str(lexicon.get(generic).min_dose_source), generic
    nortriptyline = lexicon.get("nortriptyline")
    assert nortriptyline.min_dose_mg == 75 and "blood level" in str(nortriptyline.min_dose_source)


def test_aripiprazole_augmentation_floor_is_above_the_starting_dose(knowledge: Knowledge) -> None:
    entry = knowledge.lexicon.get("aripiprazole")
    assert entry.min_dose_mg == 5 and "Berman" in str(entry.min_dose_source)


@pytest.mark.parametrize(
    ("generic", "max_mg", "uses"),
    [
        ("trazodone", 149, {"sleep"}),
        ("quetiapine", 149, {"sleep"}),
        ("mirtazapine", 7.5, {"sleep"}),
        ("amitriptyline", 50, {"sleep", "pain"}),
        ("doxepin", 50, {"sleep"}),
        ("nortriptyline", 50, {"sleep", "pain"}),
    ],
)
def test_sleep_and_pain_dose_ranges_with_sources(
    knowledge: Knowledge, generic: str, max_mg: float, uses: set
) -> None:
    low = knowledge.lexicon.get(generic).sleep_pain_dose
    assert low is not None and low.max_mg == max_mg and set(low.uses) == uses and low.source


def test_oral_selegiline_is_not_the_antidepressant_patch(knowledge: Knowledge) -> None:
    assert knowledge.lexicon.lookup("Emsam").generic == "selegiline"
    oral = knowledge.lexicon.lookup("Eldepryl")
    assert oral is not None and oral.generic == "oral selegiline" and oral.role == "other"
    assert "maoi" in oral.interaction_classes  # still an MAO inhibitor for interactions


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("Adderall", "stimulant"),
        ("lisdexamfetamine", "stimulant"),
        ("methylphenidate", "stimulant"),
        ("Strattera", "nri"),
        ("dextromethorphan-bupropion", "dextromethorphan"),
        ("tramadol", "tramadol"),
        ("Imitrex", "triptan"),
        ("rizatriptan", "triptan"),
        ("linezolid", "linezolid"),
        ("Advil", "nsaid"),
        ("lisinopril", "ace_inhibitor"),
        ("hydrochlorothiazide", "thiazide"),
        ("St John's wort", "st_johns_wort"),
        ("Xanax", "benzodiazepine"),
        ("dextromethorphan", "dextromethorphan"),
        ("meperidine", "serotonergic_opioid"),
        ("phenelzine", "maoi"),
    ],
)
def test_new_medicines_have_an_interaction_class(knowledge: Knowledge, name: str, group: str) -> None:
    entry = knowledge.lexicon.lookup(name)
    assert entry is not None, name
    assert group in entry.interaction_classes


def test_ziprasidone_and_lurasidone_are_listed(knowledge: Knowledge) -> None:
    assert knowledge.lexicon.get("ziprasidone").drug_class == "atypical_antipsychotic"
    assert knowledge.lexicon.get("lurasidone").drug_class == "atypical_antipsychotic"


def test_every_drug_lists_its_interaction_classes_and_each_is_a_group(knowledge: Knowledge) -> None:
    groups = set(knowledge.interactions.groups)
    for raw in RAW_DRUGS["drugs"]:
        assert "interaction_classes" in raw, raw["generic"]
        assert set(raw["interaction_classes"]) <= groups, raw["generic"]
    for layer in knowledge.treatments.layers.values():
        for option in layer.options:
            assert set(option.interaction_classes) <= groups, option.id


def test_every_interaction_rule_says_why_how_strong_and_its_source(knowledge: Knowledge) -> None:
    table = knowledge.interactions
    assert len(table.pairs) >= 10
    for rule in (*table.pairs, *table.stacks):
        assert rule.why and rule.strength in ("contraindicated", "major", "moderate") and rule.sources, (
            rule.id
        )
    assert table.window("fluoxetine") == 5 and table.window("sertraline") == 2
