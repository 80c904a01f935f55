// Generated from openapi.yaml by `npm run gen` (scripts/gen.ts). Do not edit: change openapi.yaml and regenerate.

export interface paths {
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness, version, kill-switch state and upstream configuration
         * @description Always 200 while the process serves requests, whatever the kill switch says. Never returns secrets.
         *     `status` is `degraded` while `REDIS_URL` is set and Redis is unreachable: the replica runs on
         *     the kill switch it last knew and refuses flips (503). `futures` is the kill switch:
         *     `environment` (`FEATURE_FUTURES`), `runtime` (the admin switch), and `enabled`, both of them.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This contract, as JSON */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/asyncapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The WebSocket contract, as JSON */
        get: operations["getAsyncApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Interactive reference of the REST operations, with links to the WebSocket reference and the error codes
         * @description Swagger UI rendering of `/api/openapi.json` (parameters, schemas, examples, and "Try it out"
         *     calls sent to this gateway), followed by the error catalogue. Every file it loads comes from
         *     this gateway (`/api/docs/assets/*`), so it works on a closed network.
         */
        get: operations["getDocs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/docs/websocket": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Human-readable reference of the WebSocket `/ws/futures`
         * @description The AsyncAPI contract (`/api/asyncapi.json`) rendered as a page: the channel, its close codes,
         *     and every message in both directions with its payload schema and examples.
         */
        get: operations["getWebSocketDocs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/docs/assets/{asset}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A static file of the reference page
         * @description Swagger UI's script and style sheet (from the `swagger-ui-dist` package installed with the
         *     gateway), the page's own start-up script and style sheet, and its icon. Any other name
         *     answers `404` `NOT_FOUND`.
         */
        get: operations["getDocsAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Prometheus text format 0.0.4. Families include `gateway_http_requests_total{method,route,status}`,
         *     `gateway_http_request_duration_seconds`, `gateway_rate_limit_hits_total`,
         *     `gateway_futures_switch_enabled` (effective), `gateway_futures_switch_environment`,
         *     `gateway_futures_switch_runtime`, `gateway_futures_switch_flips_total`,
         *     `gateway_futures_switch_changes_heard_total` and the process defaults.
         *     Not rate-limited, so a scraper never loses a sample.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/futures-switch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read the kill switch */
        get: operations["getFuturesSwitch"];
        /**
         * Flip the kill switch at run time
         * @description Takes effect for the next request. Turning it off closes every open `/ws/futures` socket with
         *     close code 4404 and refuses new upgrades with HTTP 404. Every flip (also a no-op one) is logged
         *     with who (the admin key's fingerprint), when, the old and the new value and the reason, and counted in
         *     `gateway_futures_switch_flips_total`. Turning it on is refused (409 `UNSAFE_EXPOSURE`) while the
         *     gateway listens beyond loopback without gateway API keys, and (409 `FUTURES_OFF_BY_ENVIRONMENT`)
         *     while `FEATURE_FUTURES=false`: the environment's off cannot be overridden at run time.
         *
         *     This sets the runtime switch, which outlives a restart: kept in `STATE_DIR/switch.json`, or with
         *     `REDIS_URL` in Redis, shared by every replica (each applies a flip within 100 ms and closes its
         *     sockets). With `REDIS_URL` set and Redis unreachable the flip is refused (503
         *     `SHARED_STATE_UNAVAILABLE`) and nothing changes.
         */
        put: operations["setFuturesSwitch"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/futures-switch/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The last 100 flips of the runtime kill switch
         * @description Newest first, with who, when, why and which replica. With `REDIS_URL`, every replica's flips.
         */
        get: operations["getFuturesSwitchHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/positions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open positions
         * @description Upstream: `GET /api/v1/positions`, or none when the live feed's state is current (`X-Served-From: stream`). Needs KuCoin credentials. Sorted by symbol.
         */
        get: operations["listPositions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/positions/{symbol}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        /**
         * One position
         * @description Upstream: `GET /api/v1/position?symbol=`. A flat position KuCoin reports answers 200 with `qty: 0` and `side: FLAT`; no position object at all is 404 `POSITION_NOT_FOUND`. Needs KuCoin credentials.
         */
        get: operations["getPosition"];
        put?: never;
        post?: never;
        /**
         * Close a position at market
         * @description Upstream: `POST /api/v1/orders` with `closeOrder: true` and `type: market`. The order's
         *     `clientOid` comes from `Idempotency-Key` or is generated; a repeated key replays the first
         *     outcome without a second upstream call. Never retried blindly: after a timeout or 5xx the
         *     gateway looks the order up by `clientOid` (and among the done orders) before answering. An
         *     order KuCoin holds under the key that is not a close of this symbol is 409
         *     `IDEMPOTENCY_CONFLICT` with it in `existingOrder`. No position answers 404
         *     `POSITION_NOT_FOUND`. Needs KuCoin credentials.
         */
        delete: operations["closePosition"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/leverage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set the margin mode and leverage of a symbol
         * @description Everything is checked before the first write: an integer leverage within the symbol's maximum
         *     (and the risk-limit level's, isolated), the margin mode, an explicit `riskLimitLevel`.
         *
         *     `cross`: switch the symbol to cross margin if needed (`POST /api/v2/position/changeMarginMode`;
         *     KuCoin refuses while orders or positions are open: 409 `MARGIN_MODE_CHANGE_BLOCKED`), then
         *     `POST /api/v2/changeCrossUserLeverage` with the leverage as a string holding an integer. KuCoin's
         *     `data: false` is 422 `UPSTREAM_REJECTED`. When the answer to either write is lost (timeout, 5xx),
         *     the value is read back before answering.
         *
         *     `isolated`: KuCoin has no isolated leverage setting; leverage travels with each order and is capped
         *     by the symbol's risk-limit level (`GET /api/v1/contracts/risk-limit/{symbol}`,
         *     https://www.kucoin.com/docs-new/api-3470263). The leverage is remembered (durably, under
         *     `STATE_DIR`) as the default for later isolated orders on the symbol.
         *     - When the position's current level (`riskLimitLevel` of `GET /api/v1/position`; level 1 when
         *       KuCoin reports none) already allows the leverage, nothing is sent to KuCoin:
         *       `riskLimitLevelChanged: false`.
         *     - Otherwise the gateway asks for the allowed level nearest the current one (or the level given in
         *       `riskLimitLevel`) with `POST /api/v1/position/risk-limit-level/change`
         *       (https://www.kucoin.com/docs-new/api-3470264). A higher level allows a larger position but
         *       carries a larger maintenance margin (liquidation nearer), and KuCoin cancels every open order
         *       of the symbol on a level change: with open orders the answer is 409
         *       `RISK_LIMIT_CHANGE_CANCELS_ORDERS` listing them (`openOrders`), unless `cancelOpenOrders` is true.
         *     - KuCoin's answer only means "submitted"; the outcome is the private push
         *       `position.adjustRiskLimit` on `/contract/position:{symbol}`. The gateway waits for it (or sees
         *       the position's level change) within `UPSTREAM_DEADLINE_MS`: success is 200
         *       `riskLimitLevelChanged: true`; failure is 422 `UPSTREAM_REJECTED` with KuCoin's message; no
         *       outcome in time is 202 with `riskLimitStatus: pending` and the level asked for.
         *
         *     If a step fails after the margin mode was switched in the same request, the mode is switched
         *     back; when that too fails, the error's detail says the mode was left switched.
         *     Needs KuCoin credentials.
         */
        put: operations["setLeverage"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/funding/{symbol}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        /**
         * Current funding rate of a symbol
         * @description Upstream: `GET /api/v1/funding-rate/{symbol}/current` (public: no KuCoin credentials needed).
         */
        get: operations["getFundingRate"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/orders": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open orders
         * @description Upstream: `GET /api/v1/orders?status=active`, or none when the live feed's state is current (`X-Served-From: stream`). Needs KuCoin credentials. Newest first.
         */
        get: operations["listOrders"];
        put?: never;
        /**
         * Place an order
         * @description Upstream: `POST /api/v1/orders`. `clientOid` comes from the body, else the `Idempotency-Key`
         *     header, else is generated. A repeated request with the same key returns the first outcome
         *     (header `Idempotent-Replayed: true`) and sends nothing upstream; the same key with a different
         *     body is 409 `IDEMPOTENCY_CONFLICT`. An order KuCoin already holds under the `clientOid` (its
         *     `300018`, e.g. after a gateway restart) is answered only if it is the same order (symbol, side,
         *     type, size, price, reduce-only): as KuCoin holds it, with `replayed: true`; another order is 409
         *     `IDEMPOTENCY_CONFLICT` with that order in `existingOrder`. Never retried blindly: after a
         *     timeout or 5xx the gateway looks the order up by `clientOid` and among the symbol's done orders,
         *     repeatedly within the deadline; found (and the same order) is a success, not found is 502
         *     `ORDER_UNCONFIRMED` carrying the `clientOid` to reconcile with. A retry is not known to be safe
         *     (KuCoin does not say how long it refuses a repeated `clientOid`); the same key on this gateway
         *     process is reconciled first, and placed only when nothing is found after the first request's
         *     deadline plus one `UPSTREAM_TIMEOUT_MS`. Success means KuCoin's matching engine accepted the
         *     order, not that it filled. Needs KuCoin credentials.
         */
        post: operations["createOrder"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/orders/{orderId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description KuCoin's order id. */
                orderId: string;
            };
            cookie?: never;
        };
        /**
         * One order
         * @description Upstream: `GET /api/v1/orders/{orderId}`. An id KuCoin does not know (its `100001` `error.getOrder.orderNotExist`) is 404 `ORDER_NOT_FOUND`. Needs KuCoin credentials.
         */
        get: operations["getOrder"];
        put?: never;
        post?: never;
        /**
         * Cancel an order
         * @description Upstream: `DELETE /api/v1/orders/{orderId}`. An order that is already done is 409 `ORDER_NOT_CANCELABLE`; an id KuCoin does not know is 404 `ORDER_NOT_FOUND`. Never retried: when KuCoin's answer is lost (timeout, 5xx, network) the order is read back before answering: cancelled is 200 with `reconciled: true`, filled is 409 `ORDER_NOT_CANCELABLE`, still open or unreadable is 502 `CANCEL_UNCONFIRMED`. Needs KuCoin credentials.
         */
        delete: operations["cancelOrder"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/account": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Account overview
         * @description Upstream: `GET /api/v1/account-overview?currency=`. KuCoin defaults to the XBT account; the gateway defaults to USDT. Needs KuCoin credentials.
         */
        get: operations["getAccount"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/contracts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Tradable contracts
         * @description Upstream: `GET /api/v1/contracts/active` (public), cached for 60 s: sizing rules are current, market fields (mark, index, funding) may be up to a minute old.
         */
        get: operations["listContracts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/futures/contracts/{symbol}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        /**
         * One contract
         * @description Upstream: `GET /api/v1/contracts/{symbol}` (public), read fresh so its market fields are current; the symbol is first checked against the cached contract list.
         */
        get: operations["getContract"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description Epoch milliseconds.
         * @example 1764200000000
         */
        Timestamp: number;
        /**
         * @description A symbol in any accepted spelling; mapped to the KuCoin id.
         * @example BTCUSDTM
         */
        SymbolInput: string;
        /**
         * @description The canonical KuCoin contract id (`XBTUSDTM`).
         * @example XBTUSDTM
         */
        Symbol: string;
        /**
         * @description An asset as users know it (`BTC`, not `XBT`).
         * @example BTC
         */
        Asset: string;
        /** @enum {string} */
        Side: "BUY" | "SELL";
        /** @enum {string} */
        OrderType: "MARKET" | "LIMIT";
        /**
         * @description An order's type as KuCoin reports it, upper-cased. The documented ones (KuCoin's Get Order
         *     List `type`, https://www.kucoin.com/docs-new/api-3470244) are `LIMIT`, `MARKET`,
         *     `LIMIT_STOP`, `MARKET_STOP`, `OCO_LIMIT` and `OCO_STOP`; only `LIMIT` and `MARKET` can be
         *     placed through the gateway. The set is open: a type KuCoin adds later is passed on
         *     upper-cased (letters, digits, `_`) rather than failing the order, the list or the live
         *     feed's snapshot, so clients should treat an unknown value as "some other kind of order".
         */
        OrderKind: ("LIMIT" | "MARKET" | "LIMIT_STOP" | "MARKET_STOP" | "OCO_LIMIT" | "OCO_STOP") | string;
        /**
         * @description Our spelling of KuCoin's `ISOLATED`/`CROSS`.
         * @enum {string}
         */
        MarginMode: "isolated" | "cross";
        /**
         * @description Either case accepted.
         * @enum {string}
         */
        MarginModeInput: "isolated" | "cross" | "ISOLATED" | "CROSS";
        SuccessBase: {
            /** @constant */
            success: true;
            timestamp: components["schemas"]["Timestamp"];
        };
        Health: {
            /**
             * @description `degraded` while `REDIS_URL` is set and Redis is unreachable.
             * @enum {string}
             */
            status: "ok" | "degraded";
            /**
             * @description The shared Redis: `unused` without `REDIS_URL`.
             * @enum {string}
             */
            redis: "unused" | "up" | "down";
            version: string;
            uptimeSeconds: number;
            futures: components["schemas"]["FuturesSwitchSummary"];
            upstream: {
                /** @constant */
                provider: "kucoin";
                /** @description `EXCHANGE_KUCOIN` */
                enabled: boolean;
                /** @description `FUTURES_BASE_URL` */
                baseUrl: string;
                /** @description All three KuCoin credentials are set. The values are never returned. */
                credentialsConfigured: boolean;
                /** @enum {string} */
                keyVersion: "2" | "3";
            };
        };
        HealthEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Health"];
        };
        FuturesSwitchSummary: {
            /** @description The effective value: `environment` and `runtime`. Every futures route and socket follows it. */
            enabled: boolean;
            /** @description `FEATURE_FUTURES` of this process; false holds futures off whatever `runtime` says. */
            environment: boolean;
            /** @description The runtime switch set by `PUT /api/admin/futures-switch` (on until turned off; kept across restarts). Null while not known (Redis unreachable since this replica started). */
            runtime: boolean | null;
            /** @description When the runtime switch was last flipped (epoch ms); null when never. */
            changedAt: number | null;
            /** @description Who flipped it last (`admin:<key fingerprint>`); null when never. */
            changedBy: string | null;
            /** @description The reason given with the flip. */
            reason: string | null;
            /** @description The replica that served the last flip (`hostname:pid`). */
            replica: string | null;
        };
        FuturesSwitchState: {
            /** @description The effective value: `environment` and `runtime`. */
            enabled: boolean;
            /** @description `FEATURE_FUTURES` of this process. */
            environment: boolean;
            /** @description The runtime switch; null while not known (Redis unreachable since start). */
            runtime: boolean | null;
            /** @description The runtime value before the last flip; null when never flipped. */
            previous: boolean | null;
            changedAt: number | null;
            changedBy: string | null;
            reason: string | null;
            /** @description The replica that served the last flip (`hostname:pid`). */
            replica: string | null;
            /** @description `/ws/futures` sockets this replica closed at the last change to off. */
            closedSockets: number;
        };
        FuturesSwitchFlip: {
            /** @description The runtime value set. */
            enabled: boolean;
            /** @description The runtime value the replica knew before; null when it did not know. */
            previous: boolean | null;
            changedAt: number;
            changedBy: string;
            reason: string | null;
            replica: string;
        };
        FuturesSwitchHistoryEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["FuturesSwitchFlip"][];
        };
        FuturesSwitchEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["FuturesSwitchState"];
        };
        FuturesSwitchChange: {
            enabled: boolean;
            /** @description Logged with the flip. */
            reason?: string;
        };
        /** @description A position. Quantities are in contracts; `baseQty` is the same in the base asset. */
        Position: {
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            settleCurrency: components["schemas"]["Asset"];
            marginMode: components["schemas"]["MarginMode"];
            /**
             * @description From the sign of KuCoin's `currentQty`; FLAT when 0.
             * @enum {string}
             */
            side: "LONG" | "SHORT" | "FLAT";
            /** @description Contracts, signed: > 0 long, < 0 short (KuCoin `currentQty`). */
            qty: number;
            /** @description `qty` × multiplier, in the base asset (inverse contracts: USD). */
            baseQty: number;
            /** @description `avgEntryPrice` */
            entryPrice: number;
            markPrice: number;
            liquidationPrice: number | null;
            /** @description Effective leverage (`realLeverage` when isolated). */
            leverage: number;
            /** @description `posMargin`, in the settlement currency. */
            margin: number;
            unrealisedPnl: number;
            /** @description Unrealised PnL as a ratio of the position cost (0.0218 = 2.18 %), KuCoin `unrealisedPnlPcnt`. */
            unrealisedPnlPct: number;
            realisedPnl: number;
            /** @description Isolated only; null in cross mode, and when KuCoin does not report it. */
            riskLimitLevel: number | null;
            isOpen: boolean;
            /** @description Epoch ms; null when flat. */
            openedAt: number | null;
            updatedAt: components["schemas"]["Timestamp"];
        };
        PositionEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Position"];
        };
        PositionListEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Position"][];
        };
        ClosePositionResult: {
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            orderId: string;
            clientOid: string;
            replayed: boolean;
        };
        ClosePositionEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["ClosePositionResult"];
        };
        LeverageChange: {
            symbol: components["schemas"]["SymbolInput"];
            /** @description A whole number: KuCoin takes cross leverage as a string holding an integer and order leverage as an integer. At most the symbol's `maxLeverage` and, with `riskLimitLevel`, that level's (400 `LEVERAGE_TOO_HIGH` otherwise). */
            leverage: number;
            marginMode: components["schemas"]["MarginModeInput"];
            /** @description Isolated only: the risk-limit level to move to (a larger position allowed, a larger maintenance margin). Default: the current level when it allows the leverage, else the allowed level nearest it. */
            riskLimitLevel?: number;
            /** @description Isolated only (default false): allow a risk-limit level change although KuCoin will cancel the symbol's open orders (409 `RISK_LIMIT_CHANGE_CANCELS_ORDERS` otherwise). */
            cancelOpenOrders?: boolean;
        };
        LeverageResult: {
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            marginMode: components["schemas"]["MarginMode"];
            leverage: number;
            /** @description Isolated: the level the position is at (200), or the level asked for (202). Null in cross mode. */
            riskLimitLevel: number | null;
            /** @description True when KuCoin reported the level change done in this request. */
            riskLimitLevelChanged: boolean;
            /**
             * @description `unchanged`: the current level allows the leverage, nothing was sent. `changed`: KuCoin reported the change done. `pending`: submitted, no outcome before the deadline (202). Null in cross mode.
             * @enum {string|null}
             */
            riskLimitStatus: "unchanged" | "changed" | "pending" | null;
        };
        LeverageEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["LeverageResult"];
        };
        FundingRate: {
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            /** @description KuCoin's funding index id, e.g. `.XBTUSDTMFPI8H`. */
            fundingRateSymbol: string;
            /** @description The current funding rate (0.0001 = 0.01 %). */
            rate: number;
            predictedRate: number | null;
            rateCap: number | null;
            rateFloor: number | null;
            /** @description Funding interval (KuCoin `granularity`), e.g. 28800000 for 8 h. */
            intervalMs: number;
            /** @description Epoch ms (KuCoin `timePoint`). */
            previousFundingTime: number | null;
            /** @description Epoch ms of the next settlement (KuCoin `fundingTime`). */
            nextFundingTime: number | null;
        };
        FundingRateEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["FundingRate"];
        };
        OrderRequest: {
            symbol: components["schemas"]["SymbolInput"];
            side: components["schemas"]["Side"];
            type: components["schemas"]["OrderType"];
            /** @description In `qtyUnit` (contracts unless said otherwise). */
            qty: number;
            /**
             * @description `contracts` when omitted. `base` and `quote` are converted with the contract's multiplier and lot size; inverse contracts take contracts only.
             * @enum {string}
             */
            qtyUnit?: "contracts" | "base" | "quote";
            /** @description LIMIT only; a multiple of the tick size. */
            price?: number;
            /** @description A whole number (KuCoin's Add Order types it integer). Isolated orders; defaults to the leverage set with PUT /api/futures/leverage, else 1. */
            leverage?: number;
            marginMode?: components["schemas"]["MarginModeInput"];
            /**
             * @description LIMIT only (KuCoin: "Optional for type is 'limit' order"); a MARKET order with it is 400 `VALIDATION_FAILED` naming the field. KuCoin's default, GTC, when omitted.
             * @enum {string}
             */
            timeInForce?: "GTC" | "IOC";
            /** @description LIMIT only; a MARKET order with it is 400 `VALIDATION_FAILED` naming the field. Not post-only when omitted. */
            postOnly?: boolean;
            /** @description Not reduce-only when omitted. */
            reduceOnly?: boolean;
            /** @description Your id for the order; overrides `Idempotency-Key`. */
            clientOid?: string;
        };
        OrderAccepted: {
            orderId: string;
            clientOid: string;
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            side: components["schemas"]["Side"];
            type: components["schemas"]["OrderType"];
            /** @description Contracts actually sent to KuCoin. */
            qty: number;
            price: number | null;
            replayed: boolean;
        };
        OrderAcceptedEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["OrderAccepted"];
        };
        Order: {
            orderId: string;
            clientOid: string | null;
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            side: components["schemas"]["Side"];
            type: components["schemas"]["OrderKind"];
            /**
             * @description `open` while resting; `filled` when done with everything filled; `canceled` when done otherwise (partly filled orders report `filledQty`).
             * @enum {string}
             */
            status: "open" | "filled" | "canceled";
            /** @description null for `MARKET` and `MARKET_STOP` orders. */
            price: number | null;
            /** @description Contracts. */
            qty: number;
            filledQty: number;
            /** @description Contracts still resting: `qty - filledQty` while open, 0 once done. */
            remainingQty: number;
            avgFillPrice: number | null;
            marginMode: components["schemas"]["MarginMode"];
            leverage: number | null;
            /**
             * @description As KuCoin reports it; `RPI` (retail price improvement) orders cannot be placed through the gateway.
             * @enum {string}
             */
            timeInForce: "GTC" | "IOC" | "RPI";
            reduceOnly: boolean;
            closeOrder: boolean;
            postOnly: boolean;
            createdAt: components["schemas"]["Timestamp"];
            updatedAt: components["schemas"]["Timestamp"];
        };
        OrderEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Order"];
        };
        OrderPage: {
            page: number;
            pageSize: number;
            total: number;
            items: components["schemas"]["Order"][];
        };
        OrderPageEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["OrderPage"];
        };
        CancelResult: {
            cancelledOrderIds: string[];
            /**
             * @description Present when KuCoin's answer to the cancel was lost and the order, read back afterwards, was cancelled.
             * @constant
             */
            reconciled?: true;
        };
        CancelEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["CancelResult"];
        };
        Account: {
            currency: components["schemas"]["Asset"];
            /** @description `accountEquity` = marginBalance + unrealisedPnl */
            equity: number;
            unrealisedPnl: number;
            marginBalance: number;
            positionMargin: number;
            orderMargin: number;
            frozenFunds: number;
            availableBalance: number;
            /** @description Cross-margin risk rate. */
            riskRatio: number;
            maxWithdrawAmount: number;
        };
        AccountEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Account"];
        };
        Contract: {
            symbol: components["schemas"]["Symbol"];
            baseAsset: components["schemas"]["Asset"];
            quoteCurrency: components["schemas"]["Asset"];
            settleCurrency: components["schemas"]["Asset"];
            isInverse: boolean;
            /** @description Base asset per contract (absolute value of KuCoin's; inverse: USD per contract). */
            multiplier: number;
            lotSize: number;
            tickSize: number;
            maxOrderQty: number;
            maxLeverage: number;
            /** @description KuCoin status: `Open`, `Paused`, `CancelOnly`, ... */
            status: string;
            markPrice: number | null;
            indexPrice: number | null;
            fundingRate: number | null;
        };
        ContractEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Contract"];
        };
        ContractListEnvelope: components["schemas"]["SuccessBase"] & {
            data: components["schemas"]["Contract"][];
        };
        /**
         * @description The error catalogue. Every problem's `code` is one of these, and each code always comes with
         *     the same HTTP status (`x-error-catalogue` lists them with their titles; the gateway's
         *     `src/errors.ts` is checked against it in CI). The `kucoin` lists say which KuCoin
         *     business codes become which of ours. Two are not the caller's doing and become 502: `415000`
         *     and `404000` (KuCoin refusing the request's form or path would be a gateway bug or an API
         *     change). `100001` is `UPSTREAM_INVALID_REQUEST` except on a read or cancel of one order
         *     whose message is `error.getOrder.orderNotExist`: KuCoin's answer for an id it does not know,
         *     which is `ORDER_NOT_FOUND`. `400002` (timestamp out of tolerance) is first answered by resyncing the clock with
         *     KuCoin's server time and retrying once; only a second `400002` becomes `UPSTREAM_ERROR`.
         * @enum {string}
         */
        ErrorCode: "VALIDATION_FAILED" | "MALFORMED_JSON" | "LEVERAGE_TOO_HIGH" | "UPSTREAM_INVALID_REQUEST" | "UNAUTHORIZED" | "CREDENTIALS_MISSING" | "CREDENTIALS_REJECTED" | "FORBIDDEN" | "UPSTREAM_FORBIDDEN" | "ORIGIN_NOT_ALLOWED" | "NOT_FOUND" | "UNKNOWN_SYMBOL" | "POSITION_NOT_FOUND" | "ORDER_NOT_FOUND" | "METHOD_NOT_ALLOWED" | "MARGIN_MODE_MISMATCH" | "POSITION_MODE_MISMATCH" | "MARGIN_MODE_CHANGE_BLOCKED" | "RISK_LIMIT_CHANGE_CANCELS_ORDERS" | "ORDER_NOT_CANCELABLE" | "DUPLICATE_CLIENT_OID" | "IDEMPOTENCY_CONFLICT" | "POSITION_BUSY" | "UNSAFE_EXPOSURE" | "FUTURES_OFF_BY_ENVIRONMENT" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "MISDIRECTED_REQUEST" | "INSUFFICIENT_BALANCE" | "PRICE_OUT_OF_BAND" | "ORDER_LIMIT_EXCEEDED" | "RISK_LIMIT_EXCEEDED" | "UPSTREAM_REJECTED" | "RATE_LIMITED" | "UPSTREAM_RATE_LIMITED" | "INTERNAL_ERROR" | "NOT_IMPLEMENTED" | "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE" | "ORDER_UNCONFIRMED" | "CANCEL_UNCONFIRMED" | "UPSTREAM_UNAVAILABLE" | "SHARED_STATE_UNAVAILABLE" | "UPSTREAM_TIMEOUT";
        FieldError: {
            /**
             * @description Where the field is.
             * @enum {string}
             */
            location: "body" | "query" | "path" | "header";
            /** @description The field's path, dot-separated (`qty`, `items.0.price`); empty for the whole body. */
            field: string;
            message: string;
        };
        /** @description An RFC 9457 problem with the gateway's members. */
        Problem: {
            /** @description A URN naming the problem type: `urn:futures-gateway:problem:<code in kebab case>`. */
            type: string;
            title: string;
            status: number;
            detail: string;
            /** @description The request path. */
            instance?: string;
            /** @constant */
            success: false;
            code: components["schemas"]["ErrorCode"];
            errors?: components["schemas"]["FieldError"][];
            requestId: string;
            timestamp: components["schemas"]["Timestamp"];
            /** @description What KuCoin said, when the problem comes from KuCoin. */
            upstream?: {
                /** @description KuCoin's business code, e.g. `300003`, or `HTTP <status>`. */
                code: string;
                message: string;
            };
            /** @description With `ORDER_UNCONFIRMED` and order conflicts: the order's clientOid. */
            clientOid?: string;
            /** @description With `RISK_LIMIT_CHANGE_CANCELS_ORDERS`: the open orders of the symbol KuCoin would cancel. */
            openOrders?: {
                orderId: string;
                clientOid: string | null;
            }[];
            /** @description With `IDEMPOTENCY_CONFLICT` from KuCoin's own memory of the clientOid (`300018`, or an order found after a lost answer) the order KuCoin holds under it, which is not this request's order. */
            existingOrder?: components["schemas"]["Order"];
            /** @description With 429 and 503. */
            retryAfterSeconds?: number;
        };
        /** @description The problem of a `400` answer of the operations that use the `BadRequest` response: `code` is one of these. */
        BadRequestProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "VALIDATION_FAILED" | "LEVERAGE_TOO_HIGH" | "UPSTREAM_INVALID_REQUEST";
        };
        /** @description The problem of a `400` answer of the operations that use the `BadRequestWithBody` response: `code` is one of these. */
        BadRequestWithBodyProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "VALIDATION_FAILED" | "MALFORMED_JSON" | "LEVERAGE_TOO_HIGH" | "UPSTREAM_INVALID_REQUEST";
        };
        /** @description The problem of a `400` answer of the operations that use the `BadRequestLocal` response: `code` is one of these. */
        BadRequestLocalProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "VALIDATION_FAILED";
        };
        /** @description The problem of a `400` answer of the operations that use the `BadRequestLocalBody` response: `code` is one of these. */
        BadRequestLocalBodyProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "VALIDATION_FAILED" | "MALFORMED_JSON";
        };
        /** @description The problem of a `401` answer of the operations that use the `Unauthorized` response: `code` is one of these. */
        UnauthorizedProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UNAUTHORIZED" | "CREDENTIALS_MISSING" | "CREDENTIALS_REJECTED";
        };
        /** @description The problem of a `401` answer of the operations that use the `UnauthorizedAdmin` response: `code` is one of these. */
        UnauthorizedAdminProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UNAUTHORIZED";
        };
        /** @description The problem of a `403` answer of the operations that use the `Forbidden` response: `code` is one of these. */
        ForbiddenProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_FORBIDDEN" | "ORIGIN_NOT_ALLOWED";
        };
        /** @description The problem of a `403` answer of the operations that use the `ForbiddenAdmin` response: `code` is one of these. */
        ForbiddenAdminProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "FORBIDDEN";
        };
        /** @description The problem of a `404` answer of the operations that use the `NotFound` response: `code` is one of these. */
        NotFoundProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "NOT_FOUND" | "UNKNOWN_SYMBOL" | "POSITION_NOT_FOUND";
        };
        /** @description The problem of a `404` answer of the operations that use the `NotFoundOrder` response: `code` is one of these. */
        NotFoundOrderProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "NOT_FOUND" | "UNKNOWN_SYMBOL" | "POSITION_NOT_FOUND" | "ORDER_NOT_FOUND";
        };
        /** @description The problem of a `404` answer of the operations that use the `NotFoundAsset` response: `code` is one of these. */
        NotFoundAssetProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "NOT_FOUND";
        };
        /** @description The problem of a `405` answer of the operations that use the `MethodNotAllowed` response: `code` is one of these. */
        MethodNotAllowedProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "METHOD_NOT_ALLOWED";
        };
        /** @description The problem of a `421` answer of the operations that use the `MisdirectedRequest` response: `code` is one of these. */
        MisdirectedRequestProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "MISDIRECTED_REQUEST";
        };
        /** @description The problem of a `409` answer of the operations that use the `Conflict` response: `code` is one of these. */
        ConflictProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "MARGIN_MODE_MISMATCH" | "POSITION_MODE_MISMATCH" | "MARGIN_MODE_CHANGE_BLOCKED" | "ORDER_NOT_CANCELABLE" | "DUPLICATE_CLIENT_OID" | "POSITION_BUSY";
        };
        /** @description The problem of a `409` answer of the operations that use the `ConflictOrder` response: `code` is one of these. */
        ConflictOrderProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "MARGIN_MODE_MISMATCH" | "POSITION_MODE_MISMATCH" | "MARGIN_MODE_CHANGE_BLOCKED" | "ORDER_NOT_CANCELABLE" | "DUPLICATE_CLIENT_OID" | "POSITION_BUSY" | "IDEMPOTENCY_CONFLICT";
        };
        /** @description The problem of a `409` answer of the operations that use the `ConflictLeverage` response: `code` is one of these. */
        ConflictLeverageProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "MARGIN_MODE_MISMATCH" | "POSITION_MODE_MISMATCH" | "MARGIN_MODE_CHANGE_BLOCKED" | "ORDER_NOT_CANCELABLE" | "DUPLICATE_CLIENT_OID" | "POSITION_BUSY" | "RISK_LIMIT_CHANGE_CANCELS_ORDERS";
        };
        /** @description The problem of a `409` answer of the operations that use the `ConflictSwitch` response: `code` is one of these. */
        ConflictSwitchProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UNSAFE_EXPOSURE" | "FUTURES_OFF_BY_ENVIRONMENT";
        };
        /** @description The problem of a `413` answer of the operations that use the `PayloadTooLarge` response: `code` is one of these. */
        PayloadTooLargeProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "PAYLOAD_TOO_LARGE";
        };
        /** @description The problem of a `415` answer of the operations that use the `UnsupportedMediaType` response: `code` is one of these. */
        UnsupportedMediaTypeProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UNSUPPORTED_MEDIA_TYPE";
        };
        /** @description The problem of a `422` answer of the operations that use the `Unprocessable` response: `code` is one of these. */
        UnprocessableProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "INSUFFICIENT_BALANCE" | "PRICE_OUT_OF_BAND" | "ORDER_LIMIT_EXCEEDED" | "RISK_LIMIT_EXCEEDED" | "UPSTREAM_REJECTED";
        };
        /** @description The problem of a `429` answer of the operations that use the `RateLimited` response: `code` is one of these. */
        RateLimitedProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "RATE_LIMITED" | "UPSTREAM_RATE_LIMITED";
        };
        /** @description The problem of a `429` answer of the operations that use the `RateLimitedLocal` response: `code` is one of these. */
        RateLimitedLocalProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "RATE_LIMITED";
        };
        /** @description The problem of a `500` answer of the operations that use the `InternalError` response: `code` is one of these. */
        InternalErrorProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "INTERNAL_ERROR";
        };
        /** @description The problem of a `501` answer of the operations that use the `NotImplemented` response: `code` is one of these. */
        NotImplementedProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "NOT_IMPLEMENTED";
        };
        /** @description The problem of a `502` answer of the operations that use the `BadGateway` response: `code` is one of these. */
        BadGatewayProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE";
        };
        /** @description The problem of a `502` answer of the operations that use the `BadGatewayOrder` response: `code` is one of these. */
        BadGatewayOrderProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE" | "ORDER_UNCONFIRMED";
        };
        /** @description The problem of a `502` answer of the operations that use the `BadGatewayCancel` response: `code` is one of these. */
        BadGatewayCancelProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE" | "CANCEL_UNCONFIRMED";
        };
        /** @description The problem of a `503` answer of the operations that use the `ServiceUnavailable` response: `code` is one of these. */
        ServiceUnavailableProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_UNAVAILABLE";
        };
        /** @description The problem of a `503` answer of the operations that use the `SharedStateUnavailable` response: `code` is one of these. */
        SharedStateUnavailableProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "SHARED_STATE_UNAVAILABLE";
        };
        /** @description The problem of a `504` answer of the operations that use the `GatewayTimeout` response: `code` is one of these. */
        GatewayTimeoutProblem: components["schemas"]["Problem"] & {
            /** @enum {string} */
            code: "UPSTREAM_TIMEOUT";
        };
    };
    responses: {
        /** @description The request is invalid: `VALIDATION_FAILED` (each bad field in `errors`; also a query parameter the operation does not define, or a path that is not valid percent-encoding), `LEVERAGE_TOO_HIGH`, `UPSTREAM_INVALID_REQUEST` (KuCoin refused the parameters). */
        BadRequest: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadRequestProblem"];
            };
        };
        /**
         * @description The request is invalid: `VALIDATION_FAILED` (each bad field in `errors`; also a query
         *     parameter the operation does not define, or a path that is not valid percent-encoding),
         *     `MALFORMED_JSON`, `LEVERAGE_TOO_HIGH`, `UPSTREAM_INVALID_REQUEST`.
         */
        BadRequestWithBody: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadRequestWithBodyProblem"];
            };
        };
        /** @description `VALIDATION_FAILED`: a query parameter the operation does not define, or a path that is not valid percent-encoding (each in `errors`). */
        BadRequestLocal: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadRequestLocalProblem"];
            };
        };
        /** @description The request is invalid: `VALIDATION_FAILED` (each bad field in `errors`) or `MALFORMED_JSON`. */
        BadRequestLocalBody: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadRequestLocalBodyProblem"];
            };
        };
        /** @description `UNAUTHORIZED` (missing or wrong gateway/admin key), `CREDENTIALS_MISSING` (no KuCoin credentials configured), `CREDENTIALS_REJECTED` (KuCoin refused them). */
        Unauthorized: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                /** @description Present with `UNAUTHORIZED`: `Bearer realm="futures-gateway"`. */
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["UnauthorizedProblem"];
            };
        };
        /** @description `UNAUTHORIZED`: a missing or wrong admin key. */
        UnauthorizedAdmin: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                /** @description Present with `UNAUTHORIZED`: `Bearer realm="futures-gateway"`. */
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["UnauthorizedAdminProblem"];
            };
        };
        /** @description `UPSTREAM_FORBIDDEN` (KuCoin: IP not whitelisted, key lacks permission, account frozen), `ORIGIN_NOT_ALLOWED` (the request carries a browser `Origin` that is neither the gateway's own nor in `ALLOWED_ORIGINS`; checked after the kill switch, before the API key, and nothing is sent to KuCoin). */
        Forbidden: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ForbiddenProblem"];
            };
        };
        /** @description `FORBIDDEN`: admin operations are disabled, no `ADMIN_API_KEYS` are configured. */
        ForbiddenAdmin: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ForbiddenAdminProblem"];
            };
        };
        /**
         * @description `NOT_FOUND`: no such route, or a futures route while the kill switch is off (the two are
         *     indistinguishable by design). Also `UNKNOWN_SYMBOL`, `POSITION_NOT_FOUND`, `ORDER_NOT_FOUND`.
         */
        NotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["NotFoundProblem"];
            };
        };
        /** @description `ORDER_NOT_FOUND` (KuCoin does not know the order id), `NOT_FOUND` (the kill switch is off: the same answer as an unknown route), and `UNKNOWN_SYMBOL` or `POSITION_NOT_FOUND` should KuCoin answer with theirs. */
        NotFoundOrder: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["NotFoundOrderProblem"];
            };
        };
        /** @description `NOT_FOUND`: no such file. */
        NotFoundAsset: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["NotFoundAssetProblem"];
            };
        };
        /** @description `METHOD_NOT_ALLOWED`: the path exists but not with this method. `Allow` lists the methods. */
        MethodNotAllowed: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                /** @description The methods the path supports. */
                Allow: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["MethodNotAllowedProblem"];
            };
        };
        /** @description `MISDIRECTED_REQUEST` (RFC 9110 §15.5.20): the `Host` header names a host outside `ALLOWED_HOSTS` (by default, while the gateway listens on loopback, anything but `localhost`, `127.0.0.1` and `[::1]`, any port), or no host at all. Checked on every route, known or not, before anything else: it is what turns away a DNS-rebinding page. */
        MisdirectedRequest: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["MisdirectedRequestProblem"];
            };
        };
        /** @description KuCoin refused the request for the account's state: `MARGIN_MODE_MISMATCH`, `POSITION_MODE_MISMATCH`, `MARGIN_MODE_CHANGE_BLOCKED`, `ORDER_NOT_CANCELABLE`, `DUPLICATE_CLIENT_OID`, `POSITION_BUSY`. */
        Conflict: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ConflictProblem"];
            };
        };
        /** @description `IDEMPOTENCY_CONFLICT` (the key or `clientOid` belongs to another request or order: `clientOid`, and `existingOrder` when KuCoin holds it), or KuCoin refused the order: `MARGIN_MODE_MISMATCH`, `POSITION_MODE_MISMATCH`, `MARGIN_MODE_CHANGE_BLOCKED`, `ORDER_NOT_CANCELABLE`, `DUPLICATE_CLIENT_OID`, `POSITION_BUSY`. */
        ConflictOrder: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ConflictOrderProblem"];
            };
        };
        /** @description `RISK_LIMIT_CHANGE_CANCELS_ORDERS` (with `openOrders`), `MARGIN_MODE_CHANGE_BLOCKED`, or another refusal of KuCoin's: `MARGIN_MODE_MISMATCH`, `POSITION_MODE_MISMATCH`, `ORDER_NOT_CANCELABLE`, `DUPLICATE_CLIENT_OID`, `POSITION_BUSY`. */
        ConflictLeverage: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ConflictLeverageProblem"];
            };
        };
        /** @description `UNSAFE_EXPOSURE`: futures cannot be turned on while the gateway listens beyond loopback without `GATEWAY_API_KEYS`. `FUTURES_OFF_BY_ENVIRONMENT`: `FEATURE_FUTURES=false` holds futures off; the runtime switch cannot turn them on. */
        ConflictSwitch: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ConflictSwitchProblem"];
            };
        };
        /** @description `PAYLOAD_TOO_LARGE`: the body is larger than `BODY_LIMIT_BYTES`. */
        PayloadTooLarge: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["PayloadTooLargeProblem"];
            };
        };
        /** @description `UNSUPPORTED_MEDIA_TYPE`: bodies must be `application/json`. */
        UnsupportedMediaType: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["UnsupportedMediaTypeProblem"];
            };
        };
        /** @description KuCoin refused the business request: `INSUFFICIENT_BALANCE`, `PRICE_OUT_OF_BAND`, `ORDER_LIMIT_EXCEEDED`, `RISK_LIMIT_EXCEEDED`, `UPSTREAM_REJECTED` (`upstream` carries KuCoin's code and message). */
        Unprocessable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["UnprocessableProblem"];
            };
        };
        /** @description `RATE_LIMITED` (this caller sent too many requests to the gateway) or `UPSTREAM_RATE_LIMITED` (KuCoin's quota for the account is spent; the gateway stops before KuCoin bans it). */
        RateLimited: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "Retry-After": components["headers"]["Retry-After"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["RateLimitedProblem"];
            };
        };
        /** @description `RATE_LIMITED`: this caller sent too many requests to the gateway. */
        RateLimitedLocal: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "Retry-After": components["headers"]["Retry-After"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["RateLimitedLocalProblem"];
            };
        };
        /** @description `INTERNAL_ERROR`: a bug in the gateway. Logged at error level with the request id; no stack is returned. */
        InternalError: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["InternalErrorProblem"];
            };
        };
        /** @description `NOT_IMPLEMENTED`: the operation is in the contract but this build does not serve it yet. */
        NotImplemented: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["NotImplementedProblem"];
            };
        };
        /** @description `UPSTREAM_ERROR` (KuCoin answered 5xx or an unexpected error), `UPSTREAM_BAD_RESPONSE` (an unparseable answer). */
        BadGateway: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadGatewayProblem"];
            };
        };
        /** @description `UPSTREAM_ERROR` (KuCoin answered 5xx or an unexpected error), `UPSTREAM_BAD_RESPONSE` (an unparseable answer), `ORDER_UNCONFIRMED` (the order POST failed in transit and no order with its `clientOid` was found, active or done: it may still exist; reconcile with `clientOid`, never retry blindly). */
        BadGatewayOrder: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadGatewayOrderProblem"];
            };
        };
        /** @description `UPSTREAM_ERROR` (KuCoin answered 5xx or an unexpected error), `UPSTREAM_BAD_RESPONSE` (an unparseable answer), `CANCEL_UNCONFIRMED` (the cancel failed in transit and the order, read back, is still open or could not be read: the cancel may still be applied). */
        BadGatewayCancel: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["BadGatewayCancelProblem"];
            };
        };
        /** @description `UPSTREAM_UNAVAILABLE`: KuCoin is in maintenance, or the circuit breaker is open after repeated failures. `Retry-After` says when to try again. */
        ServiceUnavailable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                /** @description Seconds to wait. */
                "Retry-After"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["ServiceUnavailableProblem"];
            };
        };
        /** @description `SHARED_STATE_UNAVAILABLE`: `REDIS_URL` is set and Redis cannot be reached; nothing changed. `Retry-After` says when to try again. */
        SharedStateUnavailable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                /** @description Seconds to wait. */
                "Retry-After"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["SharedStateUnavailableProblem"];
            };
        };
        /** @description `UPSTREAM_TIMEOUT`: KuCoin did not answer in time. For orders see `ORDER_UNCONFIRMED`. */
        GatewayTimeout: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["GatewayTimeoutProblem"];
            };
        };
    };
    parameters: {
        /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
        Symbol: components["schemas"]["SymbolInput"];
        /** @description Becomes the order's `clientOid` unless the body has one. A repeated key replays the first outcome. */
        IdempotencyKey: string;
    };
    requestBodies: never;
    headers: {
        /** @description The request id, also in logs and problems. */
        "X-Request-Id": string;
        /** @description Remaining quota of the caller's policy, e.g. `"default";r=1199;t=60` (draft-ietf-httpapi-ratelimit-headers-08). */
        RateLimit: string;
        /** @description The caller's policy, e.g. `"default";q=1200;w=60`. */
        "RateLimit-Policy": string;
        /** @description Seconds to wait before trying again (RFC 9110 §10.2.3). */
        "Retry-After": string;
        /** @description `true` when this answer is the stored outcome of an earlier request with the same idempotency key. */
        "Idempotent-Replayed": "true" | "false";
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The gateway is up. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthEnvelope"];
                };
            };
            400: components["responses"]["BadRequestLocal"];
            421: components["responses"]["MisdirectedRequest"];
            500: components["responses"]["InternalError"];
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        openapi: "3.1.0";
                        info: Record<string, never>;
                        paths: Record<string, never>;
                    };
                };
            };
            400: components["responses"]["BadRequestLocal"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    getAsyncApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The AsyncAPI document of `/ws/futures`. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        asyncapi: "3.0.0";
                        info: Record<string, never>;
                        channels: Record<string, never>;
                    };
                };
            };
            400: components["responses"]["BadRequestLocal"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    getDocs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page (no external resources). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequestLocal"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    getWebSocketDocs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page (no external resources). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequestLocal"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    getDocsAsset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description `swagger-ui-bundle.js`, `swagger-ui.css`, `docs.js`, `docs.css` or `favicon.png`. */
                asset: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description The files change only with the gateway's version. */
                    "Cache-Control": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/javascript": string;
                    "text/css": string;
                    "image/png": string;
                };
            };
            400: components["responses"]["BadRequestLocal"];
            404: components["responses"]["NotFoundAsset"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            400: components["responses"]["BadRequestLocal"];
            421: components["responses"]["MisdirectedRequest"];
            500: components["responses"]["InternalError"];
        };
    };
    getFuturesSwitch: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The switch's state. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FuturesSwitchEnvelope"];
                };
            };
            400: components["responses"]["BadRequestLocal"];
            401: components["responses"]["UnauthorizedAdmin"];
            403: components["responses"]["ForbiddenAdmin"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
        };
    };
    setFuturesSwitch: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FuturesSwitchChange"];
            };
        };
        responses: {
            /** @description The switch's new state. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FuturesSwitchEnvelope"];
                };
            };
            400: components["responses"]["BadRequestLocalBody"];
            401: components["responses"]["UnauthorizedAdmin"];
            403: components["responses"]["ForbiddenAdmin"];
            409: components["responses"]["ConflictSwitch"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["SharedStateUnavailable"];
        };
    };
    getFuturesSwitchHistory: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The flips, newest first. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FuturesSwitchHistoryEnvelope"];
                };
            };
            400: components["responses"]["BadRequestLocal"];
            401: components["responses"]["UnauthorizedAdmin"];
            403: components["responses"]["ForbiddenAdmin"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimitedLocal"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["SharedStateUnavailable"];
        };
    };
    listPositions: {
        parameters: {
            query?: {
                /** @description Settlement currency to filter by (`USDT`, `XBT`...), any case. `BTC` is taken as KuCoin's `XBT`, the only rename (responses show `XBT` as `BTC`). All when absent. */
                currency?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The open positions (possibly none). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description Where the list came from: `stream` (the live feed's state, kept current by KuCoin's private WebSocket; no KuCoin call) or `upstream` (KuCoin REST). See README "Upstream discipline". */
                    "X-Served-From": "stream" | "upstream";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PositionListEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getPosition: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The position. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PositionEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    closePosition: {
        parameters: {
            query?: never;
            header?: {
                /** @description Becomes the order's `clientOid` unless the body has one. A repeated key replays the first outcome. */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The closing order was accepted by the matching engine. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Idempotent-Replayed": components["headers"]["Idempotent-Replayed"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClosePositionEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["ConflictOrder"];
            421: components["responses"]["MisdirectedRequest"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGatewayOrder"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    setLeverage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LeverageChange"];
            };
        };
        responses: {
            /** @description What was done. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LeverageEnvelope"];
                };
            };
            /** @description The risk-limit level change was submitted, but KuCoin reported no outcome before the deadline (`riskLimitStatus` `pending`, `riskLimitLevel` the level asked for). Read the position's `riskLimitLevel` later to see where it went. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LeverageEnvelope"];
                };
            };
            400: components["responses"]["BadRequestWithBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["ConflictLeverage"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["MisdirectedRequest"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getFundingRate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The current funding rate. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FundingRateEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    listOrders: {
        parameters: {
            query?: {
                /** @description Only this symbol's orders (any accepted spelling). */
                symbol?: components["schemas"]["SymbolInput"];
                side?: components["schemas"]["Side"];
                /** @description 1 when omitted. */
                page?: number;
                /** @description 50 when omitted. */
                pageSize?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of open orders. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description Where the list came from: `stream` (the live feed's state, kept current by KuCoin's private WebSocket; no KuCoin call) or `upstream` (KuCoin REST). See README "Upstream discipline". */
                    "X-Served-From": "stream" | "upstream";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrderPageEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    createOrder: {
        parameters: {
            query?: never;
            header?: {
                /** @description Becomes the order's `clientOid` unless the body has one. A repeated key replays the first outcome. */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OrderRequest"];
            };
        };
        responses: {
            /** @description The order was accepted by the matching engine (or this is a replay of that answer). */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Idempotent-Replayed": components["headers"]["Idempotent-Replayed"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrderAcceptedEnvelope"];
                };
            };
            400: components["responses"]["BadRequestWithBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["ConflictOrder"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["MisdirectedRequest"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGatewayOrder"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getOrder: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description KuCoin's order id. */
                orderId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The order. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrderEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFoundOrder"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    cancelOrder: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description KuCoin's order id. */
                orderId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The order was cancelled. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CancelEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFoundOrder"];
            409: components["responses"]["Conflict"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGatewayCancel"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getAccount: {
        parameters: {
            query?: {
                /** @description The account's currency, any case; `USDT` when omitted. `BTC` is taken as KuCoin's `XBT` (the inverse contracts' account). */
                currency?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The account. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    listContracts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The contracts. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ContractListEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getContract: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A futures symbol in any accepted spelling: `XBTUSDTM`, `BTCUSDTM`, `BTC-USDT`, `BTCUSDT`, `BTC%2FUSDT%3AUSDT`. */
                symbol: components["parameters"]["Symbol"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The contract. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ContractEnvelope"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            421: components["responses"]["MisdirectedRequest"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            501: components["responses"]["NotImplemented"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
}
