#!/usr/bin/env bash
# `make check`: lint, types, and Rasa's data validation.
source "$(dirname "$0")/lib.sh"
scripts/setup.sh >/dev/null
log "ruff"
"$VENV/bin/ruff" check .
log "mypy"
"$VENV/bin/mypy"
log "rasa data validate"
"$VENV/bin/rasa" data validate --fail-on-warnings --config config.yml --domain domain.yml --data data
