/** Keys a request carries: Tollgate's (`tg_...`) and/or a real provider key, wherever the SDK put them. */
export interface PresentedKeys {
  tollgateKey: string | null;
  providerKey: string | null;
}

const TG = 'tg_';

/**
 * Looks in every place an SDK puts its key: `x-tollgate-key` (Tollgate's own, first), `Authorization: Bearer`,
 * `x-api-key` (also Serper's `X-API-KEY`), `x-goog-api-key`, `?key=` and old Tavily's body `api_key`.
 * A value starting `tg_` is a Tollgate key; any other is the caller's own provider key.
 */
export function presentedKeys(headers: Record<string, string | string[] | undefined>, query: string, body: any): PresentedKeys {
  let tollgateKey: string | null = null;
  let providerKey: string | null = null;
  const consider = (v: unknown) => {
    if (typeof v !== 'string' || !v) return;
    if (v.startsWith(TG)) tollgateKey ??= v;
    else providerKey ??= v;
  };
  consider(headers['x-tollgate-key']);
  const auth = headers.authorization;
  if (typeof auth === 'string') consider(/^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined);
  consider(headers['x-api-key']);
  consider(headers['x-goog-api-key']);
  if (query && query.includes('key=')) consider(new URLSearchParams(query).get('key'));
  if (body && typeof body === 'object' && !Array.isArray(body)) consider(body.api_key);
  return { tollgateKey, providerKey };
}

/** Request headers never forwarded: hop-by-hop, length and encoding (recomputed), keys, and Tollgate's own. */
const DROPPED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'accept-encoding',
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'x-tollgate-key',
  'x-tollgate-user',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  // A method override would turn an allowed call into another one at the provider (Google's front ends honour it).
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/** Request headers a user key may not send: they pick which of the tenant's provider accounts or projects pays. */
const USER_DROPPED = new Set(['openai-organization', 'openai-project', 'anthropic-organization-id', 'x-goog-user-project']);

/** The headers to send upstream (keys removed: the adapter sets the upstream key). Usage must be readable: identity encoding. */
export function forwardHeaders(headers: Record<string, string | string[] | undefined>, userKey = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (DROPPED.has(name) || (userKey && USER_DROPPED.has(name))) continue;
    const v = headers[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * The query to forward: without `key=` (a Tollgate key, or a provider key the adapter moves to its header), and
 * without Google's `$`-system parameters (`$httpMethod`, `$alt`...), which could change what the call is.
 */
export function forwardQuery(query: string): string {
  if (!query || (!query.includes('key=') && !query.includes('$') && !query.includes('%24'))) return query;
  const params = new URLSearchParams(query);
  params.delete('key');
  for (const name of [...params.keys()]) if (name.startsWith('$')) params.delete(name);
  return params.toString();
}

/** Response headers never passed back: hop-by-hop, and cookies (the provider's session with the tenant's account). */
export const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer', 'te', 'set-cookie', 'set-cookie2']);

/**
 * Response headers a user key never sees: the tenant's provider account (organization, project) and the account's
 * rate-limit state (what the tenant's other users spend). `retry-after` stays: SDKs need it.
 */
const RESPONSE_ACCOUNT = new Set(['openai-organization', 'openai-project', 'anthropic-organization-id', 'x-organization-id', 'x-project-id', 'x-groq-region']);
const RESPONSE_ACCOUNT_PREFIXES = ['x-ratelimit-', 'anthropic-ratelimit-', 'ratelimitbysize-', 'x-ratelimitbysize-'];

/** Whether a response header is kept from the caller (hop-by-hop and cookies for all; account headers for a user key). */
export function responseHeaderDropped(name: string, userKey: boolean): boolean {
  if (RESPONSE_DROPPED.has(name)) return true;
  if (!userKey) return false;
  if (RESPONSE_ACCOUNT.has(name)) return true;
  for (const p of RESPONSE_ACCOUNT_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}
