"""The drug recogniser: spaCy pipeline built from the lexicon, and the Rasa normaliser.

The pipeline is built from data/knowledge/drugs.yml into a temporary folder
(the same code path as scripts/build_nlu.sh) and measured on
tests/nlu/drug_mentions.yml, a hand-written set with unseen misspellings and
look-alike words.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

import bot.nlu.drug_pipeline as drug_pipeline
from scripts.eval_drugs import DEFAULT_CASES, evaluate, load_cases
from trd.navigator.lexicon import KnowledgeError
from trd.navigator.loader import load_lexicon

ROOT = Path(__file__).resolve().parents[2]
DICTIONARY = Path("/usr/share/dict/words")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return drug_pipeline.build(tmp_path_factory.mktemp("nlu") / "spacy_drugs")


@pytest.fixture(scope="module")
def nlp(built: Path) -> Any:
    return drug_pipeline.load(built)


def drugs(nlp: Any, text: str) -> List[str]:
    return [generic for _, generic in drug_pipeline.drug_mentions(nlp, text)]


# ------------------------------------------------------------------ the test set
@pytest.mark.slow
def test_test_set_is_large_and_not_copied_from_the_lexicon() -> None:
    cases = load_cases(DEFAULT_CASES)
    assert len(cases) >= 150
    entries = load_lexicon().entries
    generics = {e.generic for e in entries}
    names = {n for e in entries for n in drug_pipeline.entry_names(e)}
    assert all(d in generics for c in cases for d in c.drugs), "expected values must be lexicon generics"
    misspelt = [c for c in cases if c.kind == "misspelling"]
    unseen = [c for c in misspelt if not any(w in names for w in re.findall(r"[a-z]+", c.text.lower()))]
    assert len(unseen) >= 30, "most misspellings must be ones the lexicon does not list"
    assert sum(1 for c in cases if not c.drugs) >= 40
    assert sum(1 for c in cases if len(c.drugs) >= 2) >= 20


@pytest.mark.slow
def test_recall_and_precision_on_the_test_set(nlp: Any) -> None:
    report = evaluate(load_cases(DEFAULT_CASES), lambda text: drugs(nlp, text))
    detail = "\n".join(report.misses + report.false_alarms)
    assert report.total.recall >= 0.95, detail
    assert report.total.precision >= 0.98, detail
    assert report.by_kind["none"].fp == 0, detail


# ------------------------------------------------------------ what it finds
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I took Zoloft then lexapro XR, and abilify was added", [("Zoloft", "sertraline"),
                                                                  ("lexapro XR", "escitalopram"),
                                                                  ("abilify", "aripiprazole")]),
        ("wellbutrin xl 300mg", [("wellbutrin xl", "bupropion")]),
        ("Effexor-XR", [("Effexor-XR", "venlafaxine")]),
        ("desvenlafaxine er", [("desvenlafaxine er", "desvenlafaxine")]),
        ("lithium carbonate 600", [("lithium carbonate", "lithium")]),
        ("olanzapine/fluoxetine", [("olanzapine/fluoxetine", "olanzapine-fluoxetine")]),
        ("olanzapine fluoxetine", [("olanzapine fluoxetine", "olanzapine-fluoxetine")]),
        ("Auvelity", [("Auvelity", "dextromethorphan-bupropion")]),
        ("venlafaxine extended release", [("venlafaxine extended release", "venlafaxine")]),
        ("zoloft+abilify", [("zoloft", "sertraline"), ("abilify", "aripiprazole")]),
        ("sertraline100mg", [("sertraline", "sertraline")]),
        ("zolaft and welbutrn", [("zolaft", "sertraline"), ("welbutrn", "bupropion")]),
        ("symbolta", [("symbolta", "duloxetine")]),  # sound-alike: c/s
        ("fenelzine", [("fenelzine", "phenelzine")]),  # listed misspelling
        ("phenylzine", [("phenylzine", "phenelzine")]),  # unseen, ph/f and y/i
        ("escitolopram", [("escitolopram", "escitalopram")]),  # raw spelling breaks the tie with citalopram
        ("well butrin", [("well butrin", "bupropion")]),
    ],
)
def test_finds_drugs_with_their_generic_name(nlp: Any, text: str, expected: List[Any]) -> None:
    assert drug_pipeline.drug_mentions(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I went to a concert",  # ~ Concerta
        "my desire to get up",  # ~ Desyrel
        "the panel was kind",  # ~ paxel
        "it ended badly",  # ~ Endep
        "my medicines",  # ~ Medikinet
        "I take amlodipine",  # another medicine, ~ amoxipine
        "armodafinil once",  # another medicine, ~ modafinil
        "it lasted for five weeks",  # "for five" ~ Forfivo
        "Alexa, play music",
        "I am able to",
        "prozone layer",
        "zolo",  # too short for fuzzy matching
    ],
)
def test_ordinary_words_are_not_drugs(nlp: Any, text: str) -> None:
    assert drug_pipeline.drug_mentions(nlp, text) == []


def test_two_equally_close_medicines_are_not_guessed() -> None:
    index = drug_pipeline.FuzzyIndex({"alphazine": "a", "alphazone": "b"}, [])
    assert index.lookup("alphazane") is None
    assert index.lookup("alphazin") == drug_pipeline.FuzzyHit("a", "alphazine", 1)


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    assert drug_pipeline.osa_distance("abilify", "abilfiy", 2) == 1
    assert drug_pipeline.osa_distance("sertraline", "sertraline", 2) == 0
    assert drug_pipeline.osa_distance("sertraline", "zoloft", 2) == 3  # capped at limit + 1


@pytest.mark.slow  # compares every dictionary word with every drug name (~20 s)
def test_stoplist_covers_every_dictionary_word_near_a_drug_name() -> None:
    if not DICTIONARY.exists():
        pytest.skip("needs /usr/share/dict/words (Debian package wamerican)")
    current = drug_pipeline.load_stoplist()
    missing = drug_pipeline._stoplist_candidates(DICTIONARY, drug_pipeline.DEFAULT_LEXICON, current)
    assert missing == [], "add these to bot/nlu/drug_stoplist.txt (python -m bot.nlu.drug_pipeline " \
                          "stoplist-candidates): " + ", ".join(missing)


# ---------------------------------------------------------------- the build
@pytest.mark.slow  # a second full build
def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    again = drug_pipeline.build(tmp_path / "again")

    def files(root: Path) -> Dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert files(again) == files(built)


@pytest.mark.slow  # a third full build
def test_build_replaces_an_old_pipeline_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    out = tmp_path / "spacy_drugs"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    drug_pipeline.build(out)
    assert not (out / "stale.txt").exists()
    assert (out / "config.cfg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spacy_drugs"]


@pytest.mark.slow  # a fresh interpreter imports spaCy
def test_loading_needs_only_the_normaliser_module_imported(built: Path) -> None:
    """What Rasa does: import the component classes, then SpacyNLP calls spacy.load(path)."""
    code = (
        "import sys, spacy\n"
        "try:\n"
        f"    spacy.load({str(built)!r})\n"
        "    sys.exit('loaded without the factory?')\n"
        "except ValueError as exc:\n"
        "    assert 'drug_fuzzy_matcher' in str(exc), exc\n"
        "import bot.nlu.drug_normaliser\n"
        f"nlp = spacy.load({str(built)!r})\n"
        "print([e.ent_id_ for e in nlp('zolaft').ents])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['sertraline']"


# --------------------------------------------------------------- the lexicon
def test_build_refuses_a_lexicon_where_one_name_means_two_drugs(tmp_path: Path) -> None:
    """The navigator's loader checks drugs.yml; the build stops with its message, before writing."""
    entry = {"class": "ssri", "mechanism": "monoamine", "role": "antidepressant", "min_dose_mg": 10,
             "min_dose_source": "test"}
    lexicon = tmp_path / "drugs.yml"
    lexicon.write_text(yaml.safe_dump({"drugs": [{"generic": "alpha", "brands": ["Same"], **entry},
                                                 {"generic": "beta", "misspellings": ["same"], **entry}]}))
    out = tmp_path / "out"
    with pytest.raises(KnowledgeError, match="also names"):
        drug_pipeline.build(out, lexicon=lexicon)
    assert not out.exists()


