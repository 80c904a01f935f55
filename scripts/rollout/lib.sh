# shellcheck shell=bash
# Shared functions of the rollout scripts (docs/operations.md "Rollout checks"). Sourced by the
# phase scripts, never run. Every check prints one line, `PASS <what> (<observed>)` or
# `FAIL <what> (<observed>)`; `finish` ends a script non-zero when any check failed.
#
# Environment:
#   GATEWAY_DIR      the deployed checkout (default: the repository holding this script)
#   GATEWAY_URL      default http://127.0.0.1:<PORT from $GATEWAY_DIR/.env, else 3001>
#   GATEWAY_API_KEY  bearer for the futures checks, when the gateway has GATEWAY_API_KEYS
#   ADMIN_API_KEY    bearer for the run-time flip (PUT /api/admin/futures-switch)
#   TURN_RUNTIME_ON=1  phases 2 and 4 also turn the runtime switch on (with ADMIN_API_KEY) when an
#                    earlier rollback left it off; unset, they report it and stop
#   SKIP_GIT=1       skip `git fetch && git checkout $GIT_REF` (local runs); GIT_REF default origin/main
#   SKIP_INSTALL=1   skip `npm ci` (still `npm run build`)
#   RESTART_CMD      the operator's command that restarts the service; unset, the scripts run
#                    `node dist/main.js` themselves (pid in run/gateway.pid, log in logs/gateway.log)
#   GATEWAY_LOG      the gateway's log file (default $GATEWAY_DIR/logs/gateway.log)
#   HEALTH_TIMEOUT_SECONDS  how long wait_healthy polls (default 60)
#   HTTP_TIMEOUT_SECONDS    per-request timeout of the checks (default 30: a leverage change is
#                           up to three KuCoin calls of UPSTREAM_TIMEOUT_MS each)

# smoke.sh and monitor.sh are sourced by the phase scripts and source this file too: load it once.
[[ -z ${ROLLOUT_LIB_LOADED:-} ]] || return 0
ROLLOUT_LIB_LOADED=1

ROLLOUT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GATEWAY_DIR=$(cd "${GATEWAY_DIR:-$ROLLOUT_DIR/../..}" && pwd)
ENV_FILE=$GATEWAY_DIR/.env
PID_FILE=$GATEWAY_DIR/run/gateway.pid
GATEWAY_LOG=${GATEWAY_LOG:-$GATEWAY_DIR/logs/gateway.log}
GIT_REF=${GIT_REF:-origin/main}
HEALTH_TIMEOUT_SECONDS=${HEALTH_TIMEOUT_SECONDS:-60}
HTTP_TIMEOUT_SECONDS=${HTTP_TIMEOUT_SECONDS:-30}

ROLLOUT_PASSED=0
ROLLOUT_FAILED=0
ROLLOUT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rollout.XXXXXX")
trap 'rm -rf "$ROLLOUT_TMP"' EXIT

# --- reporting -----------------------------------------------------------------------------------

pass() {
  ROLLOUT_PASSED=$((ROLLOUT_PASSED + 1))
  printf 'PASS %s (%s)\n' "$1" "$2"
}

fail() {
  ROLLOUT_FAILED=$((ROLLOUT_FAILED + 1))
  printf 'FAIL %s (%s)\n' "$1" "$2"
}

# check WHAT OBSERVED EXPECTED: PASS when the observed value is the expected one.
check() {
  if [[ $2 == "$3" ]]; then pass "$1" "$2"; else fail "$1" "$2"; fi
}

# check_match WHAT OBSERVED REGEX: PASS when the observed text matches the extended regex.
check_match() {
  if [[ $2 =~ $3 ]]; then pass "$1" "$2"; else fail "$1" "$2"; fi
}

note() { printf 'NOTE %s\n' "$*"; }
skip() { printf 'SKIP %s\n' "$*"; }
heading() { printf '== %s\n' "$*"; }

# finish: the script's last word. Exit 1 when any check failed.
finish() {
  local total=$((ROLLOUT_PASSED + ROLLOUT_FAILED))
  if ((ROLLOUT_FAILED > 0)); then
    heading "$(basename "$0"): $ROLLOUT_FAILED of $total checks FAILED"
    exit 1
  fi
  heading "$(basename "$0"): all $total checks passed"
  exit 0
}

# --- timers (ms) ---------------------------------------------------------------------------------

now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local us=${EPOCHREALTIME//[!0-9]/}
    printf '%s\n' "${us:0:${#us}-3}"
  else
    date +%s%3N
  fi
}

