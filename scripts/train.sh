#!/usr/bin/env bash
# Trains the model only when its inputs changed. Prints the model's path on stdout
# (`--fingerprint`: prints the training inputs' fingerprint instead).
#
# Trained models are also kept in a cache outside the checkout, keyed by the same
# fingerprint ($TRD_MODEL_CACHE, default ~/.cache/trd-navigator/models; empty turns it
# off), so a fresh clone with unchanged training inputs copies the model in instead of
# training again.
source "$(dirname "$0")/lib.sh"

# The spaCy pipeline SpacyNLP loads from disk is built from data/knowledge/drugs.yml.
scripts/build_nlu.sh

inputs=(config.yml domain.yml)
# Code that runs only when the model serves, never while it trains, is left out, so a
# change to it does not retrain: the safety guard (a component with nothing to train or
# persist, built from the lexicon when the model loads), the safety policy (its training
# step persists only its priority, from config.yml), the risk engine, the sentence
# encoder, the risk detector, the assessment that combines them and the reading of the
# answer to the possible-risk question and the past framing of a lexicon phrase, with
# their data files (their own tests
# cover them; an import-linter contract keeps the training code from importing them).
runtime_only='^(bot/nlu/safety_guard\.py|bot/policies/safety_policy\.py|trd/safety/(risk|encoder|detector|assessment|risk_check|history|plain_answers)\.py|data/knowledge/(risk_check_answers|risk_past_framing|plain_answers)\.yml)$'
fp="$(
  {
    cat "${inputs[@]}"
    find data/nlu data/stories data/rules data/knowledge bot/nlu bot/policies trd/safety -type f \
      \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.json' \) 2>/dev/null \
      | grep -v -E "$runtime_only" | LC_ALL=C sort | xargs cat
    find build/nlu -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum
    # the pins only: the hashes (scripts/hash_locks.py) change no installed file
    sed -e '/^[[:space:]]*--hash=/d' -e 's/[[:space:]]*\\$//' requirements/rasa.lock
  } | sha256sum | cut -c1-16
)"
if [ "${1:-}" = "--fingerprint" ]; then echo "$fp"; exit 0; fi  # what the model is keyed by
name="trd-$fp.tar.gz"
model="$ROOT/models/$name"
cache="${TRD_MODEL_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/trd-navigator/models}"
mkdir -p models
exec 9>"$ROOT/models/.train.lock"
flock 9  # one training at a time; a waiting caller then finds the model ready

# Copies $1 to $2 through a temporary file, so a reader never sees half a model.
copy_model() {
  local tmp
  tmp="$(dirname "$2")/.$(basename "$2").$$.tmp"
  cp "$1" "$tmp" && gzip -t "$tmp" && mv -f "$tmp" "$2" || { rm -f "$tmp"; return 1; }
}

if [ ! -f "$model" ] && [ -n "$cache" ] && [ -f "$cache/$name" ]; then
  if copy_model "$cache/$name" "$model"; then
    log "using the cached model $cache/$name (training inputs unchanged)"
  else
    log "the cached model $cache/$name is unreadable; training instead"
  fi
fi
if [ ! -f "$model" ]; then
  log "training the model (inputs changed)"
  # As reproducible as Rasa allows: the seeds are in config.yml (random_seed); here
  # deterministic TensorFlow kernels, fixed thread pools (Rasa's own variables, read
  # in rasa/__main__.py) and a fixed hash seed. Override any of them from the environment.
  export PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
  export TF_DETERMINISTIC_OPS="${TF_DETERMINISTIC_OPS:-1}"
  export TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-2}"
  export TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
  started=$SECONDS
  if ! "$VENV/bin/rasa" train --config config.yml --domain domain.yml --data data/nlu data/rules data/stories \
    --out models --fixed-model-name "trd-$fp" > models/train.log 2>&1; then
    grep -v -E "it/s|^WARNING: Location" models/train.log | tail -n 60 >&2
    die "training failed (full log: models/train.log)"
  fi
  log "trained in $((SECONDS - started)) s (log: models/train.log)"
  trained=1
fi
# keep the three newest models
ls -1t models/trd-*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f
if [ -n "$cache" ] && { [ ! -f "$cache/$name" ] || [ -n "${trained:-}" ]; }; then
  if mkdir -p "$cache" 2>/dev/null && copy_model "$model" "$cache/$name"; then
    log "stored the model in $cache"
    # keep the five newest cached models
    ls -1t "$cache"/trd-*.tar.gz 2>/dev/null | tail -n +6 | xargs -r rm -f
  else
    log "could not store the model in $cache (TRD_MODEL_CACHE); going on without the cache"
  fi
fi
echo "$model"
