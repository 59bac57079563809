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
log "pytest"
# Both cores, three workers (pytest-xdist): the tests that need Rasa servers run in three
# groups, one per worker, each in order,
# with their session-scoped stacks; the rest is shared out (tests/conftest.py groups them).
"$VENV/bin/python" -m pytest -n 3 --dist loadgroup "$@"
log "rasa test stories"
rm -rf results; mkdir -p results
"$VENV/bin/rasa" test core --model "$TRD_MODEL" --stories tests/stories \
  --fail-on-prediction-errors --out results/core --no-plot >/dev/null 2>results/rasa-test.log || {
  cat results/rasa-test.log >&2 || true
  cat results/core/failed_test_stories.yml >&2 2>/dev/null || true
  die "rasa test stories failed"
}
log "all tests passed"
