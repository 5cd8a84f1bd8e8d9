import type { OperationSpec } from '../operations';
import { CallDescription, CallRequest, describeCall, num, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

/** Serper (google.serper.dev): `POST /search` (also /images, /news, /places...), key in `X-API-KEY`; `credits` in the body. */
/** Serper's search endpoints (one credit a query; a JSON array body is a batch of queries). Not listed: `/account`. */
const SERPER_OPERATIONS: OperationSpec[] = ['search', 'images', 'news', 'places', 'maps', 'videos', 'shopping', 'scholar', 'patents', 'autocomplete'].map(
  (name): OperationSpec => ({ name, method: 'POST', path: `/${name}`, body: 'json', maxBodyBytes: 256 * 1024 }),
);

export const serper: ProviderAdapter = {
  id: 'serper',
  operations: SERPER_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const operation = req.path.replace(/^\/+/, '').split('/')[0] || 'search';
    const queries = Array.isArray(req.body) ? req.body.length : 1;
    return describeCall({ operation, model: 'search', units: queries });
  },

  setKey(headers, key) {
    headers['x-api-key'] = key;
  },

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    if (status >= 400) return { units: 0 };
    if (Array.isArray(body)) return { units: body.reduce((s, b) => s + (num(b?.credits) || 1), 0) };
    const credits = num(body?.credits);
    return credits ? { units: credits } : null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (_kind, status, message) => ({ message, statusCode: status }),
};
