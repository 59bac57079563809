#!/usr/bin/env bash
# System packages the tests need: Debian's chromium (headless browser tests) and
# PostgreSQL (the production database's tests). Installed only when missing.
source "$(dirname "$0")/lib.sh"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
{ [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; } || need+=(postgresql)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -f /usr/share/dict/words ] || need+=(wamerican)  # checks the drug stoplist covers English words
# The clinician summary's PDF is set in DejaVu Sans Condensed to fit one page.
# Weekly check-ins keep to the person's local daytime: zoneinfo reads the system's time zone data.
[ -f /usr/share/zoneinfo/America/New_York ] || need+=(tzdata)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf ] || need+=(fonts-dejavu-extra)

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    die "missing system packages: ${need[*]} (install them with apt-get, as root)"
  fi
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  log "installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a default cluster on install; the tests run their own.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO pg_ctlcluster --force "$(ls /etc/postgresql | sort -V | tail -n1)" main stop 2>/dev/null || true
  fi
fi
