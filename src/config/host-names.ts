/**
 * How a host name is compared: the one spelling configuration (ALLOWED_HOSTS, the bind address)
 * and the inbound Host/Origin checks (src/edge/host-origin.ts) both reduce a name to.
 */

/**
 * `host`, `host:port`, `[v6]` or `[v6]:port` (RFC 9110 §7.2 `uri-host [ ":" port ]`, RFC 3986 §3.2.2
 * reg-name characters). Anything else (`@` userinfo, `/`, `\`, spaces) names no host: a URL parser
 * would otherwise read `evil.example@127.0.0.1` as 127.0.0.1.
 */
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::(\d{0,5}))?$/;

/**
 * A host as compared: the WHATWG URL parser's spelling (lower case, IDN in punycode, IPv4 and IPv6
 * in canonical form, IPv6 in brackets), without the one trailing dot a fully qualified name may
 * carry. The same parser spells the host of an Origin, so the two compare as strings.
 */
export function canonicalHost(authority: string): { name: string; port: string } | undefined {
  const match = AUTHORITY.exec(authority.trim());
  if (!match || !URL.canParse(`http://${match[1]}`)) return undefined;
  const name = new URL(`http://${match[1]}`).hostname;
  return { name: name.endsWith('.') ? name.slice(0, -1) : name, port: match[2] ?? '' };
}
