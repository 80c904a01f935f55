#!/usr/bin/env bash
# Phase 3: production deploy, switch off. The same steps and checks as phase 1, on the production
# host: deploy, FEATURE_FUTURES=false in .env, restart, health, the off checks. Environment: see lib.sh.
set -euo pipefail
# shellcheck source=smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"

heading "phase 3: production deploy, switch off ($GATEWAY_DIR)"
deploy_switch_off
finish
