/**
 * Fault rules for the KuCoin routes (so tests can inject KuCoin's failures on demand), set through `/sim/faults`
 * (see control.ts for the JSON). A rule matches by method and path prefix, fires `times` times
 * (until cleared when absent), and acts `before` the simulator handles the request (default: the
 * request never reaches the account) or `after` (the account changed, then the answer is lost or
 * replaced, which is what makes an order's outcome uncertain to the caller).
 */
export type FaultAction =
  | { type: 'http'; status: number; body?: unknown }
  | { type: 'business'; code: string; msg: string }
  | { type: 'rate-limit'; resetMs: number }
  | { type: 'latency'; ms: number }
  | { type: 'bad-body'; body: string }
  | { type: 'drop' };

export interface FaultRule {
  id: number;
  match: { method?: string; path?: string };
  /** Fires left; null = until cleared. */
  times: number | null;
  phase: 'before' | 'after';
  action: FaultAction;
}

export class FaultRuleError extends Error {
  override name = 'FaultRuleError';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function bad(index: number, problem: string): never {
  throw new FaultRuleError(`rule ${index}: ${problem}`);
}

function parseAction(raw: unknown, i: number): FaultAction {
  if (!isObject(raw)) bad(i, 'action must be an object');
  const nonNegative = (key: string) => {
    const n = raw[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) bad(i, `action.${key} must be a number ≥ 0`);
    return n;
  };
  switch (raw.type) {
    case 'http': {
      const status = nonNegative('status');
      if (!Number.isInteger(status) || status < 200 || status > 599) bad(i, 'action.status must be an HTTP status (200-599)');
      return raw.body === undefined ? { type: 'http', status } : { type: 'http', status, body: raw.body };
    }
    case 'business':
      if (typeof raw.code !== 'string' || raw.code === '') bad(i, 'action.code must be a KuCoin code string');
      return { type: 'business', code: raw.code, msg: typeof raw.msg === 'string' ? raw.msg : '' };
    case 'rate-limit':
      return { type: 'rate-limit', resetMs: nonNegative('resetMs') };
    case 'latency':
      return { type: 'latency', ms: nonNegative('ms') };
    case 'bad-body':
      if (typeof raw.body !== 'string') bad(i, 'action.body must be a string (sent as is)');
      return { type: 'bad-body', body: raw.body };
    case 'drop':
      return { type: 'drop' };
    default:
      return bad(i, 'action.type must be one of http, business, rate-limit, latency, bad-body, drop');
  }
}

export class FaultBook {
  #rules: FaultRule[] = [];
  #nextId = 1;

  /** Adds a list of rules (or one); all or none. */
  add(raw: unknown): FaultRule[] {
    const list = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.rules) ? raw.rules : [raw];
    const added = list.map((item: unknown, i): FaultRule => {
      if (!isObject(item)) bad(i, 'must be an object');
      const match = item.match ?? {};
      if (!isObject(match)) bad(i, 'match must be an object');
      if (match.method !== undefined && typeof match.method !== 'string') bad(i, 'match.method must be a string');
      if (match.path !== undefined && typeof match.path !== 'string') bad(i, 'match.path must be a string');
      const times = item.times;
      if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1)) bad(i, 'times must be a positive integer');
      const phase = item.phase ?? 'before';
      if (phase !== 'before' && phase !== 'after') bad(i, "phase must be 'before' or 'after'");
      return {
        id: 0,
        match: {
          ...(typeof match.method === 'string' ? { method: match.method.toUpperCase() } : {}),
          ...(typeof match.path === 'string' ? { path: match.path } : {}),
        },
        times: times ?? null,
        phase,
        action: parseAction(item.action, i),
      };
    });
    for (const rule of added) rule.id = this.#nextId++;
    this.#rules.push(...added);
    return added.map((rule) => structuredClone(rule));
  }

  clear(): number {
    const count = this.#rules.length;
    this.#rules = [];
    return count;
  }

  list(): FaultRule[] {
    return structuredClone(this.#rules);
  }

  /** The actions firing for this request and phase, in rule order; each fire spends one of the rule's `times`. */
  take(method: string, path: string, phase: 'before' | 'after'): FaultAction[] {
    const fired: FaultAction[] = [];
    for (const rule of this.#rules) {
      if (rule.phase !== phase) continue;
      if (rule.match.method && rule.match.method !== method.toUpperCase()) continue;
      if (rule.match.path && !path.startsWith(rule.match.path)) continue;
      fired.push(rule.action);
      if (rule.times !== null) rule.times -= 1;
    }
    this.#rules = this.#rules.filter((rule) => rule.times === null || rule.times > 0);
    return fired;
  }
}
