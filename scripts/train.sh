#!/usr/bin/env bash
# Trains the model only when its inputs changed. Prints the model's path on stdout.
source "$(dirname "$0")/lib.sh"

# The spaCy pipeline SpacyNLP loads from disk is built from data/knowledge/drugs.yml.
scripts/build_nlu.sh

inputs=(config.yml domain.yml)
fp="$(
  {
    cat "${inputs[@]}"
    find data/nlu data/stories data/rules data/knowledge bot/nlu bot/policies trd/safety -type f \
      \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.json' \) 2>/dev/null | LC_ALL=C sort | xargs cat
    find build/nlu -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum
    cat requirements/rasa.lock
  } | sha256sum | cut -c1-16
)"
model="$ROOT/models/trd-$fp.tar.gz"
mkdir -p models
exec 9>"$ROOT/models/.train.lock"
flock 9  # one training at a time; a waiting caller then finds the model ready
if [ ! -f "$model" ]; then
  log "training the model (inputs changed)"
  mkdir -p models
  started=$SECONDS
  if ! "$VENV/bin/rasa" train --config config.yml --domain domain.yml --data data/nlu data/rules data/stories \
    --out models --fixed-model-name "trd-$fp" > models/train.log 2>&1; then
    grep -v -E "it/s|^WARNING: Location" models/train.log | tail -n 60 >&2
    die "training failed (full log: models/train.log)"
  fi
  log "trained in $((SECONDS - started)) s (log: models/train.log)"
  # keep the three newest models
  ls -1t models/trd-*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f
fi
echo "$model"
