#!/usr/bin/env bash
# Local FerretDB (MongoDB wire protocol) on the SQLite backend, built from the
# Go module proxy. Used by .ci/run and for local development.
#
#   deploy/local/ferretdb.sh install   # go install into the cache (skipped when cached)
#   deploy/local/ferretdb.sh start     # fresh data dir, wait for a real `ping`
#   deploy/local/ferretdb.sh status
#   deploy/local/ferretdb.sh stop
#
# Env: FERRETDB_VERSION (default v1.24.2, falls back to v1.24.1 if it fails to
# build), FERRETDB_PORT (27018), FERRETDB_DEBUG_PORT (FERRETDB_PORT+10000),
# FERRETDB_START_TIMEOUT (60 s), FERRETDB_LOG_LEVEL (WARN), PURSER_CACHE, PURSER_RUN_DIR.
set -euo pipefail

ENGINE=ferretdb
# shellcheck source=deploy/local/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

FERRETDB_PORT="${FERRETDB_PORT:-27018}"
FERRETDB_DEBUG_PORT="${FERRETDB_DEBUG_PORT:-$((FERRETDB_PORT + 10000))}"
FERRETDB_START_TIMEOUT="${FERRETDB_START_TIMEOUT:-60}"
MODULE="github.com/FerretDB/FerretDB"
CANDIDATES="${FERRETDB_VERSION:-v1.24.2 v1.24.1}"

RUN="$PURSER_RUN_DIR/ferretdb"
PIDFILE="$RUN/ferretdb.pid"
LOGFILE="$RUN/ferretdb.log"
BINFILE="$RUN/binary" # which cached binary the running instance uses

cached_bin() { # -> path of the first cached binary among the candidates
  local v
  for v in $CANDIDATES; do
    if [[ -x "$PURSER_CACHE/ferretdb/$v/bin/ferretdb" ]]; then
      echo "$PURSER_CACHE/ferretdb/$v/bin/ferretdb"
      return 0
    fi
  done
  return 1
}

cmd_install() {
  local bin v gobin t0
  if bin="$(cached_bin)"; then
    log "cached: $bin ($("$bin" --version 2>/dev/null | head -n1))"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go not found (need Go to build FerretDB)"
  for v in $CANDIDATES; do
    gobin="$PURSER_CACHE/ferretdb/$v/bin"
    t0=$(date +%s)
    log "building $MODULE/cmd/ferretdb@$v into $gobin (first time only; takes a minute or two)"
    if build_version "$v" "$gobin"; then
      log "built $("$gobin/ferretdb" --version 2>/dev/null | head -n1) in $(elapsed_since "$t0")s"
      return 0
    fi
    log "building $v failed after $(elapsed_since "$t0")s; trying the next candidate"
    rm -rf "$PURSER_CACHE/ferretdb/$v"
  done
  die "could not build FerretDB (tried: $CANDIDATES)"
}

# build_version VERSION GOBIN
# A plain `go install .../cmd/ferretdb@VERSION` builds, but the binary panics at
# start-up: the module zip lacks the generated build/version/version.txt that
# FerretDB requires when it is the main module. So: fetch the module source
# through the Go module proxy, add version.txt, and `go build` that copy.
build_version() {
  local v="$1" gobin="$2" work json dir
  work="$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")"
  # Run outside any go.mod so that this is a plain module download.
  json="$(cd "$work" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$MODULE@$v" 2>&1)" || true
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    log "go mod download $MODULE@$v failed: $json"
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$work/src" "$gobin"
  cp -R "$dir/." "$work/src/"
  chmod -R u+w "$work/src"
  echo "$v" >"$work/src/build/version/version.txt"
  echo "purser-local" >"$work/src/build/version/package.txt"
  # CGO is not needed: the SQLite backend uses the pure-Go modernc.org/sqlite.
  if ! (cd "$work/src" && CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" GOTOOLCHAIN=local \
    go build -trimpath -o "$gobin/ferretdb.tmp" ./cmd/ferretdb) >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    rm -rf "$work"
    return 1
  fi
  rm -rf "$work"
  if ! "$gobin/ferretdb.tmp" --version >/dev/null 2>&1; then
    log "the built binary does not run: $("$gobin/ferretdb.tmp" --version 2>&1 | head -n 3)"
    rm -f "$gobin/ferretdb.tmp"
    return 1
  fi
  mv "$gobin/ferretdb.tmp" "$gobin/ferretdb"
}

# ping: a real MongoDB wire `ping`. Uses the mongodb driver from the repo's
# node_modules when it is installed, otherwise a hand-built OP_MSG over a raw
# socket (no dependencies), so it always checks the wire protocol.
mongo_ping() {
  local port="$1"
  if node -e "require.resolve('mongodb',{paths:[process.argv[1]]})" "$REPO_ROOT" >/dev/null 2>&1; then
    node - "$REPO_ROOT" "$port" <<'EOF'
const { MongoClient } = require(require.resolve('mongodb', { paths: [process.argv[2]] }));
const url = `mongodb://127.0.0.1:${process.argv[3]}/purser`;
const c = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000, directConnection: true });
c.connect()
  .then(() => c.db('admin').command({ ping: 1 }))
  .then((r) => c.close().then(() => process.exit(r && r.ok === 1 ? 0 : 1)))
  .catch(() => c.close().finally(() => process.exit(1)));
