import type { OperationSpec } from '../operations';
import { CallDescription, CallRequest, describeCall, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

/**
 * Exa (alias metaphor): `/search`, `/contents`, `/answer`, `/findSimilar`; key in `x-api-key`. Billed per search in
 * Tollgate's catalog: one unit a search or answer, one per page asked of `/contents`. Exa's own `costDollars` is not
 * used for the price (Tollgate prices from its catalog), only as proof that the call was billed.
 */
/** What Tollgate meters at Exa. Not listed: research tasks, websets, webhooks, team and key management. */
const EXA_OPERATIONS: OperationSpec[] = ['search', 'contents', 'answer', 'findSimilar'].map((name): OperationSpec => ({ name, method: 'POST', path: `/${name}`, body: 'json', maxBodyBytes: 256 * 1024 }));

export const exa: ProviderAdapter = {
  id: 'exa',
  operations: EXA_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const operation = req.path.replace(/^\/+/, '').split('/')[0] || 'search';
    const body = req.body;
    let units = 1;
    if (operation === 'contents') units = Math.max(1, (Array.isArray(body?.ids) ? body.ids.length : 0) + (Array.isArray(body?.urls) ? body.urls.length : 0));
    return describeCall({ operation, model: 'search', units, streaming: !!body?.stream });
  },

  setKey(headers, key) {
    headers['x-api-key'] = key;
  },

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    if (status >= 400) return { units: 0 };
    if (call.operation === 'contents' && Array.isArray(body?.results)) return { units: body.results.length };
    return body?.costDollars ? { units: call.units } : null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (_kind, _status, message) => ({ error: message }),
};
