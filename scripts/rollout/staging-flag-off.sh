#!/usr/bin/env bash
# Phase 1: staging, switch off. Deploys (git, npm ci, build), writes FEATURE_FUTURES=false to .env,
# restarts, waits for health and runs the off checks. Environment: see lib.sh.
set -euo pipefail
# shellcheck source=smoke.sh
source "$(dirname "${BASH_SOURCE[0]}")/smoke.sh"

heading "phase 1: staging deploy, switch off ($GATEWAY_DIR)"
deploy_switch_off
finish
