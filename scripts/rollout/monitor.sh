#!/usr/bin/env bash
# monitor.sh [seconds]: phase 5. Scrapes GET /metrics at the start of the window, every
# MONITOR_INTERVAL_SECONDS (5) and at its end, and fails when the window passed a threshold:
#   5xx responses             gateway_http_requests_total{status="5.."} increase  > MONITOR_MAX_5XX (0)
#   provider errors           gateway_provider_errors_total increase              > MONITOR_MAX_PROVIDER_ERRORS (5)
#   upstream rate-limit hits  gateway_rate_limit_hits_total{side="upstream"}      > MONITOR_MAX_UPSTREAM_429 (0)
#   upstream WS disconnects   gateway_upstream_ws_disconnect_streak, highest seen > MONITOR_MAX_WS_STREAK (3)
#   error-level log lines     written to GATEWAY_LOG during the window            > MONITOR_MAX_ERROR_LOGS (0)
# A counter that goes down (a restart) counts from zero again, like Prometheus' increase().
# Sourced by production-enable.sh for monitor_window; environment otherwise as in lib.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MONITOR_INTERVAL_SECONDS=${MONITOR_INTERVAL_SECONDS:-5}
MONITOR_MAX_5XX=${MONITOR_MAX_5XX:-0}
MONITOR_MAX_PROVIDER_ERRORS=${MONITOR_MAX_PROVIDER_ERRORS:-5}
MONITOR_MAX_UPSTREAM_429=${MONITOR_MAX_UPSTREAM_429:-0}
MONITOR_MAX_WS_STREAK=${MONITOR_MAX_WS_STREAK:-3}
MONITOR_MAX_ERROR_LOGS=${MONITOR_MAX_ERROR_LOGS:-0}

# The counters watched: label, metric family, label filter (extended regex), threshold.
MONITOR_COUNTERS=(
  "5xx responses|gateway_http_requests_total|status=\"5[0-9][0-9]\"|$MONITOR_MAX_5XX"
  "provider errors|gateway_provider_errors_total||$MONITOR_MAX_PROVIDER_ERRORS"
  "upstream rate-limit hits|gateway_rate_limit_hits_total|side=\"upstream\"|$MONITOR_MAX_UPSTREAM_429"
)
WS_STREAK_METRIC=gateway_upstream_ws_disconnect_streak

# metric_sum FILE NAME [LABEL_REGEX]: the sum of NAME's samples whose labels match, or `absent`
# when the scrape has no such family.
metric_sum() {
  awk -v name="$2" -v labels="${3:-}" '
    $1 == "#" && $3 == name { seen = 1 }
    /^#/ || NF < 2 { next }
    {
      series = $0
      sub(/[[:space:]]+[^[:space:]]+$/, "", series)
      family = series
      sub(/\{.*$/, "", family)
      if (family != name) next
      seen = 1
      if (labels == "" || series ~ labels) sum += $NF
    }
    END { if (seen) printf "%.15g\n", sum; else print "absent" }
  ' "$1"
}

# counter_increase PREVIOUS CURRENT: what a counter gained; a drop means it restarted from 0.
counter_increase() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "absent") a = 0; if (b == "absent") b = 0; printf "%.15g\n", (b >= a ? b - a : b) }'
}

# check_at_most WHAT VALUE MAX [OBSERVED]
check_at_most() {
  if awk -v n="$2" -v max="$3" 'BEGIN { exit !(n <= max) }'; then pass "$1" "${4:-$2}"; else fail "$1" "${4:-$2}"; fi
}

scrape() {
  http_call GET /metrics
  [[ $HTTP_STATUS == 200 ]] && cp "$HTTP_BODY" "$1"
}

log_size() {
  if [[ -f $GATEWAY_LOG ]]; then wc -c <"$GATEWAY_LOG" | tr -d ' '; else echo 0; fi
}

