#!/usr/bin/env bash
# Phase 4 (and 5): production enable, watched. Writes FEATURE_FUTURES=true to .env, restarts, runs
# the on checks, then monitor.sh for MONITOR_SECONDS (60). When any of it fails and AUTO_ROLLBACK
# is not 0, runs production-rollback.sh and exits non-zero saying so. When the runtime switch (an
# admin's earlier flip, kept across restarts) still holds futures off, it says who turned it off,
# when and why, and exits non-zero without a rollback; TURN_RUNTIME_ON=1 with ADMIN_API_KEY turns it on.
# Environment: see lib.sh and monitor.sh; MONITOR_SECONDS, AUTO_ROLLBACK (1), TURN_RUNTIME_ON.
set -euo pipefail
# shellcheck source=smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"
# shellcheck source=monitor.sh
source "$ROLLOUT_DIR/monitor.sh"

MONITOR_SECONDS=${MONITOR_SECONDS:-60}
AUTO_ROLLBACK=${AUTO_ROLLBACK:-1}

heading "phase 4: production enable, switch on ($GATEWAY_DIR)"
# A failed check skips the watch: there is no point watching a gateway that already failed.
if enable_switch; then
  monitor_window "$MONITOR_SECONDS"
fi

if ((ROLLOUT_FAILED > 0)); then
  if ((ROLLOUT_STILL_OFF == 1)); then
    # Nothing went on, so there is nothing to roll back: the runtime switch holds futures off.
    heading "production-enable.sh: futures still off (runtime switch off; see the FAIL line above)"
    finish
  fi
  if [[ $AUTO_ROLLBACK == 0 ]]; then
    heading "production enable FAILED; AUTO_ROLLBACK=0, so futures stay as they are: run production-rollback.sh"
    finish
  fi
  heading "production enable FAILED ($ROLLOUT_FAILED checks): rolling back"
  rollback_rc=0
  "$ROLLOUT_DIR/production-rollback.sh" || rollback_rc=$?
  if ((rollback_rc == 0)); then
    heading "production-enable.sh: FAILED and rolled back: futures are off again (FEATURE_FUTURES=false)"
  else
    heading "production-enable.sh: FAILED, and the rollback FAILED too (exit $rollback_rc): act now"
  fi
  exit 1
fi
finish
