#!/usr/bin/env bash
# Phase 2: staging, switch on. Writes FEATURE_FUTURES=true to .env and restarts (so the switch
# survives any later restart), waits for health and runs the on checks. Environment: see lib.sh.
set -euo pipefail
# shellcheck source=smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"

heading "phase 2: staging, switch on ($GATEWAY_DIR)"
enable_switch || true
finish
