# Shared helpers for the set-up, run and test scripts. Sourced, not executed.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export PYTHONDONTWRITEBYTECODE=1
export SQLALCHEMY_WARN_20=0
export SQLALCHEMY_SILENCE_UBER_WARNING=1

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Find a Python 3.10 interpreter (Rasa 3.6 does not run on 3.11+).
find_python310() {
  local want candidates c
  want="$(tr -d '[:space:]' < "$ROOT/.python-version")"
  candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/$want/bin/python")
  fi
  candidates+=("$HOME/.pyenv/versions/$want/bin/python")
  for c in "$HOME"/.pyenv/versions/3.10*/bin/python; do candidates+=("$c"); done
  candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  cat >&2 <<MSG
error: this project needs Python 3.10 (Rasa 3.6 does not run on 3.11 or newer),
and none was found. Install one, then run the command again:
  - with pyenv:   pyenv install $want      (the repo's .python-version names it)
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv
  - or point to one: PYTHON=/path/to/python3.10 make run
MSG
  return 1
}

# Default configuration; every value can be overridden from the environment.
load_config() {
  mkdir -p "$ROOT/var"
  export RASA_PORT="${RASA_PORT:-5005}"
  export ACTION_PORT="${ACTION_PORT:-5055}"
  export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
  export DATABASE_URL="${DATABASE_URL:-sqlite:///$ROOT/var/trd.sqlite3}"
  export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${RASA_PORT}}"
  export WEBCHAT_ALLOWED_ORIGINS="${WEBCHAT_ALLOWED_ORIGINS:-http://127.0.0.1:${RASA_PORT},http://localhost:${RASA_PORT}}"
  # Secrets: generated once per checkout into var/secrets.env (git-ignored)
  # unless given in the environment.
  local secrets="$ROOT/var/secrets.env"
  if [ ! -f "$secrets" ]; then
    umask 077
    {
      echo "RASA_AUTH_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
      echo "WEBCHAT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
      echo "CLINICIAN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
      echo "PHONE_HASH_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    } > "$secrets"
  fi
  local line key
  while IFS= read -r line; do
    key="${line%%=*}"
    [ -n "$key" ] || continue
    if [ -z "${!key:-}" ]; then export "$line"; fi
  done < "$secrets"
}
