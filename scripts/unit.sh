#!/usr/bin/env bash
# `make unit`: the fast inner loop. The unit tests that need no server (no PostgreSQL,
# no browser, no Rasa) and are not marked slow; prints how long they took.
# `make test` runs everything, the slow ones included. Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || die ".venv is missing: run \`make setup\` first (it creates .venv and installs the locked dependencies)"
started=$SECONDS
status=0
"$PY" -m pytest -q -n 2 --dist loadgroup tests/unit -m "not slow and not postgres and not browser and not integration" \
  --durations=10 "$@" || status=$?
log "make unit: $((SECONDS - started)) s"
exit "$status"
