/**
 * Who may address the gateway, and which web pages may drive it: the one place both the HTTP app
 * and the `/ws/futures` upgrade ask.
 *
 * - Host (RFC 9110 §7.2): a browser tricked by DNS rebinding sends the attacker's name in `Host`,
 *   so a request naming a host outside `ALLOWED_HOSTS` is refused (421, RFC 9110 §15.5.20).
 * - Origin (RFC 6454 §7): a page on another site can open a WebSocket or send a simple request to
 *   a loopback gateway; browsers say which page did it in `Origin`. A request that carries an
 *   Origin other than the gateway's own or one in `ALLOWED_ORIGINS` is refused (403). Requests
 *   without Origin (curl, bots, server-side clients) are not browsers acting for a web page.
 */
import type { IncomingMessage } from 'node:http';
import { canonicalHost } from '../config/host-names.js';
import { GatewayError } from '../errors.js';

/** `any` accepts every Host; otherwise lower-case host names, IPv6 in brackets, without ports. */
export type AllowedHosts = 'any' | readonly string[];

export interface HostOriginPolicy {
  allowedHosts: AllowedHosts;
  /** Serialised origins (`https://app.example.com`), as `new URL(...).origin` writes them. */
  allowedOrigins: readonly string[];
  /** TRUST_PROXY: the scheme of the gateway's own origin comes from `X-Forwarded-Proto`. */
  trustProxy: boolean;
}

/**
 * The authority the request names: its target's when the target is in absolute form (RFC 9112
 * §3.2.2 makes the server ignore `Host` then), otherwise its `Host` header.
 */
function requestAuthority(req: IncomingMessage): string | undefined {
  const target = req.url ?? '';
  if (!target.startsWith('/') && URL.canParse(target)) {
    const url = new URL(target);
    // RFC 9110 §4.2.4: userinfo in an http(s) target is an error, not a host to compare.
    return url.username === '' && url.password === '' ? url.host : undefined;
  }
  return req.headers.host;
}

/** Verdicts on `Host` values already seen, per policy: a client sends the same one on every request. */
const hostVerdicts = new WeakMap<HostOriginPolicy, Map<string, boolean>>();
/** Bounds the memo whatever Host values a client invents; past it the memo starts over. */
export const HOST_VERDICTS_KEPT = 256;

/** True when the request names an allowed host, any port. No Host at all names none. */
export function hostAllowed(policy: HostOriginPolicy, req: IncomingMessage): boolean {
  if (policy.allowedHosts === 'any') return true;
  const host = req.headers.host;
  // The usual request (origin-form target, one Host header) is answered from the memo: parsing the
  // name with the URL parser on every request was ~4 µs of it (benchmark 1).
  if (host === undefined || !(req.url ?? '').startsWith('/')) return judgeHost(policy, requestAuthority(req));
  let verdicts = hostVerdicts.get(policy);
  if (verdicts === undefined) hostVerdicts.set(policy, (verdicts = new Map()));
  let verdict = verdicts.get(host);
  if (verdict === undefined) {
    verdict = judgeHost(policy, host);
    if (verdicts.size >= HOST_VERDICTS_KEPT) verdicts.clear();
    verdicts.set(host, verdict);
  }
  return verdict;
}

function judgeHost(policy: HostOriginPolicy, authority: string | undefined): boolean {
  if (policy.allowedHosts === 'any') return true;
  const parsed = authority === undefined ? undefined : canonicalHost(authority);
  return parsed !== undefined && policy.allowedHosts.includes(parsed.name);
}

/** The scheme the client used to reach the gateway (it serves plain HTTP unless a trusted proxy says otherwise). */
function requestScheme(policy: HostOriginPolicy, req: IncomingMessage): 'http' | 'https' {
  if ((req.socket as { encrypted?: boolean }).encrypted) return 'https';
  if (policy.trustProxy) {
    const forwarded = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
    if (first === 'https') return 'https';
  }
  return 'http';
}

const DEFAULT_PORT = { http: '80', https: '443' } as const;

/**
 * True when the request carries no Origin, or the gateway's own origin (the reference page at
 * /api/docs calling the API: same scheme, host and port as the request), or one of ALLOWED_ORIGINS.
 * `Origin: null` (sandboxed frames, file: pages, RFC 6454 §7.3) is a browser origin in no list.
 */
export function originAllowed(policy: HostOriginPolicy, req: IncomingMessage): boolean {
  const header = req.headers.origin;
  if (header === undefined) return true;
  const url = URL.canParse(header) ? new URL(header) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false;
  if (policy.allowedOrigins.includes(url.origin)) return true;
  const scheme = requestScheme(policy, req);
  const authority = requestAuthority(req);
  const own = authority === undefined ? undefined : canonicalHost(authority);
  if (own === undefined || url.protocol !== `${scheme}:`) return false;
  const ownPort = own.port === '' ? DEFAULT_PORT[scheme] : String(Number(own.port));
  return canonicalHost(url.host)?.name === own.name && (url.port || DEFAULT_PORT[scheme]) === ownPort;
}

/** A header value as a problem's detail repeats it: quoted, and cut short (a header may be kilobytes). */
function shown(value: string | undefined): string {
  if (value === undefined) return '(none)';
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function misdirected(req: IncomingMessage): GatewayError {
  return new GatewayError('MISDIRECTED_REQUEST', `This gateway does not answer for the host ${shown(requestAuthority(req))}; see ALLOWED_HOSTS.`);
}

export function originRefused(req: IncomingMessage): GatewayError {
  return new GatewayError('ORIGIN_NOT_ALLOWED', `Requests from the web origin ${shown(req.headers.origin)} are not allowed; see ALLOWED_ORIGINS.`);
}
