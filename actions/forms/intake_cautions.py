"""Part 5: cautions that change which options are safe (navigator.md section 1)."""

from __future__ import annotations

from actions.forms.intake_base import IntakeFormValidation

FORM_NAME = "cautions_form"


class ValidateCautionsForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"
