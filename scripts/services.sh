#!/usr/bin/env bash
# Start/stop/check the real servers used by integration tests and benchmarks,
# both bound to loopback only:
#   - Elasticsearch 8.19.8 (integ-test-zip distribution from Maven, run on a local JDK 17)
#   - ElasticMQ 1.6.16 (SQS-compatible, resolved from Maven)
#
# Usage: scripts/services.sh start|stop|restart|status|check|env [es|sqs|all]
#
#   start   [es|sqs|all]  start and wait until healthy (idempotent)
#   stop    [es|sqs|all]  graceful TERM, KILL after a bounded wait (safe if not running)
#   restart [es|sqs|all]  stop + start
#   status                one line per service; exit 0 if all healthy, 3 otherwise
#   check   [es|sqs|all]  functional smoke test (ES: dense_vector + bulk + knn; SQS: boto3 batch ops)
#   env                   print export lines:  eval "$(scripts/services.sh env)"
#
# Environment:
#   SIFT_SERVICES_DIR        where binaries/data/logs live (default: <repo>/var/services)
#   SIFT_ES_PORT             Elasticsearch HTTP port (default 9200)
#   SIFT_SQS_PORT            ElasticMQ port (default 9324)
#   SIFT_ES_JAVA_HOME        JDK for Elasticsearch (default /usr/lib/jvm/java-17-openjdk-amd64,
#                            else the `java` on PATH)
#   SIFT_SQS_JAVA_HOME       JDK for ElasticMQ (same default)
#   SIFT_ES_JAVA_OPTS        JVM options for ES (default "-Xms512m -Xmx1g")
#   SIFT_SQS_JAVA_OPTS       JVM options for ElasticMQ (default "-Xms64m -Xmx512m -XX:+UseSerialGC")
#   SIFT_ES_USER             user ES runs as when this script runs as root (default sift-es)
#   SIFT_ES_START_TIMEOUT    seconds to wait for ES health (default 120)
#   SIFT_SQS_START_TIMEOUT   seconds to wait for ElasticMQ (default 60)
#
# Everything is written under SIFT_SERVICES_DIR and ~/.m2 (Maven cache).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(dirname "$SCRIPT_DIR")"
SUPPORT_DIR="$SCRIPT_DIR/services"

ES_VERSION="8.19.8"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ES_M2_PATH="org/elasticsearch/distribution/integ-test-zip/elasticsearch/${ES_VERSION}/elasticsearch-${ES_VERSION}.zip"
EMQ_VERSION="1.6.16"
EMQ_MAIN="org.elasticmq.server.Main"

ES_PORT="${SIFT_ES_PORT:-9200}"
SQS_PORT="${SIFT_SQS_PORT:-9324}"
ES_USER_DEFAULT="sift-es"
ES_CLUSTER_NAME="sift-dev"
ES_START_TIMEOUT="${SIFT_ES_START_TIMEOUT:-120}"
SQS_START_TIMEOUT="${SIFT_SQS_START_TIMEOUT:-60}"
STOP_TIMEOUT_ES=40
STOP_TIMEOUT_SQS=15
DEFAULT_JDK="/usr/lib/jvm/java-17-openjdk-amd64"

