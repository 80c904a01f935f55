#!/usr/bin/env bash
# smoke.sh off|on: the playbook's checks against the gateway at GATEWAY_URL (docs/operations.md "Rollout checks").
#   off: health says disabled; futures routes, an unknown route and the /ws/futures upgrade all 404 alike.
#   on:  health says enabled; positions, leverage (isolated 5x on BTCUSDTM, answered as XBTUSDTM:
#        KuCoin is written to only when the symbol is in cross margin or its risk-limit level does not
#        allow 5x, and never cancels orders: with open orders a level change is refused with 409),
#        funding, order validation and the /ws/futures greeting work.
# Sourced by the phase scripts for smoke_off / smoke_on; run alone, it prints its checks and exits
# non-zero when one fails. Environment: see lib.sh (GATEWAY_URL, GATEWAY_API_KEY, GATEWAY_DIR).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMOKE_WS_TIMEOUT_MS=${SMOKE_WS_TIMEOUT_MS:-5000}
SMOKE_INVALID_ORDER='{"symbol":"BTCUSDTM","side":"BUY","type":"MARKET","qty":0}'

check_health_enabled() {
  http_call GET /api/health
  check "GET /api/health is 200" "$(http_observed)" 200
  check_json "health says futures.enabled $1" 'b && b.data && b.data.futures && b.data.futures.enabled' "$1"
}

# The upgrade as curl sends it: the answer's status line is all we need while the switch is off.
ws_upgrade_status() {
  local args=(-sS -o /dev/null -w '%{http_code}' --max-time 5
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
    -H 'Sec-WebSocket-Key: cm9sbG91dC1zbW9rZS1rZXk=')
  if [[ -n ${GATEWAY_API_KEY:-} ]]; then
    printf 'Authorization: Bearer %s\n' "$GATEWAY_API_KEY" >"$ROLLOUT_TMP/auth"
    args+=(-H "@$ROLLOUT_TMP/auth")
  fi
  curl "${args[@]}" "$GATEWAY_URL/ws/futures" 2>/dev/null || true
  rm -f "$ROLLOUT_TMP/auth"
}

# A real WebSocket client (the project's own `ws` package): the upgrade must answer 101 and the
# first message must be futures_connected. Prints what happened; exit status tells the verdict.
ws_first_message() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  ROLLOUT_BEARER=${GATEWAY_API_KEY:-} node -e '
    const [dir, url, timeoutMs] = process.argv.slice(1);
    let WebSocket;
    try { WebSocket = require("module").createRequire(dir + "/")("ws"); }
    catch { console.log(`ws package not found under ${dir}/node_modules`); process.exit(1); }
    const bearer = process.env.ROLLOUT_BEARER;
    const ws = new WebSocket(url, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {}, handshakeTimeout: Number(timeoutMs) });
    let status = "no upgrade";
    const done = (ok, text) => { console.log(text); ws.terminate(); process.exit(ok ? 0 : 1); };
    setTimeout(() => done(false, `${status}, no message within ${timeoutMs} ms`), Number(timeoutMs)).unref();
    ws.on("upgrade", (res) => { status = `HTTP ${res.statusCode}`; });
    ws.on("unexpected-response", (_req, res) => done(false, `HTTP ${res.statusCode}`));
    ws.on("message", (data) => {
      let type;
      try { type = JSON.parse(String(data)).type; } catch { type = "(not JSON)"; }
      done(type === "futures_connected", `${status}, first message ${type}`);
    });
    ws.on("error", (error) => done(false, `${status}, ${error.message}`));
    ws.on("close", (code) => done(false, `${status}, closed ${code} before any message`));
  ' "$GATEWAY_DIR" "${GATEWAY_URL/#http/ws}/ws/futures" "$SMOKE_WS_TIMEOUT_MS"
}

