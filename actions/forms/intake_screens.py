"""Part 4: re-examination screens (navigator.md section 3).

Bipolar features and attention: the project's own questions (not the MDQ or the ASRS); after
a "yes" to an antidepressant's unusual effect, whether it started an elevated period (a switch,
not ordinary jitteriness), and, gently, a parent or sibling who died by suicide.
Trauma: the PC-PTSD-5 as published (Prins et al. 2016; US VA, public domain): the
exposure question, then the five yes/no items only after a "yes". Medical contributors:
blood tests in the past year (each test only after a "yes"), signs of sleep apnoea (our
own questions, not STOP-Bang), heavy alcohol or drug use, then drinks in a usual week and
cannabis or other drugs now (navigator.md section 10: substance).
"""

from __future__ import annotations

from typing import Any, List, Mapping

from actions.forms.intake_base import IntakeFormValidation

FORM_NAME = "screens_form"
BIPOLAR = ["bp_elevated_periods", "bp_little_sleep", "bp_ad_activation", "bp_family_history"]
FAMILY = ["bp_family_history", "bp_family_suicide"]
PTSD_ITEMS = [f"ptsd_{i}" for i in range(1, 6)]
ADHD = ["adhd_since_childhood", "adhd_trouble_finishing", "adhd_distractible", "adhd_interest_lifts_mood"]
LABS = ["lab_thyroid", "lab_b12", "lab_vitamin_d", "lab_blood_count", "lab_glucose"]
SLEEP_AND_SUBSTANCES = [
    "apnea_snoring",
    "apnea_pauses",
    "apnea_sleepy",
    "heavy_substance",
    "sub_alcohol",
    "sub_drugs",
]


class ValidateScreensForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        required = ["bp_elevated_periods", "bp_little_sleep", "bp_ad_activation"]
        if slots.get("bp_ad_activation") is True:
            required.append("bp_ad_switch")
        required += FAMILY + ["trauma_exposure"]
        if slots.get("trauma_exposure") is True:
            required += PTSD_ITEMS
        required += ADHD + ["labs_any"]
        if slots.get("labs_any") is True:
            required += LABS
        return required + SLEEP_AND_SUBSTANCES
