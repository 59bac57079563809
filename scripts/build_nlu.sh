#!/usr/bin/env bash
# Builds what the NLU loads from data files: the spaCy drug pipeline
# (build/nlu/spacy_drugs, from data/knowledge/drugs.yml; bot/nlu/drug_pipeline.py).
# Rebuilds only when an input changed (stamp file). Prints nothing on stdout,
# so scripts that print a path (train.sh) may call it.
source "$(dirname "$0")/lib.sh"

out=build/nlu/spacy_drugs
stamp=build/nlu/spacy_drugs.stamp
inputs=(
  data/knowledge/drugs.yml
  bot/nlu/drug_pipeline.py
  trd/navigator/lexicon.py
  trd/navigator/loader.py
  bot/nlu/drug_stoplist.txt
  requirements/rasa.lock
)
want="$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)"
up_to_date() { [ -f "$out/config.cfg" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; }

up_to_date && exit 0
mkdir -p build/nlu
exec 9>build/nlu/.build.lock
flock 9  # one build at a time; a waiting caller then finds it done
up_to_date && exit 0
log "building the spaCy drug pipeline ($out)"
rm -f "$stamp"
"$PY" -m bot.nlu.drug_pipeline build --out "$out" >&2
echo "$want" > "$stamp"
