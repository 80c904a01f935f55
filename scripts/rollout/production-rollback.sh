#!/usr/bin/env bash
# Phase 6: instant rollback. With ADMIN_API_KEY and a gateway that answers, the run-time flip
# (PUT /api/admin/futures-switch, effective on the next request; kept across restarts and, with
# REDIS_URL, taken by every replica at once), then FEATURE_FUTURES=false in .env as well, so the
# environment holds futures off too; otherwise .env and a restart. Then the off checks, and the time
# it all took against ROLLBACK_BUDGET_MS (120000, the playbook's two minutes). Environment: see lib.sh.
set -euo pipefail
# shellcheck source=smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"

ROLLBACK_BUDGET_MS=${ROLLBACK_BUDGET_MS:-120000}

timer_start rollback
heading "phase 6: rollback, switch off ($GATEWAY_URL)"

# flip_off_at_run_time: true when the running gateway took the flip.
flip_off_at_run_time() {
  [[ -n ${ADMIN_API_KEY:-} ]] || { note "ADMIN_API_KEY unset: rolling back with a restart"; return 1; }
  gateway_answers || { note "the gateway does not answer ($(http_observed)): rolling back with a restart"; return 1; }
  http_call PUT /api/admin/futures-switch '{"enabled":false,"reason":"rollback"}' "$ADMIN_API_KEY"
  if [[ $HTTP_STATUS == 200 && $(json_eval "$HTTP_BODY" 'b.data.enabled') == false ]]; then
    pass "PUT /api/admin/futures-switch enabled:false" "200, runtime switch off on every replica sharing it, closed $(json_eval "$HTTP_BODY" 'b.data.closedSockets') sockets here, after $(timer_ms rollback) ms"
    return 0
  fi
  note "the run-time flip was refused ($(http_observed)): rolling back with a restart"
  return 1
}

if flip_off_at_run_time; then
  env_set FEATURE_FUTURES false || true
elif env_set FEATURE_FUTURES false && restart; then
  wait_healthy || true
fi
smoke_off

elapsed=$(timer_ms rollback)
echo "rollback took $elapsed ms (budget $ROLLBACK_BUDGET_MS ms)"
if ((elapsed <= ROLLBACK_BUDGET_MS)); then
  pass "rollback within budget" "$elapsed ms of $ROLLBACK_BUDGET_MS ms"
else
  fail "rollback within budget" "$elapsed ms of $ROLLBACK_BUDGET_MS ms"
fi
finish
