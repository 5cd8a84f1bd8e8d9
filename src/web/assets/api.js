// The page's only way to the server: every call carries the key in `Authorization: Bearer`, never in a URL.

const TIMEOUT_MS = 8000;

export class ApiError extends Error {
  /**
   * kind: 'unauthorized' (401: wrong or revoked key), 'forbidden' (403), 'not_found' (404), 'unreachable' (network
   * error or timeout), 'http' (any other status).
   */
  constructor(kind, status, code, message, details) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function kindOf(status) {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  return 'http';
}

export function createApi(getKey) {
  async function call(method, path, { body, query, auth = true } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    const headers = { accept: 'application/json' };
    if (auth) {
      const key = getKey();
      if (!key) throw new ApiError('unauthorized', 401, 'unauthenticated', 'Not signed in.');
      headers.authorization = `Bearer ${key}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let res;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        signal: controller.signal,
      });
    } catch (err) {
      throw new ApiError('unreachable', 0, 'unreachable', `Tollgate cannot be reached at ${window.location.origin} (${err?.name === 'AbortError' ? 'no answer within 8 s' : 'network error'}).`);
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text().catch(() => '');
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = json && typeof json === 'object' ? json.error : null;
      // A proxy in front of Tollgate that has lost it answers 502/503/504 without Tollgate's error shape.
      if (!e && [502, 503, 504].includes(res.status)) throw new ApiError('unreachable', res.status, 'unreachable', `Tollgate cannot be reached at ${window.location.origin} (HTTP ${res.status}).`);
      throw new ApiError(kindOf(res.status), res.status, e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`, e?.details);
    }
    return json;
  }

  const enc = encodeURIComponent;
  return {
    call,
    whoami: () => call('GET', '/api/auth/whoami'),
    tenantKeys: () => call('GET', '/api/tenant/keys'),
    plans: () => call('GET', '/api/subscription/plans', { auth: false }),
    ready: async () => {
      // /ready answers 503 with its checks when not ready; keep them.
      try {
        const res = await fetch('/ready', { cache: 'no-store', credentials: 'omit' });
        const body = await res.json().catch(() => null);
        return { ok: res.ok, status: res.status, body };
      } catch {
        return { ok: false, status: 0, body: null, unreachable: true };
      }
    },
    dashboard: (user) => call('GET', `/api/subscription/dashboard/${enc(user)}`),
    usage: (user) => call('GET', `/api/subscription/usage/${enc(user)}`),
    status: (user) => call('GET', `/api/subscription/status/${enc(user)}`),
    billing: (user) => call('GET', `/api/subscription/billing/${enc(user)}`),
    trends: (user, granularity, months = 6) => call('GET', `/api/subscription/usage/${enc(user)}/trends`, { query: { granularity, months } }),
    logs: (user, query) => call('GET', `/api/subscription/usage/${enc(user)}/logs`, { query }),
    alerts: (user) => call('GET', `/api/subscription/alerts/${enc(user)}`),
    markRead: (alertId) => call('POST', `/api/subscription/alerts/${enc(alertId)}/read`, { body: {} }),
    markAllRead: (user) => call('POST', `/api/subscription/alerts/${enc(user)}/read-all`, { body: {} }),
  };
}
