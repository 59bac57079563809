#!/usr/bin/env bash
# `make run`: set up, train if needed, then run the action server and the Rasa
# server on 127.0.0.1 until Ctrl-C.
source "$(dirname "$0")/lib.sh"

scripts/setup.sh
load_config
model="$(scripts/train.sh)"

pids=()
stop() {
  trap - INT TERM EXIT
  log "stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 0
}
trap stop INT TERM EXIT

"$PY" -m actions.server --host 127.0.0.1 --port "$ACTION_PORT" &
pids+=($!)
if [ -f trd/escalation/worker.py ]; then
  "$PY" -m trd.escalation.worker &
  pids+=($!)
fi
# The weekly check-in scheduler (#12): sends due check-ins through the Rasa server's SMS channel.
"$PY" -m trd.checkins.worker &
pids+=($!)
# `python -m bot run` is `rasa run` with the project's speed-ups installed (bot/__main__.py).
# Rasa's HTTP API (parse, trackers, model) only when asked: on for `make run` (scripts and
# tests use it), off unless RASA_ENABLE_API=1 elsewhere; it answers loopback callers only
# (bot/api_guard.py). The REST channel needs no API.
api=()
if [ "${RASA_ENABLE_API:-1}" = "1" ]; then api=(--enable-api); fi
"$PY" -m bot run --model "$model" --interface 127.0.0.1 --port "$RASA_PORT" \
  "${api[@]}" --auth-token "$RASA_AUTH_TOKEN" \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)

"$PY" -m scripts.wait_ready "http://127.0.0.1:$RASA_PORT/" "${ACTION_SERVER_URL%/webhook}/health" || stop
cat >&2 <<MSG

  The assistant is running.
  Chat page:      http://127.0.0.1:$RASA_PORT/chat/
  REST channel:   http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook (Bearer $RASA_AUTH_TOKEN, sender ids "rest-...")
  API token:      in var/secrets.env (RASA_AUTH_TOKEN)
  Press Ctrl-C to stop both servers.

MSG
wait -n "${pids[@]}" || true
stop
