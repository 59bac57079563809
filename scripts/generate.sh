#!/usr/bin/env bash
# `make generate`: run every generator of checked-in files, in order.
# `scripts/generate.sh --check` (used by `make check`): only check; exit 1 if any output is stale.
#
# domain.yml is shared: each generator replaces only its own marked regions of it
# (scripts/domain_region.py). The intake generator runs first, because the
# treatment-info generator writes one rule per form declared in domain.yml.
# (scripts/build_nlu.sh is not here: it builds a git-ignored artefact under build/,
# which `make setup` and `make train` bring up to date.)
source "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || die ".venv is missing: run \`make setup\` first (it creates .venv and installs the locked dependencies)"

check=()
if [ "${1:-}" = "--check" ]; then check=(--check); fi
status=0
# Generating stops at the first failure; checking runs every check and then fails.
run() { if [ ${#check[@]} -eq 0 ]; then "$@"; else "$@" "${check[@]}" || status=1; fi; }

log "intake wording: data/knowledge/intake_questions.yml -> domain.yml"
run "$PY" -m actions.intake.domain_gen
log "crisis responses: data/knowledge/crisis_resources.yml -> domain.yml"
run "$PY" scripts/gen_crisis_responses.py
log "treatment information: data/knowledge/treatment_info*.yml -> domain.yml, NLU data, rules"
run "$PY" scripts/gen_treatment_info.py
log "risk detector: data/safety/risk_training + data/nlu -> data/safety/risk_detector.{json,npz}"
run "$PY" scripts/build_risk_detector.py
exit "$status"
