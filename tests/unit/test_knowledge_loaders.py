"""The knowledge loaders (trd/knowledge): strict YAML, a schema with clear errors, typed and cached."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trd.knowledge import KnowledgeError
from trd.knowledge._base import read_yaml
from trd.knowledge.crisis_resources import CRISIS_RESOURCES_FILE, MessageTemplate, load_crisis_resources
from trd.knowledge.intake_questions import read_intake_questions
from trd.knowledge.risk_lexicon import read_risk_lexicon
from trd.knowledge.treatment_info import PHRASINGS_FILE, TREATMENT_INFO_FILE, read_treatment_file
from trd.knowledge.wording import load_wording
from trd.paths import DATA_DIR, KNOWLEDGE_DIR, REPO_ROOT
from trd.summary.resources import ResourcesError, load_resources


def test_the_paths_are_the_repository_s() -> None:
    assert (REPO_ROOT / "domain.yml").is_file()
    assert DATA_DIR == REPO_ROOT / "data" and KNOWLEDGE_DIR == DATA_DIR / "knowledge"


def test_every_project_file_loads() -> None:
    crisis = load_crisis_resources()
    assert crisis.resources["lifeline_number"] == "988"
    assert isinstance(crisis.messages["utter_crisis"], MessageTemplate)
    assert crisis.web_page is not None
    assert read_risk_lexicon()["risk"]
    assert read_intake_questions()["parts"]
    assert load_wording()["prescriptive_phrases"]
    assert read_treatment_file(TREATMENT_INFO_FILE) and read_treatment_file(PHRASINGS_FILE)


def test_a_loader_reads_its_file_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "crisis_resources.yml"
    path.write_text(CRISIS_RESOURCES_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_crisis_resources(path)
    assert load_crisis_resources(path) is first
    path.write_text(path.read_text(encoding="utf-8").replace('"988"', '"5550100"'), encoding="utf-8")
    assert load_crisis_resources(path).resources["lifeline_number"] == "5550100"


def test_the_document_is_a_copy_the_caller_may_change() -> None:
    doc = load_crisis_resources().document()
    doc["resources"]["lifeline_number"] = "0"
    assert load_crisis_resources().document()["resources"]["lifeline_number"] == "988"


def test_a_name_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text("resources:\n  a: '1'\n  a: '2'\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="'a' is given twice"):
        read_yaml(path)


def test_a_snippet_named_like_a_resource_is_refused_by_every_reader(tmp_path: Path) -> None:
    # the generator refused it; the summaries used to let the snippet overwrite the resource
    data = yaml.safe_load(CRISIS_RESOURCES_FILE.read_text(encoding="utf-8"))
    data["snippets"]["lifeline_number"] = "call {emergency_number}"
    path = tmp_path / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="snippets.lifeline_number: name already used by a resource"):
        load_crisis_resources(path)
    with pytest.raises(ResourcesError, match="name already used"):
        load_resources(path)


def test_a_schema_error_names_the_file_and_the_place(tmp_path: Path) -> None:
    data = yaml.safe_load(CRISIS_RESOURCES_FILE.read_text(encoding="utf-8"))
    data["resources"]["lifeline_number"] = True
    path = tmp_path / "crisis_resources.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"crisis_resources\.yml: resources\.lifeline_number: "):
        load_crisis_resources(path)


def test_a_wording_file_without_a_section_is_refused(tmp_path: Path) -> None:
    from trd.knowledge.wording import WORDING_FILE

    data = yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))
    del data["pages"]
    path = tmp_path / "wording.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="'pages' is a required property"):
        load_wording(path)


def test_an_unknown_risk_category_in_the_lexicon_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "risk_lexicon.yml"
    path.write_text("risk:\n  sadness:\n    rules: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="sadness"):
        read_risk_lexicon(path)
