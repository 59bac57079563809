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
