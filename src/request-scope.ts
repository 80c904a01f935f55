import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the gateway knows about the client request a piece of work is done for, carried through
 * its awaits (AsyncLocalStorage) rather than through every operation's signature: the KuCoin client
 * reads it to share the upstream budget fairly between callers and to keep every call inside the
 * request's deadline. Work that serves no request (the live feed, start-up) runs outside any scope.
 */
export interface RequestScope {
  /** Who is asking: `key:<fingerprint>` for a configured API key, else `ip:<address>` (as the inbound limiter counts). */
  readonly caller: string;
  /** Epoch milliseconds by which the client must have its answer. */
  readonly deadline: number;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (and everything it awaits or schedules) inside `scope`. */
export function runInScope<T>(scope: RequestScope, work: () => T): T {
  return storage.run(scope, work);
}

/** The scope of the request being served, or undefined outside any request. */
export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/**
 * Runs `work` outside any request's scope: for long-lived work a request merely starts (the live
 * feed a list read brings up, its timers and reconnects), which must not inherit that request's
 * caller or deadline, nor end with it.
 */
export function outsideAnyRequest<T>(work: () => T): T {
  return storage.run(undefined as unknown as RequestScope, work);
}
