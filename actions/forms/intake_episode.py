"""Part 1, continued: this episode. How long it has lasted, previous episodes, whether it
keeps the person from work, study or looking after themselves, psychotic features now (one
plain question naming both kinds, then which, only after a "yes") and signs of catatonia
(navigator.md section 10: psychotic features, catatonia and impaired function are urgency).
"""

from __future__ import annotations

from typing import Any, List, Mapping

from actions.forms.intake_base import IntakeFormValidation

FORM_NAME = "episode_form"
BEFORE_PSYCHOSIS = ["episode_months", "previous_episodes", "function_impaired", "psychosis_any"]


class ValidateEpisodeForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    def required_for(self, slots: Mapping[str, Any]) -> List[str]:
        required = list(BEFORE_PSYCHOSIS)
        if slots.get("psychosis_any") is True:
            required.append("psychosis_kind")
        return required + ["catatonia"]