declare -gA ROLLOUT_TIMERS=()
timer_start() { ROLLOUT_TIMERS[$1]=$(now_ms); }
timer_ms() { printf '%s\n' $(($(now_ms) - ROLLOUT_TIMERS[$1])); }

# --- .env ----------------------------------------------------------------------------------------

# The value of KEY in a dotenv file as the gateway reads it (last line wins, quotes and an inline
# comment dropped); empty when absent.
env_file_value() {
  local file=$1 key=$2
  [[ -f $file ]] || return 0
  awk -v key="$key" '
    $0 ~ "^[[:space:]]*(export[[:space:]]+)?" key "[[:space:]]*[=:]" {
      value = $0
      sub("^[^=:]*[=:][[:space:]]*", "", value)
      if (value ~ /^["\047]/) { q = substr(value, 1, 1); value = substr(value, 2); sub(q ".*$", "", value) }
      else { sub(/[[:space:]]+#.*$/, "", value); sub(/[[:space:]]+$/, "", value) }
      last = value
    }
    END { printf "%s", last }
  ' "$file"
}

# env_set KEY VALUE: sets KEY in $ENV_FILE. The first KEY line is replaced in place, later KEY
# lines are dropped (so there is never a duplicate to outvote it), other lines and comments stay;
# appended when absent. Written to a temp file and renamed, keeping the file's mode.
env_set() {
  local key=$1 value=$2 line tmp
  if [[ ! $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    fail "env_set $key" "not a variable name"
    return 1
  fi
  if [[ $value =~ ^[A-Za-z0-9_./:,@+=-]*$ ]]; then
    line="$key=$value"
  elif [[ $value != *"'"* && $value != *$'\n'* ]]; then
    line="$key='$value'"
  elif [[ ! $value =~ [\"\\$'\n'] ]]; then
    line="$key=\"$value\""
  else
    fail "env_set $key" "value has both quote kinds, a backslash or a newline"
    return 1
  fi
  tmp=$(mktemp "$ENV_FILE.XXXXXX") || { fail "env_set $key" "cannot write beside $ENV_FILE"; return 1; }
  if [[ -f $ENV_FILE ]]; then
    chmod "$(stat -c %a "$ENV_FILE" 2>/dev/null || echo 600)" "$tmp"
    if ! awk -v key="$key" -v line="$line" '
      $0 ~ "^[[:space:]]*(export[[:space:]]+)?" key "[[:space:]]*[=:]" { if (!done) print line; done = 1; next }
      { print }
      END { if (!done) print line }
    ' "$ENV_FILE" >"$tmp"; then
      rm -f "$tmp"
      fail "env_set $key" "cannot rewrite $ENV_FILE"
      return 1
    fi
  else
    printf '%s\n' "$line" >"$tmp"
  fi
  mv -f "$tmp" "$ENV_FILE"
  pass "$ENV_FILE sets $key" "$line"
}

# --- URLs and HTTP -------------------------------------------------------------------------------

gateway_port() {
  local port
  port=$(env_file_value "$ENV_FILE" PORT)
  printf '%s\n' "${port:-3001}"
}

GATEWAY_URL=${GATEWAY_URL:-http://127.0.0.1:$(gateway_port)}
GATEWAY_URL=${GATEWAY_URL%/}

# http_call METHOD PATH [JSON_BODY] [BEARER]: one request to the gateway. Sets HTTP_STATUS (000
# when nothing answered), HTTP_ERROR (curl's complaint), HTTP_BODY (the file holding the body) and
# HTTP_HEADERS (the file holding the headers). The bearer goes through a file, never argv.
http_call() {
  local method=$1 path=$2 body=${3:-} bearer=${4:-}
  local args=(-sS -X "$method" --max-time "$HTTP_TIMEOUT_SECONDS" -o "$ROLLOUT_TMP/body" -D "$ROLLOUT_TMP/headers" -w '%{http_code}')
  : >"$ROLLOUT_TMP/body"
  : >"$ROLLOUT_TMP/headers"
  if [[ -n $body ]]; then args+=(-H 'content-type: application/json' --data-binary "$body"); fi
  if [[ -n $bearer ]]; then
    printf 'Authorization: Bearer %s\n' "$bearer" >"$ROLLOUT_TMP/auth"
    args+=(-H "@$ROLLOUT_TMP/auth")
  fi
  HTTP_BODY=$ROLLOUT_TMP/body
  # shellcheck disable=SC2034 # read by smoke.sh
  HTTP_HEADERS=$ROLLOUT_TMP/headers
  HTTP_ERROR=
  HTTP_STATUS=$(curl "${args[@]}" "$GATEWAY_URL$path" 2>"$ROLLOUT_TMP/curl-error") || HTTP_ERROR=$(head -c 200 "$ROLLOUT_TMP/curl-error")
  rm -f "$ROLLOUT_TMP/auth"
  HTTP_STATUS=${HTTP_STATUS:-000}
}

# json_eval FILE EXPRESSION: evaluates a JavaScript expression over the parsed JSON `b` (undefined
# when the file is not JSON) and prints the result as JSON (`undefined` when there is none).
json_eval() {
  node -e '
    const fs = require("fs");
    let b;
    try { b = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
    let v;
    try { v = (0, eval)("(b) => (" + process.argv[2] + ")")(b); } catch (e) { v = "error: " + e.message; }
    process.stdout.write(v === undefined ? "undefined" : JSON.stringify(v));
  ' "$1" "$2"
}

# What came back, for the parentheses of a check: status, then the problem code when there is one.
http_observed() {
  if [[ $HTTP_STATUS == 000 ]]; then
    printf 'no answer: %s' "${HTTP_ERROR:-connection failed}"
    return
  fi
  local code
  code=$(json_eval "$HTTP_BODY" 'b && b.code || ""')
  code=${code//\"/}
  printf '%s%s' "$HTTP_STATUS" "${code:+ $code}"
}

# check_http WHAT STATUS [CODE]: the last http_call answered STATUS (and the problem code CODE).
check_http() {
  local what=$1 want="$2${3:+ $3}"
  check "$what" "$(http_observed)" "$want"
}

# check_json WHAT EXPRESSION EXPECTED: EXPRESSION over the last body evaluates to EXPECTED (JSON).
check_json() {
  check "$1" "$(json_eval "$HTTP_BODY" "$2")" "$3"
}

gateway_answers() {
  http_call GET /api/health
  [[ $HTTP_STATUS == 200 ]]
}

# --- process management --------------------------------------------------------------------------

# A live process (not a zombie) with this pid.
pid_alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/stat ]]; then
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null)
  else
    state=$(ps -o stat= -p "$pid" 2>/dev/null)
  fi
  [[ $state != Z* ]]
}

# The command line of a pid, to make sure the pid file still names our gateway before signalling it.
pid_args() {
  if [[ -r /proc/$1/cmdline ]]; then tr '\0' ' ' <"/proc/$1/cmdline"; else ps -o args= -p "$1" 2>/dev/null; fi
}

# The pid in the pid file when it is a live `node dist/main.js`; nothing otherwise.
managed_pid() {
  local pid
  [[ -f $PID_FILE ]] || return 0
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" && [[ $(pid_args "$pid") == *dist/main.js* ]] && printf '%s\n' "$pid"
  return 0
}

# stop_grace_seconds: how long stop_gateway waits after SIGTERM before SIGKILL. The gateway drains
# in-flight requests for max(SHUTDOWN_TIMEOUT_MS, UPSTREAM_DEADLINE_MS + 500) ms (an order already
# sent to KuCoin gets its answer); the wait is that, from the environment or $ENV_FILE as the
# gateway reads them (defaults 10000 and 8000), plus 5 s for the process to exit.
stop_grace_seconds() {
  local shutdown_ms deadline_ms grace_ms
  shutdown_ms=${SHUTDOWN_TIMEOUT_MS:-$(env_file_value "$ENV_FILE" SHUTDOWN_TIMEOUT_MS)}
  deadline_ms=${UPSTREAM_DEADLINE_MS:-$(env_file_value "$ENV_FILE" UPSTREAM_DEADLINE_MS)}
  [[ $shutdown_ms =~ ^[0-9]+$ ]] || shutdown_ms=10000
  [[ $deadline_ms =~ ^[0-9]+$ ]] || deadline_ms=8000
  grace_ms=$((deadline_ms + 500 > shutdown_ms ? deadline_ms + 500 : shutdown_ms))
  printf '%s\n' $(((grace_ms + 999) / 1000 + 5))
}

stop_gateway() {
  local pid waited=0 grace
  grace=$(stop_grace_seconds)
  pid=$(managed_pid)
  if [[ -z $pid ]]; then
    note "no running gateway in $PID_FILE"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid" && ((waited < grace * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    note "gateway pid $pid outlived SIGTERM by ${grace} s: sent SIGKILL"
  fi
  rm -f "$PID_FILE"
  pass "stopped gateway" "pid $pid"
}

start_gateway() {
  local pid
  if [[ ! -f $GATEWAY_DIR/dist/main.js ]]; then
    fail "start gateway" "$GATEWAY_DIR/dist/main.js missing: deploy first"
    return 1
  fi
  mkdir -p "$(dirname "$PID_FILE")" "$(dirname "$GATEWAY_LOG")"
  START_LOG_OFFSET=$(wc -c 2>/dev/null <"$GATEWAY_LOG" || echo 0)
  # The environment outranks .env in the gateway: an exported FEATURE_FUTURES would outvote the
  # switch this playbook writes, and an exported PORT would move the gateway off GATEWAY_URL.
  # The scripts' own bearer keys are no business of the gateway's either.
  (cd "$GATEWAY_DIR" && exec env -u FEATURE_FUTURES -u PORT -u GATEWAY_API_KEY -u ADMIN_API_KEY \
    nohup node dist/main.js >>"$GATEWAY_LOG" 2>&1 </dev/null) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  STARTED_PID=$pid
  pass "started node dist/main.js" "pid $pid, log $GATEWAY_LOG"
}

# restart: the operator's RESTART_CMD, or stop + start of the process in run/gateway.pid. Marks the
# time, so wait_healthy can tell the new process from the old one.
restart() {
  RESTARTED_AT_MS=$(now_ms)
  STARTED_PID=
  if [[ -n ${RESTART_CMD:-} ]]; then
    if bash -c "$RESTART_CMD"; then
      pass "restart with RESTART_CMD" "exit 0"
    else
      fail "restart with RESTART_CMD" "exit $?"
      return 1
    fi
    return 0
  fi
  if [[ -n ${FEATURE_FUTURES:-} || -n ${PORT:-} ]]; then
    note "FEATURE_FUTURES/PORT from this shell are not passed to the gateway: $ENV_FILE decides"
  fi
  stop_gateway || return 1
  if gateway_answers; then
    fail "port free after stop" "$GATEWAY_URL still answers: a gateway these scripts did not start (stop it, or set RESTART_CMD)"
    return 1
  fi
  start_gateway
}

# wait_healthy: polls /api/health until 200. After a restart, also until the answering process
# started after the restart (uptime), so an old process still on the port is not mistaken for it.
wait_healthy() {
  local uptime_ms started_ms=
  timer_start healthy
  while :; do
    http_call GET /api/health
    if [[ $HTTP_STATUS == 200 ]]; then
      started_ms=
      if [[ $(<"$HTTP_BODY") =~ \"uptimeSeconds\":([0-9]+)(\.([0-9]))? ]]; then
        uptime_ms=$((BASH_REMATCH[1] * 1000 + ${BASH_REMATCH[3]:-0} * 100))
        started_ms=$(($(now_ms) - uptime_ms))
      fi
      if [[ -z ${RESTARTED_AT_MS:-} || -z $started_ms ]] || ((started_ms >= RESTARTED_AT_MS - 1000)); then
        pass "GET /api/health answers 200" "after $(timer_ms healthy) ms"
        return 0
      fi
    fi
    if [[ -n ${STARTED_PID:-} ]] && ! pid_alive "$STARTED_PID"; then
      fail "gateway stays up after start" "pid $STARTED_PID exited; what it wrote to $GATEWAY_LOG below"
      tail -c "+$((START_LOG_OFFSET + 1))" "$GATEWAY_LOG" 2>/dev/null | tail -n 15 | cut -c 1-300 | sed 's/^/    /'
      return 1
    fi
    if (($(timer_ms healthy) > HEALTH_TIMEOUT_SECONDS * 1000)); then
      if [[ $HTTP_STATUS == 200 ]]; then
        fail "restarted gateway answers /api/health" "still the old process after ${HEALTH_TIMEOUT_SECONDS} s (started $(((RESTARTED_AT_MS - started_ms) / 1000)) s before the restart)"
      else
        fail "GET /api/health answers 200 within ${HEALTH_TIMEOUT_SECONDS} s" "$(http_observed)"
      fi
      return 1
    fi
    sleep 0.2
  done
}

# --- deploy --------------------------------------------------------------------------------------

# run_step WHAT COMMAND...: runs a deploy step in $GATEWAY_DIR, its output indented.
run_step() {
  local what=$1 rc
  shift
  timer_start step
  rm -f "$ROLLOUT_TMP/step.rc"
  { (cd "$GATEWAY_DIR" && "$@") 2>&1 || echo "$?" >"$ROLLOUT_TMP/step.rc"; } | sed 's/^/    /'
  rc=$(cat "$ROLLOUT_TMP/step.rc" 2>/dev/null || echo 0)
  if ((rc == 0)); then
    pass "$what" "$(timer_ms step) ms"
  else
    fail "$what" "exit $rc"
  fi
  return "$rc"
}

deploy() {
  if [[ ${SKIP_GIT:-} == 1 ]]; then
    skip "git fetch && git checkout $GIT_REF (SKIP_GIT=1)"
  else
    run_step "git fetch" git fetch --prune || return 1
    run_step "git checkout $GIT_REF" git checkout --quiet "$GIT_REF" || return 1
    note "$GATEWAY_DIR is at $(git -C "$GATEWAY_DIR" rev-parse --short HEAD)"
  fi
  if [[ ${SKIP_INSTALL:-} == 1 ]]; then
    skip "npm ci (SKIP_INSTALL=1)"
  else
    run_step "npm ci" npm ci --no-audit --no-fund || return 1
  fi
  run_step "npm run build" npm run build
}

# --- phases shared by staging and production -----------------------------------------------------

# deploy_switch_off: phases 1 and 3 (needs smoke.sh sourced). A failed step stops before the
# restart, so the running gateway keeps serving the old build.
deploy_switch_off() {
  if deploy && env_set FEATURE_FUTURES false && restart && wait_healthy; then
    smoke_off
  fi
}

# runtime_switch_on: after FEATURE_FUTURES=true and a restart, futures are on only if the runtime
# switch (an admin's flip, kept across restarts and, with Redis, shared by every replica) is on too.
# With TURN_RUNTIME_ON=1 and ADMIN_API_KEY it is flipped on (the operator's explicit decision, after
# a rollback); otherwise a runtime switch that is off is reported, with who, when and why, and the
# phase stops: ROLLOUT_STILL_OFF=1, FAIL "still off: runtime switch turned off by X at T (reason)".
ROLLOUT_STILL_OFF=0
runtime_switch_on() {
  local summary
  http_call GET /api/health
  [[ $HTTP_STATUS == 200 ]] || { fail "GET /api/health is 200" "$(http_observed)"; return 1; }
  [[ $(json_eval "$HTTP_BODY" 'b.data.futures.enabled') == true ]] && return 0
  if [[ ${TURN_RUNTIME_ON:-} == 1 && -n ${ADMIN_API_KEY:-} ]]; then
    http_call PUT /api/admin/futures-switch '{"enabled":true,"reason":"production-enable.sh TURN_RUNTIME_ON=1"}' "$ADMIN_API_KEY"
    check_http "PUT /api/admin/futures-switch enabled:true (TURN_RUNTIME_ON=1)" 200
    [[ $HTTP_STATUS == 200 && $(json_eval "$HTTP_BODY" 'b.data.enabled') == true ]] && return 0
    http_call GET /api/health
  fi
  # shellcheck disable=SC2016 # JavaScript, not shell
  summary=$(json_eval "$HTTP_BODY" '(() => {
    const f = b.data.futures;
    if (!f.environment) return "still off: FEATURE_FUTURES is not true in the running process";
    if (f.runtime === null) return "still off: runtime switch not known (Redis unreachable since start, health " + b.data.status + ")";
    const at = f.changedAt === null ? "an unknown time" : new Date(f.changedAt).toISOString();
    return "still off: runtime switch turned off by " + f.changedBy + " at " + at + " (" + (f.reason ?? "no reason given") + ")" + (f.replica ? " on " + f.replica : "");
  })()')
  summary=${summary#\"}
  summary=${summary%\"}
  ROLLOUT_STILL_OFF=1
  fail "futures on after the restart" "$summary"
  note "turn the runtime switch on with PUT /api/admin/futures-switch {\"enabled\":true}, or rerun with TURN_RUNTIME_ON=1 and ADMIN_API_KEY"
  return 1
}

# enable_switch: phases 2 and 4 (needs smoke.sh sourced). Returns non-zero when a step or a check failed.
enable_switch() {
  local failed_before=$ROLLOUT_FAILED
  if env_set FEATURE_FUTURES true && restart && wait_healthy && runtime_switch_on; then
    smoke_on
  fi
  ((ROLLOUT_FAILED == failed_before))
}