# monitor_window SECONDS
monitor_window() {
  local seconds=$1 i total label family labels max increase remaining pause scrapes=1 missed=0
  local streak streak_max=absent log_start log_end errors
  local -a gained=()
  heading "monitor: $seconds s window on $GATEWAY_URL (a scrape every ${MONITOR_INTERVAL_SECONDS} s)"
  log_start=$(log_size)
  if ! scrape "$ROLLOUT_TMP/previous.prom"; then
    fail "GET /metrics at the window's start" "$(http_observed)"
    return 0
  fi
  for i in "${!MONITOR_COUNTERS[@]}"; do gained[i]=0; done
  streak=$(metric_sum "$ROLLOUT_TMP/previous.prom" "$WS_STREAK_METRIC")
  [[ $streak == absent ]] || streak_max=$streak

  timer_start monitor
  total=$((seconds * 1000))
  while :; do
    remaining=$((total - $(timer_ms monitor)))
    ((remaining > 0)) || break
    pause=$((remaining < MONITOR_INTERVAL_SECONDS * 1000 ? remaining : MONITOR_INTERVAL_SECONDS * 1000))
    sleep "$(awk -v ms="$pause" 'BEGIN { printf "%.3f", ms / 1000 }')"
    scrapes=$((scrapes + 1))
    if ! scrape "$ROLLOUT_TMP/current.prom"; then
      missed=$((missed + 1))
      continue
    fi
    for i in "${!MONITOR_COUNTERS[@]}"; do
      IFS='|' read -r label family labels max <<<"${MONITOR_COUNTERS[i]}"
      increase=$(counter_increase "$(metric_sum "$ROLLOUT_TMP/previous.prom" "$family" "$labels")" "$(metric_sum "$ROLLOUT_TMP/current.prom" "$family" "$labels")")
      gained[i]=$(awk -v a="${gained[i]}" -v b="$increase" 'BEGIN { printf "%.15g\n", a + b }')
    done
    streak=$(metric_sum "$ROLLOUT_TMP/current.prom" "$WS_STREAK_METRIC")
    if [[ $streak != absent ]]; then
      streak_max=$(awk -v a="$streak_max" -v b="$streak" 'BEGIN { if (a == "absent" || b > a) a = b; print a }')
    fi
    mv -f "$ROLLOUT_TMP/current.prom" "$ROLLOUT_TMP/previous.prom"
  done

  check "GET /metrics answered every scrape" "$((scrapes - missed)) of $scrapes" "$scrapes of $scrapes"
  for i in "${!MONITOR_COUNTERS[@]}"; do
    IFS='|' read -r label family labels max <<<"${MONITOR_COUNTERS[i]}"
    check_at_most "$label in the window at most $max" "${gained[i]}" "$max"
  done
  if [[ $streak_max == absent ]]; then
    skip "upstream WS disconnect streak: $WS_STREAK_METRIC is not exported by this build"
  else
    check_at_most "upstream WS disconnect streak at most $MONITOR_MAX_WS_STREAK" "$streak_max" "$MONITOR_MAX_WS_STREAK" "highest $streak_max"
  fi

  if [[ ! -f $GATEWAY_LOG ]]; then
    skip "error-level log lines: no log file at $GATEWAY_LOG"
    return 0
  fi
  log_end=$(log_size)
  # A log that shrank was rotated or truncated: read all of what is there now.
  ((log_end >= log_start)) || log_start=0
  tail -c "+$((log_start + 1))" "$GATEWAY_LOG" | head -c "$((log_end - log_start))" |
    grep -E '"level":"(error|fatal)"' >"$ROLLOUT_TMP/errors.log" || true
  errors=$(wc -l <"$ROLLOUT_TMP/errors.log" | tr -d ' ')
  check_at_most "error-level lines in $GATEWAY_LOG during the window at most $MONITOR_MAX_ERROR_LOGS" "$errors" "$MONITOR_MAX_ERROR_LOGS"
  head -n 3 "$ROLLOUT_TMP/errors.log" | cut -c 1-300 | sed 's/^/    /'
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  if [[ ! ${1:-60} =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [seconds]" >&2
    exit 2
  fi
  monitor_window "${1:-60}"
  finish
fi
