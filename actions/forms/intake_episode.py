"""Part 1, continued: how long this episode has lasted, and previous episodes."""

from __future__ import annotations

from actions.forms.intake_base import IntakeFormValidation

FORM_NAME = "episode_form"


class ValidateEpisodeForm(IntakeFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"
