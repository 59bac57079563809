#!/usr/bin/env bash
# `make test`: everything CI runs. Fails when any part fails.
source "$(dirname "$0")/lib.sh"

# The total wall time, printed last whether the tests pass or fail.
test_started=$SECONDS
trap 'log "make test: $((SECONDS - test_started)) s"' EXIT

scripts/system_deps.sh
scripts/setup.sh
scripts/check.sh

# Tests use their own database and ports; only the trained model is shared.
export TRD_MODEL="$(scripts/train.sh)"
# Rasa's story test reads only the model: it runs beside pytest (about a minute of one core).
rm -rf results; mkdir -p results
log "rasa test stories (in the background)"
"$VENV/bin/rasa" test core --model "$TRD_MODEL" --stories tests/stories \
  --fail-on-prediction-errors --out results/core --no-plot >/dev/null 2>results/rasa-test.log &
stories_pid=$!
log "pytest"
# Both cores, three workers (pytest-xdist): the tests that need Rasa servers run in three
# groups, one per worker, each in order, with their session-scoped stacks; the rest is shared
# out (tests/conftest.py groups them).
pytest_status=0
"$VENV/bin/python" -m pytest -n 3 --dist loadgroup "$@" || pytest_status=$?
stories_status=0
wait "$stories_pid" || stories_status=$?
if [ "$stories_status" -ne 0 ]; then
  cat results/rasa-test.log >&2 || true
  cat results/core/failed_test_stories.yml >&2 2>/dev/null || true
  log "rasa test stories failed"
fi
[ "$pytest_status" -eq 0 ] || die "pytest failed"
[ "$stories_status" -eq 0 ] || die "rasa test stories failed"
log "all tests passed"
