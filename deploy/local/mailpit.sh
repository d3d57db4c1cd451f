#!/usr/bin/env bash
# Local Mailpit: a real SMTP server that keeps every message and shows it over an HTTP API, built from the Go
# module proxy. Used by .ci/run and for local development (the password-reset mails land here).
#
#   deploy/local/mailpit.sh install   # go install into the cache (skipped when cached)
#   deploy/local/mailpit.sh start     # fresh in-memory mailbox, wait for the HTTP API to answer
#   deploy/local/mailpit.sh status
#   deploy/local/mailpit.sh stop
#
# Env: MAILPIT_VERSION (default v1.33.1), MAILPIT_SMTP_PORT (1025), MAILPIT_HTTP_PORT (8025),
# MAILPIT_START_TIMEOUT (30 s), PURSER_CACHE, PURSER_RUN_DIR.
set -euo pipefail

ENGINE=mailpit
# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

MAILPIT_VERSION="${MAILPIT_VERSION:-v1.33.1}"
MAILPIT_SMTP_PORT="${MAILPIT_SMTP_PORT:-1025}"
MAILPIT_HTTP_PORT="${MAILPIT_HTTP_PORT:-8025}"
MAILPIT_START_TIMEOUT="${MAILPIT_START_TIMEOUT:-30}"
MODULE="github.com/axllent/mailpit"

RUN="$PURSER_RUN_DIR/mailpit"
PIDFILE="$RUN/mailpit.pid"
LOGFILE="$RUN/mailpit.log"
GOBIN_DIR="$PURSER_CACHE/mailpit/$MAILPIT_VERSION/bin"
BIN="$GOBIN_DIR/mailpit"

cmd_install() {
  local t0
  if [[ -x "$BIN" ]]; then
    log "cached: $BIN ($("$BIN" version --no-release-check 2>/dev/null | head -n1))"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go not found (need Go to build Mailpit)"
  mkdir -p "$GOBIN_DIR"
  t0=$(date +%s)
  log "building $MODULE@$MAILPIT_VERSION into $GOBIN_DIR (first time only; takes a minute or two)"
  # Outside any go.mod, so that this is a plain module install. CGO is not needed (pure-Go SQLite).
  if ! (cd "${TMPDIR:-/tmp}" && CGO_ENABLED=0 GOBIN="$GOBIN_DIR" GOFLAGS="-buildvcs=false" GOTOOLCHAIN=local \
    go install -trimpath -ldflags "-s -w -X $MODULE/config.Version=$MAILPIT_VERSION" "$MODULE@$MAILPIT_VERSION") >"$GOBIN_DIR/../build.log" 2>&1; then
    tail -n 40 "$GOBIN_DIR/../build.log" >&2
    rm -rf "$PURSER_CACHE/mailpit/$MAILPIT_VERSION"
    die "could not build $MODULE@$MAILPIT_VERSION"
  fi
  "$BIN" version --no-release-check >/dev/null 2>&1 || die "the built binary does not run: $("$BIN" version --no-release-check 2>&1 | head -n 3)"
  log "built $("$BIN" version --no-release-check 2>/dev/null | head -n1) in $(elapsed_since "$t0")s"
}

# api_ready: Mailpit's HTTP API answers (GET /api/v1/info).
api_ready() {
  node - "$MAILPIT_HTTP_PORT" <<'EOF'
fetch(`http://127.0.0.1:${process.argv[2]}/api/v1/info`, { signal: AbortSignal.timeout(2000) })
  .then((r) => process.exit(r.ok ? 0 : 1))
  .catch(() => process.exit(1));
EOF
}

cmd_start() {
  local pid t0 i
  [[ -x "$BIN" ]] || die "Mailpit is not installed; run: $0 install"
  mkdir -p "$RUN"
  stop_engine "$PIDFILE" mailpit "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT"
  log "starting $BIN: SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, HTTP 127.0.0.1:$MAILPIT_HTTP_PORT (mailbox in memory)"
  t0=$(date +%s)
  # No --database: the mailbox lives in a temporary file Mailpit removes on exit, so each start is empty.
  nohup "$BIN" \
    --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" \
    --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --smtp-auth-accept-any \
    --smtp-auth-allow-insecure \
    --disable-version-check \
    --quiet \
    >"$LOGFILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  for ((i = 0; i < MAILPIT_START_TIMEOUT * 2; i++)); do
    if ! pid_alive "$pid"; then
      log "Mailpit exited during startup; last log lines:"
      tail -n 40 "$LOGFILE" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if port_open "$MAILPIT_SMTP_PORT" && api_ready; then
      log "ready in $(elapsed_since "$t0")s, pid $pid, log $LOGFILE"
      echo "PURSER_SMTP_URL=smtp://127.0.0.1:$MAILPIT_SMTP_PORT"
      echo "MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT"
      return 0
    fi
    sleep 0.5
  done
  log "Mailpit did not answer within ${MAILPIT_START_TIMEOUT}s; last log lines:"
  tail -n 40 "$LOGFILE" >&2 || true
  stop_engine "$PIDFILE" mailpit "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT"
  exit 1
}

cmd_stop() {
  stop_engine "$PIDFILE" mailpit "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT"
  log "stopped"
}

cmd_status() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if pid_alive "$pid" && pid_matches "$pid" mailpit; then
    if port_open "$MAILPIT_SMTP_PORT" && api_ready; then
      echo "mailpit: running (pid $pid, SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, HTTP 127.0.0.1:$MAILPIT_HTTP_PORT)"
      return 0
    fi
    echo "mailpit: process $pid alive but SMTP or HTTP on 127.0.0.1 does not answer"
    return 1
  fi
  echo "mailpit: not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop && cmd_start ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {install|start|stop|restart|status}" >&2
    exit 2
    ;;
esac
