/**
 * What the gateway knows about the client request a piece of work is done for: the KuCoin client
 * reads it to share the upstream budget fairly between callers and to keep every call inside the
 * request's deadline.
 *
 * It is a plain value made once per request (src/http/app.ts) and passed explicitly, argument by
 * argument, from the operation's handler through the services in src/futures/ and src/account/ to
 * every `KucoinClient.call` (its `scope` option). Every function on that path takes it as a
 * required `RequestScope | null`, so a call site that forgets it does not compile: `null` is the
 * gateway's own work (the live feed, its snapshots and token, start-up), which has no caller's
 * share and no deadline beyond each try's timeout, and must be written out where it is meant.
 *
 * (It was carried implicitly by AsyncLocalStorage until issue 16: once any request had entered a
 * scope, node ran its promise hooks on every promise in the process, ~5 µs a request; and long-lived
 * work a request started had to be taken out of the scope by hand.)
 *
 * A scope holds plain values only, never the request: whatever keeps a scope (an idempotency
 * outcome's closure, a coalesced read) must not keep the whole request alive.
 */
export interface RequestScope {
  /** Who is asking: `key:<fingerprint>` for a configured API key, else `ip:<address>` (as the inbound limiter counts). */
  readonly caller: string;
  /** Epoch milliseconds by which the client must have its answer. */
  readonly deadline: number;
}
