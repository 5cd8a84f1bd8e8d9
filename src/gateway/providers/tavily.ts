import type { OperationSpec } from '../operations';
import { bearer, CallDescription, CallRequest, describeCall, num, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

/** Tavily's credits for a call, from its request (search: 1 basic / 2 advanced; extract: per 5 URLs). */
function expectedCredits(operation: string, body: any): number {
  const advanced = body?.search_depth === 'advanced' || body?.extract_depth === 'advanced';
  if (operation === 'search') return advanced ? 2 : 1;
  if (operation === 'extract') {
    const urls = Array.isArray(body?.urls) ? body.urls.length : 1;
    return Math.max(1, Math.ceil(urls / 5)) * (advanced ? 2 : 1);
  }
  return 1;
}

/**
 * Tavily: `/search`, `/extract`, `/crawl`, `/map`; Bearer key (SDK 0.0.x sent `api_key` in the body: removed before
 * forwarding). Credits are reported only with `include_usage: true`, which the gateway adds.
 */
/** What Tollgate meters at Tavily. Not listed: `/usage` (the account's credits) and anything else. */
const TAVILY_OPERATIONS: OperationSpec[] = ['search', 'extract', 'crawl', 'map'].map((name): OperationSpec => ({ name, method: 'POST', path: `/${name}`, body: 'json', maxBodyBytes: 256 * 1024 }));

export const tavily: ProviderAdapter = {
  id: 'tavily',
  operations: TAVILY_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const operation = req.path.replace(/^\/+/, '').split(/[/?]/)[0] || 'search';
    const body = req.body;
    let rewritten: any;
    if (body && typeof body === 'object' && !Array.isArray(body) && req.method === 'POST') {
      const { api_key: _dropped, ...rest } = body;
      rewritten = { ...rest, include_usage: true };
    }
    return describeCall({ operation, model: operation, units: expectedCredits(operation, body), rewrittenBody: rewritten });
  },

  setKey: bearer,

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    const credits = num(body?.usage?.credits);
    if (credits) return { units: credits };
    if (status >= 400) return { units: 0 };
    return null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (_kind, _status, message) => ({ detail: { error: message } }),
};
