#!/usr/bin/env bash
# `make check`: lint, types, and Rasa's data validation.
source "$(dirname "$0")/lib.sh"
scripts/setup.sh >/dev/null
log "ruff"
"$VENV/bin/ruff" check .
log "mypy"
"$VENV/bin/mypy"
log "crisis responses in domain.yml match data/knowledge/crisis_resources.yml"
"$PY" scripts/gen_crisis_responses.py --check
log "generated intake wording and treatment information are up to date"
"$PY" -m actions.intake.domain_gen --check
"$PY" scripts/gen_treatment_info.py --check
log "rasa data validate"
"$VENV/bin/rasa" data validate --fail-on-warnings --config config.yml --domain domain.yml --data data/nlu data/rules data/stories