SVC_DIR="${SIFT_SERVICES_DIR:-$ROOT_DIR/var/services}"
case "$SVC_DIR" in /*) ;; *) SVC_DIR="$PWD/$SVC_DIR" ;; esac

ES_HOME="$SVC_DIR/elasticsearch-$ES_VERSION"
EMQ_HOME="$SVC_DIR/elasticmq-$EMQ_VERSION"
LOG_DIR="$SVC_DIR/logs"
RUN_DIR="$SVC_DIR/run"
ES_LOG_DIR="$LOG_DIR/elasticsearch"
ES_RUN_DIR="$RUN_DIR/elasticsearch"
ES_PIDFILE="$ES_RUN_DIR/elasticsearch.pid"
ES_STARTUP_LOG="$LOG_DIR/elasticsearch-startup.log"
ES_SERVER_LOG="$ES_LOG_DIR/$ES_CLUSTER_NAME.log"
EMQ_PIDFILE="$RUN_DIR/elasticmq.pid"
EMQ_LOG="$LOG_DIR/elasticmq.log"

ES_URL="http://127.0.0.1:$ES_PORT"
SQS_URL="http://127.0.0.1:$SQS_PORT"

# ---------------------------------------------------------------- helpers

say() { printf '%s\n' "$*"; }
err() { printf 'error: %s\n' "$*" >&2; }
die() { err "$*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

is_root() { [ "$(id -u)" -eq 0 ]; }

es_user() {
  if is_root; then printf '%s' "${SIFT_ES_USER:-$ES_USER_DEFAULT}"; else id -un; fi
}

# GET a URL; print the body; fail on connection error or HTTP status >= 400.
http_get() {
  local url="$1" max="${2:-5}"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time "$max" "$url" 2>/dev/null
  else
    python3 - "$url" "$max" <<'PY' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
    sys.stdout.write(r.read().decode())
PY
  fi
}

# Is something accepting TCP connections on 127.0.0.1:$1?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Alive = exists and is not a zombie (a child of ours that exited but was not reaped yet).
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
  [ "$state" != Z ]
}

# Does /proc/<pid>/cmdline contain all given substrings?
pid_cmdline_has() {
  local pid="$1" cmd; shift
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  local s
  for s in "$@"; do
    case "$cmd" in *"$s"*) ;; *) return 1 ;; esac
  done
}

# First pid whose command line contains all given substrings (targeted by install path).
find_pid_by_cmdline() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [ "$pid" = "$$" ] && continue
    if pid_cmdline_has "$pid" "$@"; then printf '%s' "$pid"; return 0; fi
  done
  return 1
}

# Resolve the JAVA_HOME to use: override, JDK 17, or the java on PATH.
pick_java_home() {
  local override="$1" java
  if [ -n "$override" ]; then
    [ -x "$override/bin/java" ] || die "no java at $override/bin/java (from SIFT_*_JAVA_HOME)"
    printf '%s' "$override"; return
  fi
  if [ -x "$DEFAULT_JDK/bin/java" ]; then printf '%s' "$DEFAULT_JDK"; return; fi
  java="$(command -v java || true)"
  [ -n "$java" ] || die "no JDK found: install openjdk-17 or set SIFT_ES_JAVA_HOME/SIFT_SQS_JAVA_HOME"
  java="$(readlink -f "$java")"
  printf '%s' "$(dirname "$(dirname "$java")")"
}

show_log_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '--- last 20 lines of %s ---\n' "$f" >&2
    tail -n 20 "$f" >&2
  done
}

file_size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }

# Last 20 lines of what was appended to a log since byte offset $2 (skip if nothing new).
show_new_log_tail() {
  local f="$1" offset="$2"
  [ -f "$f" ] && [ "$(file_size "$f")" -gt "$offset" ] || return 0
  printf -- '--- last 20 lines of %s (this start) ---\n' "$f" >&2
  tail -c "+$((offset + 1))" "$f" | tail -n 20 >&2
}

ensure_base_dirs() {
  mkdir -p "$SVC_DIR" "$LOG_DIR" "$RUN_DIR"
}

# Serialise start/stop so two concurrent invocations do not race.
take_lock() {
  ensure_base_dirs
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/services.lock"
    if ! flock -n 9; then
      say "waiting for another scripts/services.sh invocation to finish…"
      flock -w 180 9 || die "could not acquire $RUN_DIR/services.lock within 180 s"
    fi
  fi
}

wait_for_exit() {  # pid timeout -> 0 if exited
  local pid="$1" timeout="$2" i=0
  while pid_alive "$pid"; do
    [ "$i" -ge "$((timeout * 5))" ] && return 1
    sleep 0.2; i=$((i + 1))
  done
}

terminate() {  # name pid timeout
  local name="$1" pid="$2" timeout="$3"
  kill -TERM "$pid" 2>/dev/null || true
  if wait_for_exit "$pid" "$timeout"; then
    say "$name stopped (pid $pid)"
  else
    say "$name did not exit within ${timeout} s after TERM; sending KILL (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 10 || die "$name (pid $pid) still alive after KILL"
    say "$name killed (pid $pid)"
  fi
}

# ---------------------------------------------------------------- elasticsearch

es_pid() {
  local pid=""
  if [ -s "$ES_PIDFILE" ]; then
    pid="$(tr -dc '0-9' <"$ES_PIDFILE")"
    if pid_alive "$pid" && pid_cmdline_has "$pid" "es.path.home=$ES_HOME"; then
      printf '%s' "$pid"; return 0
    fi
  fi
  # No (valid) pid file: look for a server JVM started from this install.
  find_pid_by_cmdline "es.path.home=$ES_HOME" "org.elasticsearch.server/org.elasticsearch.bootstrap.Elasticsearch" \
    || find_pid_by_cmdline "es.path.home=$ES_HOME" "org.elasticsearch.bootstrap.Elasticsearch"
}

es_health() {  # prints health status (green/yellow) if reachable and at least yellow
  local body
  body="$(http_get "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" 3)" || return 1
  case "$body" in
    *'"timed_out":false'*) ;;
    *) return 1 ;;
  esac
  printf '%s' "$body" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

ensure_es_user() {
  is_root || return 0
  command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux) to start Elasticsearch as an unprivileged user"
  local user; user="$(es_user)"
  if ! id -u "$user" >/dev/null 2>&1; then
    command -v useradd >/dev/null 2>&1 || die "running as root needs useradd to create user '$user'"
    say "creating system user '$user' (Elasticsearch refuses to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$user" \
      || die "could not create system user '$user' (useradd failed)"
  fi
}

es_zip_path() {
  local repo="${SIFT_M2_REPO:-$HOME/.m2/repository}" dl
  if [ -s "$repo/$ES_M2_PATH" ]; then printf '%s' "$repo/$ES_M2_PATH"; return; fi
  command -v mvn >/dev/null 2>&1 || die "elasticsearch $ES_VERSION zip not in ~/.m2 and mvn is not installed"
  say "downloading elasticsearch $ES_VERSION (first run only, ~95 MB via mvn)…" >&2
  dl="$SVC_DIR/downloads"
  mkdir -p "$dl"
  # Run outside the repo so mvn does not pick up any project pom.
  if ! (cd "$dl" && mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$ES_ARTIFACT" \
          -DoutputDirectory="$dl" -Dmdep.overWriteIfNewer=true) >"$LOG_DIR/elasticsearch-mvn.log" 2>&1; then
    err "mvn could not fetch $ES_ARTIFACT"
    show_log_tail "$LOG_DIR/elasticsearch-mvn.log"
    exit 1
  fi
  rm -f "$LOG_DIR/elasticsearch-mvn.log"
  [ -s "$dl/elasticsearch-$ES_VERSION.zip" ] || die "mvn did not produce $dl/elasticsearch-$ES_VERSION.zip"
  printf '%s' "$dl/elasticsearch-$ES_VERSION.zip"
}

es_install() {
  [ -f "$ES_HOME/.sift-installed" ] && return 0
  local zip tmp t0=$SECONDS
  zip="$(es_zip_path)"
  say "unpacking elasticsearch $ES_VERSION into $ES_HOME"
  tmp="$SVC_DIR/.unpack-es.$$"
  rm -rf "$tmp" "$ES_HOME"
  mkdir -p "$tmp"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$zip" -d "$tmp"
  else
    python3 -m zipfile -e "$zip" "$tmp"
    chmod +x "$tmp/elasticsearch-$ES_VERSION"/bin/*
  fi
  mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
  rm -rf "$tmp" "$SVC_DIR/downloads"
  chmod -R a+rX "$ES_HOME"
  # Keep gc logs / crash files / heap dumps out of ES_HOME (which stays read-only for ES).
  sed -i \
    -e "s|^-XX:ErrorFile=.*|-XX:ErrorFile=$ES_LOG_DIR/hs_err_pid%p.log|" \
    -e "s|^-Xlog:gc\\*.*|-Xlog:gc*,gc+age=trace,safepoint:file=$ES_LOG_DIR/gc.log:utctime,level,pid,tags:filecount=4,filesize=16m|" \
    -e "s|^-XX:+HeapDumpOnOutOfMemoryError.*|-XX:+HeapDumpOnOutOfMemoryError\n-XX:HeapDumpPath=$ES_LOG_DIR|" \
    "$ES_HOME/config/jvm.options"
  touch "$ES_HOME/.sift-installed"
  say "unpacked in $((SECONDS - t0)) s"
}

es_write_config() {
  cat >"$ES_HOME/config/elasticsearch.yml" <<EOF
# Generated by scripts/services.sh on each start -- edits will be overwritten.
cluster.name: $ES_CLUSTER_NAME
node.name: ${ES_CLUSTER_NAME}-1
path.data: $ES_HOME/data
path.logs: $ES_LOG_DIR
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
cluster.routing.allocation.disk.threshold_enabled: false
# The integ-test-zip ships x-pack-security; plain HTTP without auth for local tests.
xpack.security.enabled: false
# Allow tests to delete indices by wildcard (e.g. DELETE /sift-test-*).
action.destructive_requires_name: false
EOF
}

es_prepare_dirs() {
  local user
  mkdir -p "$ES_HOME/data" "$ES_HOME/tmp" "$ES_LOG_DIR" "$ES_RUN_DIR"
  if is_root; then
    user="$(es_user)"
    chown -R "$user:" "$ES_HOME/data" "$ES_HOME/tmp" "$ES_HOME/config" "$ES_LOG_DIR" "$ES_RUN_DIR"
    if ! runuser -u "$user" -- test -x "$ES_HOME/bin/elasticsearch" 2>/dev/null; then
      die "user '$user' cannot read $ES_HOME (a parent directory is private?); set SIFT_SERVICES_DIR to a path all users can traverse"
    fi
  fi
}

es_start() {
  local pid health launcher="" log_offset
  log_offset="$(file_size "$ES_SERVER_LOG")"
  pid="$(es_pid || true)"
  if [ -n "$pid" ]; then
    if health="$(es_health)"; then
      say "elasticsearch already healthy ($health) on 127.0.0.1:$ES_PORT (pid $pid)"
      return 0
    fi
    say "elasticsearch is running (pid $pid) but not healthy yet; waiting"
  else
    rm -f "$ES_PIDFILE"
    if port_open "$ES_PORT"; then
      local who; who="$(http_get "$ES_URL/" 2 | tr -d '\n' | head -c 120 || true)"
      die "port 127.0.0.1:$ES_PORT is already in use by a process not started by this script${who:+ (it answers: $who)}; stop it or set SIFT_ES_PORT"
    fi
    ensure_es_user
    es_install
    es_write_config
    es_prepare_dirs
    local java_home; java_home="$(pick_java_home "${SIFT_ES_JAVA_HOME:-}")"
    : >"$ES_STARTUP_LOG"
    say "starting elasticsearch $ES_VERSION on 127.0.0.1:$ES_PORT (java: $java_home, user: $(es_user))"
    # -d daemonises the server JVM once it is ready; -p writes its pid.
    local -a as_user=()
    if is_root; then as_user=(runuser -u "$(es_user)" --); fi
    setsid "${as_user[@]}" env -u JAVA_HOME -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS \
      ES_JAVA_HOME="$java_home" \
      ES_JAVA_OPTS="${SIFT_ES_JAVA_OPTS:--Xms512m -Xmx1g}" \
      ES_TMPDIR="$ES_HOME/tmp" \
      ES_PATH_CONF="$ES_HOME/config" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE" \
      </dev/null >>"$ES_STARTUP_LOG" 2>&1 9>&- &
    launcher=$!
  fi
  local t0=$SECONDS next_dot=$((SECONDS + 2)) launcher_rc=""
  printf 'waiting for elasticsearch health (up to %s s) ' "$ES_START_TIMEOUT"
  while :; do
    if health="$(es_health)"; then
      printf '\n'
      pid="$(es_pid || true)"
      say "elasticsearch healthy ($health) on 127.0.0.1:$ES_PORT in $((SECONDS - t0)) s (pid ${pid:-?}); logs: $ES_LOG_DIR"
      return 0
    fi
    if [ -n "$launcher" ] && [ -z "$launcher_rc" ] && ! pid_alive "$launcher"; then
      launcher_rc=0; wait "$launcher" || launcher_rc=$?
      if [ "$launcher_rc" -ne 0 ]; then
        printf '\n'
        err "elasticsearch failed to start (launcher exit code $launcher_rc)"
        show_log_tail "$ES_STARTUP_LOG"; show_new_log_tail "$ES_SERVER_LOG" "$log_offset"
        return 1
      fi
    fi
    if { [ -n "$launcher_rc" ] || [ -z "$launcher" ]; } && [ -z "$(es_pid || true)" ]; then
      printf '\n'
      err "elasticsearch exited during startup"
      show_log_tail "$ES_STARTUP_LOG"; show_new_log_tail "$ES_SERVER_LOG" "$log_offset"
      return 1
    fi
    if [ $((SECONDS - t0)) -ge "$ES_START_TIMEOUT" ]; then
      printf '\n'
      err "elasticsearch not healthy on 127.0.0.1:$ES_PORT after $ES_START_TIMEOUT s; stopping it"
      show_log_tail "$ES_STARTUP_LOG"; show_new_log_tail "$ES_SERVER_LOG" "$log_offset"
      es_stop >/dev/null 2>&1 || true
      [ -n "$launcher" ] && pid_alive "$launcher" && kill -TERM "$launcher" 2>/dev/null
      return 1
    fi
    if [ "$SECONDS" -ge "$next_dot" ]; then printf '.'; next_dot=$((SECONDS + 2)); fi
    sleep 1
  done
}

es_stop() {
  local pid
  pid="$(es_pid || true)"
  if [ -z "$pid" ]; then
    rm -f "$ES_PIDFILE"
    say "elasticsearch not running"
    return 0
  fi
  terminate elasticsearch "$pid" "$STOP_TIMEOUT_ES"
  rm -f "$ES_PIDFILE"
}

es_status() {
  local pid health
  pid="$(es_pid || true)"
  if [ -n "$pid" ]; then
    if health="$(es_health)"; then
      say "elasticsearch: healthy ($health)  $ES_URL  pid $pid  version $ES_VERSION"
      return 0
    fi
    say "elasticsearch: running, not healthy  $ES_URL  pid $pid  (log: $ES_SERVER_LOG)"
    return 1
  fi
  if port_open "$ES_PORT"; then
    say "elasticsearch: stopped (but port $ES_PORT is in use by another process)"
  else
    say "elasticsearch: stopped  (port $ES_PORT)"
  fi
  return 1
}

# ---------------------------------------------------------------- elasticmq

emq_pid() {
  local pid=""
  if [ -s "$EMQ_PIDFILE" ]; then
    pid="$(tr -dc '0-9' <"$EMQ_PIDFILE")"
    if pid_alive "$pid" && pid_cmdline_has "$pid" "$EMQ_MAIN" "$EMQ_HOME/lib"; then
      printf '%s' "$pid"; return 0
    fi
  fi
  find_pid_by_cmdline "$EMQ_MAIN" "$EMQ_HOME/lib"
}

emq_healthy() {
  local body
  body="$(http_get "$SQS_URL/?Action=ListQueues" 3)" || return 1
  case "$body" in *ListQueuesResponse*) return 0 ;; *) return 1 ;; esac
}

emq_install() {
  [ -f "$EMQ_HOME/.sift-installed" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn is required to fetch ElasticMQ $EMQ_VERSION"
  local tmp="$EMQ_HOME/lib.tmp" t0=$SECONDS
  say "resolving elasticmq $EMQ_VERSION and its dependencies via mvn (first run only)…"
  rm -rf "$EMQ_HOME"
  mkdir -p "$EMQ_HOME"
  if ! mvn -q -B -Dstyle.color=never -f "$SUPPORT_DIR/elasticmq-pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$LOG_DIR/elasticmq-mvn.log" 2>&1; then
    err "mvn could not resolve org.elasticmq:elasticmq-server_2.13:$EMQ_VERSION"
    show_log_tail "$LOG_DIR/elasticmq-mvn.log"
    exit 1
  fi
  ls "$tmp"/elasticmq-server_2.13-"$EMQ_VERSION".jar >/dev/null 2>&1 \
    || die "elasticmq-server jar missing from $tmp after mvn"
  mv "$tmp" "$EMQ_HOME/lib"
  rm -f "$LOG_DIR/elasticmq-mvn.log"
  touch "$EMQ_HOME/.sift-installed"
  say "elasticmq ready in $((SECONDS - t0)) s ($(ls "$EMQ_HOME/lib" | wc -l) jars)"
}

emq_start() {
  local pid
  pid="$(emq_pid || true)"
  if [ -n "$pid" ] && emq_healthy; then
    say "elasticmq already healthy on 127.0.0.1:$SQS_PORT (pid $pid)"
    return 0
  fi
  if [ -z "$pid" ]; then
    rm -f "$EMQ_PIDFILE"
    if port_open "$SQS_PORT"; then
      die "port 127.0.0.1:$SQS_PORT is already in use by a process not started by this script; stop it or set SIFT_SQS_PORT"
    fi
    emq_install
    local java_home; java_home="$(pick_java_home "${SIFT_SQS_JAVA_HOME:-}")"
    say "starting elasticmq $EMQ_VERSION on 127.0.0.1:$SQS_PORT (java: $java_home)"
    : >"$EMQ_LOG"
    (
      cd "$EMQ_HOME"
      export SIFT_SQS_PORT="$SQS_PORT"
      # shellcheck disable=SC2086  # word-splitting of the JVM options is intended
      exec setsid "$java_home/bin/java" ${SIFT_SQS_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC} \
        -Djava.io.tmpdir="$EMQ_HOME" \
        -Dconfig.file="$SUPPORT_DIR/elasticmq.conf" \
        -cp "$EMQ_HOME/lib/*" "$EMQ_MAIN" </dev/null >>"$EMQ_LOG" 2>&1 9>&-
    ) 9>&- &
    pid=$!
    echo "$pid" >"$EMQ_PIDFILE"
  fi
  local t0=$SECONDS next_dot=$((SECONDS + 2))
  printf 'waiting for elasticmq (up to %s s) ' "$SQS_START_TIMEOUT"
  while :; do
    if emq_healthy; then
      printf '\n'
      say "elasticmq healthy on 127.0.0.1:$SQS_PORT in $((SECONDS - t0)) s (pid $pid); log: $EMQ_LOG"
      return 0
    fi
    if ! pid_alive "$pid"; then
      printf '\n'
      err "elasticmq exited during startup"
      show_log_tail "$EMQ_LOG"
      rm -f "$EMQ_PIDFILE"
      return 1
    fi
    if [ $((SECONDS - t0)) -ge "$SQS_START_TIMEOUT" ]; then
      printf '\n'
      err "elasticmq not healthy on 127.0.0.1:$SQS_PORT after $SQS_START_TIMEOUT s; stopping it"
      show_log_tail "$EMQ_LOG"
      emq_stop >/dev/null 2>&1 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$next_dot" ]; then printf '.'; next_dot=$((SECONDS + 2)); fi
    sleep 0.5
  done
}

emq_stop() {
  local pid
  pid="$(emq_pid || true)"
  if [ -z "$pid" ]; then
    rm -f "$EMQ_PIDFILE"
    say "elasticmq not running"
    return 0
  fi
  terminate elasticmq "$pid" "$STOP_TIMEOUT_SQS"
  rm -f "$EMQ_PIDFILE"
}

emq_status() {
  local pid
  pid="$(emq_pid || true)"
  if [ -n "$pid" ]; then
    if emq_healthy; then
      say "elasticmq:     healthy  $SQS_URL  pid $pid  version $EMQ_VERSION"
      return 0
    fi
    say "elasticmq:     running, not healthy  $SQS_URL  pid $pid  (log: $EMQ_LOG)"
    return 1
  fi
  if port_open "$SQS_PORT"; then
    say "elasticmq:     stopped (but port $SQS_PORT is in use by another process)"
  else
    say "elasticmq:     stopped  (port $SQS_PORT)"
  fi
  return 1
}

# ---------------------------------------------------------------- commands

smoke_python() {
  if [ -x "$ROOT_DIR/.venv/bin/python" ]; then printf '%s' "$ROOT_DIR/.venv/bin/python"
  else command -v python3 || die "python3 is required for 'check'"; fi
}

print_env() {
  cat <<EOF
export SIFT_ES_URL=$ES_URL
export AWS_ENDPOINT_URL_SQS=$SQS_URL
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1
export SIFT_TEST_ES_URL=$ES_URL
export SIFT_TEST_SQS_URL=$SQS_URL
EOF
}

target_of() {
  case "${1:-all}" in
    es|elasticsearch) echo es ;;
    sqs|elasticmq) echo sqs ;;
    all) echo all ;;
    *) die "unknown service '$1' (expected es, sqs or all)" ;;
  esac
}

# Run "$@" in a subshell with errexit really in effect (it is silently disabled inside
# functions called from `cmd || ...` contexts); the exit status goes to STEP_RC.
STEP_RC=0
run_step() {
  set +e
  ( set -e; "$@" )
  STEP_RC=$?
  set -e
}

main() {
  local cmd="${1:-}" target rc=0
  [ $# -gt 0 ] && shift
  case "$cmd" in
    start)
      target="$(target_of "${1:-all}")"
      take_lock
      if [ "$target" != sqs ]; then run_step es_start; [ "$STEP_RC" -eq 0 ] || rc=1; fi
      if [ "$target" != es ]; then run_step emq_start; [ "$STEP_RC" -eq 0 ] || rc=1; fi
      return "$rc" ;;
    stop)
      target="$(target_of "${1:-all}")"
      take_lock
      if [ "$target" != sqs ]; then run_step es_stop; [ "$STEP_RC" -eq 0 ] || rc=1; fi
      if [ "$target" != es ]; then run_step emq_stop; [ "$STEP_RC" -eq 0 ] || rc=1; fi
      return "$rc" ;;
    restart)
      main stop "${1:-all}"
      main start "${1:-all}" ;;
    status)
      es_status || rc=3
      emq_status || rc=3
      return "$rc" ;;
    check)
      target="$(target_of "${1:-all}")"
      local py; py="$(smoke_python)"
      if [ "$target" != sqs ]; then "$py" "$SUPPORT_DIR/smoke.py" es "$ES_URL" || rc=1; fi
      if [ "$target" != es ]; then
        env AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
          AWS_ENDPOINT_URL_SQS="$SQS_URL" "$py" "$SUPPORT_DIR/smoke.py" sqs "$SQS_URL" || rc=1
      fi
      return "$rc" ;;
    env)
      print_env ;;
    -h|--help|help)
      usage ;;
    *)
      usage >&2; return 2 ;;
  esac
}

main "$@"
