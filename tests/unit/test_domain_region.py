"""Generated regions of domain.yml: found between their markers, replaced in place, refused when broken."""

from __future__ import annotations

import pytest

from scripts import gen_crisis_responses, gen_treatment_info

DOMAIN = """responses:
  utter_greet:
  - text: Hello.
  # BEGIN generated crisis responses
  old: stuff
  # END generated crisis responses
  utter_bye:
  - text: Bye.
"""


def test_the_region_is_replaced_with_its_indentation_and_the_rest_is_kept() -> None:
    region = gen_crisis_responses.REGION
    assert region.current(DOMAIN) == "  old: stuff\n"
    new = region.replace(DOMAIN, lambda indent: f"{indent}new: stuff\n")
    assert region.current(new) == "  new: stuff\n"
    assert new.replace("new: stuff", "old: stuff") == DOMAIN


@pytest.mark.parametrize(
    "broken",
    [
        DOMAIN.replace("  # END generated crisis responses\n", ""),
        DOMAIN + "  # BEGIN generated crisis responses\n",
        DOMAIN.replace("BEGIN", "TMP").replace("END", "BEGIN").replace("TMP", "END"),
    ],
)
def test_missing_or_misplaced_markers_are_a_clear_error(broken: str) -> None:
    with pytest.raises(gen_crisis_responses.CrisisDataError, match="needs exactly one"):
        gen_crisis_responses.REGION.current(broken)


def test_each_generator_has_its_own_markers_and_error() -> None:
    with pytest.raises(gen_treatment_info.TreatmentInfoError, match="generated treatment info"):
        gen_treatment_info.REGION.current(DOMAIN)


# --- the intake generator uses the same regions --------------------------------------------------

INTAKE_DOMAIN = """intents:
- greet
  # BEGIN generated intake intents
  - old_intent
  # END generated intake intents
slots: {}
"""


def test_the_intake_generator_uses_the_shared_region() -> None:
    from actions.intake import domain_gen
    from scripts.domain_region import DomainRegion

    assert set(domain_gen.REGIONS) == set(domain_gen.BLOCKS)
    assert all(isinstance(r, DomainRegion) for r in domain_gen.REGIONS.values())
    intents = domain_gen.REGIONS["intents"]
    assert intents.current(INTAKE_DOMAIN) == "  - old_intent\n"
    new = intents.replace(INTAKE_DOMAIN, lambda indent: f"{indent}- new_intent\n")
    assert new == INTAKE_DOMAIN.replace("old_intent", "new_intent")


@pytest.mark.slow
@pytest.mark.parametrize(
    "broken",
    [
        lambda text: text.replace("  # END generated intake forms\n", "", 1),
        lambda text: text.replace("  # BEGIN generated intake slots\n", "", 1),
        lambda text: text + "  # BEGIN generated intake actions\n",
        lambda text: text.replace("# BEGIN generated intake intents", "# TMP", 1)
        .replace("# END generated intake intents", "# BEGIN generated intake intents", 1)
        .replace("# TMP", "# END generated intake intents", 1),
    ],
)
def test_broken_intake_markers_are_a_clear_error_and_nothing_is_written(broken, tmp_path, capsys) -> None:
    from actions.intake import domain_gen

    real = domain_gen.DOMAIN_PATH.read_text(encoding="utf-8")
    text = broken(real)
    assert text != real
    with pytest.raises(domain_gen.IntakeDomainError, match="needs exactly one '# BEGIN generated intake"):
        domain_gen.update_domain(text, domain_gen.render_blocks(domain_gen.default_questions()))
    path = tmp_path / "domain.yml"
    path.write_text(text, encoding="utf-8")
    assert domain_gen.main(["--domain", str(path)]) == 2
    assert "needs exactly one" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.slow
def test_every_generator_leaves_todays_domain_byte_identical(tmp_path) -> None:
    from actions.intake import domain_gen

    domain = domain_gen.DOMAIN_PATH
    original = domain.read_text(encoding="utf-8")
    copy = tmp_path / "domain.yml"
    copy.write_text(original, encoding="utf-8")
    assert domain_gen.main(["--domain", str(copy)]) == 0
    assert gen_crisis_responses.main(["--domain", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == original
    current, wanted = gen_crisis_responses.expected_domain(copy)
    assert current == wanted == original
    outputs = gen_treatment_info.expected_outputs(domain_path=copy)
    assert [o.path for o in outputs if o.stale] == []
