# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh (sourced, not executed).
# Runtime data and logs live under PURSER_RUN_DIR; downloaded/built artifacts
# under PURSER_CACHE so that warm runs need no network at all.

PURSER_CACHE="${PURSER_CACHE:-$HOME/.cache/purser}"
PURSER_RUN_DIR="${PURSER_RUN_DIR:-/tmp/purser-engines}"
# shellcheck disable=SC2034  # used by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[%s %s] %s\n' "${ENGINE:-engine}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# port_open PORT -> 0 when something accepts TCP connections on 127.0.0.1:PORT
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null
}

# pid_matches PID PATTERN -> 0 when the process command line contains PATTERN
pid_matches() {
  local pid="$1" pattern="$2"
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# kill_and_wait PID [SECONDS]: TERM, wait, then KILL.
kill_and_wait() {
  local pid="$1" secs="${2:-30}" i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 5; i++)); do
    pid_alive "$pid" || return 0
    # Reap if it is our own child (zombies stay "alive" for kill -0).
    if [[ -r "/proc/$pid/stat" ]] && awk '{exit !($3=="Z")}' "/proc/$pid/stat" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
  log "pid $pid did not exit after ${secs}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  return 0
}

# port_owner_pids PORT -> pids listening on 127.0.0.1:PORT / *:PORT (best effort)
port_owner_pids() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
  elif command -v lsof >/dev/null 2>&1; then
    lsof -t -nP -iTCP:"$port" -sTCP:LISTEN 2>/dev/null | sort -u
  fi
}

# stop_engine PIDFILE PATTERN PORT...: stop the process from the pid file (if it
# really is our engine), then any leftover listener on the given ports whose
# command line matches PATTERN (e.g. a previous run whose pid file was lost).
stop_engine() {
  local pidfile="$1" pattern="$2"
  shift 2
  local pid port
  if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if pid_alive "$pid" && pid_matches "$pid" "$pattern"; then
      log "stopping pid $pid"
      kill_and_wait "$pid" 30
    fi
    rm -f "$pidfile"
  fi
  for port in "$@"; do
    for pid in $(port_owner_pids "$port"); do
      if pid_matches "$pid" "$pattern"; then
        log "stopping stale process $pid still listening on port $port"
        kill_and_wait "$pid" 30
      fi
    done
    if port_open "$port"; then
      die "port $port is still in use by a process that is not ours ($(port_owner_pids "$port" | tr '\n' ' ')); set a different port"
    fi
  done
}

# java binary: JAVA_HOME if set, else PATH.
java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found (need Java 17+)"
  fi
}

# elapsed_since START_EPOCH -> seconds
elapsed_since() { echo $(($(date +%s) - $1)); }