@pytest.mark.slow
def test_every_name_of_the_lexicon_is_recognised(nlp: Any) -> None:
    for entry in load_lexicon().entries:
        for name in drug_pipeline.entry_names(entry):
            assert drugs(nlp, name) == [entry.generic], name
            assert drugs(nlp, f"I took {name.upper()} for a while") == [entry.generic], name


# --------------------------------------------------------- the Rasa component
@pytest.fixture(scope="module")
def rasa_parts(built: Path) -> Any:
    from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from bot.nlu.drug_normaliser import DrugNormaliser

    model = SpacyNLP.load_model(str(built))
    spacy_nlp = SpacyNLP(model, {**SpacyNLP.get_default_config(), "model": str(built)})
    extractor = SpacyEntityExtractor({"dimensions": ["drug"]})
    return spacy_nlp, extractor, DrugNormaliser(DrugNormaliser.get_default_config()), model


def run_components(rasa_parts: Any, text: str, before: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    from rasa.shared.nlu.training_data.message import Message

    spacy_nlp, extractor, normaliser, model = rasa_parts
    message = Message(data={"text": text, "entities": list(before)})
    spacy_nlp.process([message], model)
    extractor.process([message], model)
    normaliser.process([message], model)
    return message.get("entities")


@pytest.mark.slow
def test_normaliser_sets_generic_values_and_drops_other_drug_guesses(rasa_parts: Any) -> None:
    text = "I took Zoloft then lexapro XR, and welbutrin"
    diet_guess = {"entity": "drug", "value": "Zoloft", "start": 7, "end": 13, "extractor": "DIETClassifier"}
    other = {"entity": "risk_category", "value": "none", "start": 0, "end": 1, "extractor": "SafetyGuard"}
    ents = run_components(rasa_parts, text, [diet_guess, other])
    assert other in ents
    drug_ents = [e for e in ents if e["entity"] == "drug"]
    assert [(e["value"], text[e["start"]: e["end"]]) for e in drug_ents] == [
        ("sertraline", "Zoloft"), ("escitalopram", "lexapro XR"), ("bupropion", "welbutrin")]
    assert all(e["extractor"] == "SpacyEntityExtractor" for e in drug_ents)
    assert all(e["processors"] == ["DrugNormaliser"] for e in drug_ents)


def test_normaliser_falls_back_when_lower_casing_shifts_offsets(rasa_parts: Any) -> None:
    # "İ".lower() is two characters, so SpacyNLP's lower-cased doc and the text disagree on offsets.
    text = "İİ took Zoloft"
    ents = run_components(rasa_parts, text, [])
    assert [(e["value"], text[e["start"]: e["end"]]) for e in ents] == [("sertraline", "Zoloft")]


def test_normaliser_leaves_messages_without_drugs_alone(rasa_parts: Any) -> None:
    assert run_components(rasa_parts, "hello there", []) == []


def test_config_runs_the_normaliser_after_the_extractors_and_the_guard_last() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [c["name"] for c in config["pipeline"]]
    spacy_nlp = next(c for c in config["pipeline"] if c["name"] == "SpacyNLP")
    assert spacy_nlp["model"] == "build/nlu/spacy_drugs"
    assert names.index("SpacyNLP") < names.index("SpacyTokenizer") < names.index("DIETClassifier")
    assert names.index("EntitySynonymMapper") < names.index("SpacyEntityExtractor")
    assert names.index("SpacyEntityExtractor") < names.index("bot.nlu.drug_normaliser.DrugNormaliser")
    assert names[-1] == "bot.nlu.safety_guard.SafetyGuard"