EOF
  else
    node - "$port" <<'EOF'
const net = require('net');
// BSON {ping: 1, $db: "admin"}
const body = Buffer.concat([
  Buffer.from([0x10]), Buffer.from('ping\0'), int32(1),
  Buffer.from([0x02]), Buffer.from('$db\0'), int32(6), Buffer.from('admin\0'),
  Buffer.from([0x00]),
]);
const doc = Buffer.concat([int32(body.length + 4), body]);
const payload = Buffer.concat([int32(0) /* flagBits */, Buffer.from([0]) /* kind 0 */, doc]);
const header = Buffer.concat([int32(16 + payload.length), int32(1), int32(0), int32(2013 /* OP_MSG */)]);
function int32(n) { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; }
const sock = net.connect(+process.argv[2], '127.0.0.1');
const timer = setTimeout(() => { sock.destroy(); process.exit(1); }, 3000);
let buf = Buffer.alloc(0);
sock.on('connect', () => sock.write(Buffer.concat([header, payload])));
sock.on('error', () => process.exit(1));
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  clearTimeout(timer);
  sock.destroy();
  // header(16) flagBits(4) kind(1) then the reply document
  let i = 21 + 4; const end = 21 + buf.readInt32LE(21) - 1;
  while (i < end) {
    const type = buf[i++]; const z = buf.indexOf(0, i); const name = buf.toString('utf8', i, z); i = z + 1;
    let v;
    if (type === 0x01) { v = buf.readDoubleLE(i); i += 8; }
    else if (type === 0x10) { v = buf.readInt32LE(i); i += 4; }
    else if (type === 0x12) { v = Number(buf.readBigInt64LE(i)); i += 8; }
    else if (type === 0x08) { v = buf[i]; i += 1; }
    else if (type === 0x02) { i += 4 + buf.readInt32LE(i); }
    else if (type === 0x03 || type === 0x04) { i += buf.readInt32LE(i); }
    else break;
    if (name === 'ok') process.exit(v === 1 ? 0 : 1);
  }
  process.exit(1);
});
EOF
  fi
}

cmd_start() {
  local bin data pid t0 i
  bin="$(cached_bin)" || die "FerretDB is not installed; run: $0 install"
  mkdir -p "$RUN"
  stop_engine "$PIDFILE" ferretdb "$FERRETDB_PORT" "$FERRETDB_DEBUG_PORT"
  data="$(mktemp -d "$RUN/data.XXXXXX")"
  # Older data dirs from previous runs are not needed.
  find "$RUN" -maxdepth 1 -name 'data.*' ! -path "$data" -exec rm -rf {} + 2>/dev/null || true
  echo "$bin" >"$BINFILE"
  log "starting $bin on 127.0.0.1:$FERRETDB_PORT (sqlite in $data)"
  t0=$(date +%s)
  nohup "$bin" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --handler=sqlite \
    --sqlite-url="file:$data/" \
    --state-dir="$data" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" \
    --telemetry=disable \
    --log-level="${FERRETDB_LOG_LEVEL:-WARN}" \
    >"$LOGFILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  for ((i = 0; i < FERRETDB_START_TIMEOUT * 2; i++)); do
    if ! pid_alive "$pid"; then
      log "FerretDB exited during startup; last log lines:"
      tail -n 40 "$LOGFILE" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    if port_open "$FERRETDB_PORT" && mongo_ping "$FERRETDB_PORT"; then
      log "ready (ping ok) in $(elapsed_since "$t0")s, pid $pid, log $LOGFILE"
      echo "MONGODB_URL=mongodb://127.0.0.1:$FERRETDB_PORT/purser"
      return 0
    fi
    sleep 0.5
  done
  log "FerretDB did not answer ping within ${FERRETDB_START_TIMEOUT}s; last log lines:"
  tail -n 40 "$LOGFILE" >&2 || true
  stop_engine "$PIDFILE" ferretdb "$FERRETDB_PORT"
  exit 1
}

cmd_stop() {
  stop_engine "$PIDFILE" ferretdb "$FERRETDB_PORT" "$FERRETDB_DEBUG_PORT"
  log "stopped"
}

cmd_status() {
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if pid_alive "$pid" && pid_matches "$pid" ferretdb; then
    if mongo_ping "$FERRETDB_PORT"; then
      echo "ferretdb: running (pid $pid, 127.0.0.1:$FERRETDB_PORT, ping ok, $(cat "$BINFILE" 2>/dev/null))"
      return 0
    fi
    echo "ferretdb: process $pid alive but ping on 127.0.0.1:$FERRETDB_PORT failed"
    return 1
  fi
  echo "ferretdb: not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop && cmd_start ;;
  status) cmd_status ;;
  ping) mongo_ping "$FERRETDB_PORT" && echo "ping ok" ;;
  *)
    echo "usage: $0 {install|start|stop|restart|status|ping}" >&2
    exit 2
    ;;
esac