smoke_off() {
  heading "smoke off: the futures surface is gone ($GATEWAY_URL)"
  check_health_enabled false

  http_call GET /api/futures/positions "" "${GATEWAY_API_KEY:-}"
  check_http "GET /api/futures/positions is 404 NOT_FOUND" 404 NOT_FOUND
  cp "$HTTP_BODY" "$ROLLOUT_TMP/positions.json"
  grep -i '^content-type:' "$HTTP_HEADERS" | tr -d '\r' >"$ROLLOUT_TMP/positions.type" || true

  http_call POST /api/futures/orders "$SMOKE_INVALID_ORDER" "${GATEWAY_API_KEY:-}"
  check_http "POST /api/futures/orders is 404 NOT_FOUND, not validated" 404 NOT_FOUND

  http_call GET /api/rollout-smoke-no-such-route
  check_http "GET an unknown route is 404 NOT_FOUND" 404 NOT_FOUND
  local same
  # shellcheck disable=SC2016 # JavaScript, not shell
  same=$(node -e '
    const fs = require("fs");
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return undefined; } };
    const [a, b] = [read(process.argv[1]), read(process.argv[2])];
    if (!a || !b) { console.log("a body is not JSON"); process.exit(); }
    const keys = (o) => Object.keys(o).sort().join(",");
    const diff = ["type", "title", "status", "code", "success"].filter((k) => a[k] !== b[k]);
    if (keys(a) !== keys(b)) diff.push(`members ${keys(a)} vs ${keys(b)}`);
    console.log(diff.length ? `differ: ${diff.join("; ")}` : `same: ${keys(a)}`);
  ' "$ROLLOUT_TMP/positions.json" "$HTTP_BODY")
  check_match "futures 404 has the unknown route's body shape" "$same" '^same: '
  check "futures 404 has the unknown route's content type" \
    "$(grep -i '^content-type:' "$HTTP_HEADERS" | tr -d '\r' || true)" "$(<"$ROLLOUT_TMP/positions.type")"

  check "WS upgrade on /ws/futures is refused with HTTP 404" "$(ws_upgrade_status)" 404
}

smoke_on() {
  heading "smoke on: the futures surface works ($GATEWAY_URL)"
  local key=${GATEWAY_API_KEY:-} ws
  check_health_enabled true

  http_call GET /api/futures/positions "" "$key"
  check_http "GET /api/futures/positions is 200" 200
  check_json "positions envelope has success:true and a data array" 'b && b.success === true && Array.isArray(b.data)' true

  http_call PUT /api/futures/leverage '{"symbol":"BTCUSDTM","leverage":5,"marginMode":"isolated"}' "$key"
  check_http "PUT /api/futures/leverage BTCUSDTM 5x isolated is 200" 200
  check_json "leverage answer names symbol XBTUSDTM" 'b && b.data && b.data.symbol' '"XBTUSDTM"'
  # Says whether a risk-limit level change was needed, i.e. whether KuCoin was asked for one.
  check_match "leverage answer says whether the risk-limit level changed" \
    "$(json_eval "$HTTP_BODY" 'b && b.data && `level ${b.data.riskLimitLevel} ${b.data.riskLimitStatus}`')" '^"level [0-9]+ (unchanged|changed|pending)"$'

  http_call GET /api/futures/funding/BTCUSDTM "" "$key"
  check_http "GET /api/futures/funding/BTCUSDTM is 200" 200

  http_call POST /api/futures/orders "$SMOKE_INVALID_ORDER" "$key"
  check_http "POST /api/futures/orders with qty 0 is 400 VALIDATION_FAILED" 400 VALIDATION_FAILED
  check_match "the 400 names the field qty" "$(json_eval "$HTTP_BODY" '((b && b.errors) || []).map((e) => e.field).join(",")')" '(^|[",])qty([",]|$)'

  if ws=$(ws_first_message); then
    pass "WS /ws/futures upgrades (101) and first sends futures_connected" "$ws"
  else
    fail "WS /ws/futures upgrades (101) and first sends futures_connected" "$ws"
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1:-} in
    off) smoke_off ;;
    on) smoke_on ;;
    *)
      echo "usage: $0 off|on" >&2
      exit 2
      ;;
  esac
  finish
fi
