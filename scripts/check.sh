#!/usr/bin/env bash
# `make check`: only checks, changes nothing (no install, no secrets, no database):
# ruff, mypy, import-linter's contracts, the generators' --check, Rasa's data validation.
# Needs .venv (`make setup` creates it). Fails when any check fails, after running them all.
source "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || die ".venv is missing: run \`make setup\` first (it creates .venv and installs the locked dependencies)"

failed=()
step() {
  local name="$1"; shift
  log "$name"
  "$@" || failed+=("$name")
}
step "ruff" "$VENV/bin/ruff" check .
step "mypy" "$VENV/bin/mypy"
step "lint-imports" "$VENV/bin/lint-imports"
step "lock files are hash-pinned" "$PY" scripts/hash_locks.py --check requirements/*.lock
step "generated files are up to date" scripts/generate.sh --check
step "rasa data validate" "$VENV/bin/rasa" data validate --fail-on-warnings \
  --config config.yml --domain domain.yml --data data/nlu data/rules data/stories
if [ ${#failed[@]} -gt 0 ]; then
  die "make check failed: ${failed[*]}"
fi
log "make check passed"
