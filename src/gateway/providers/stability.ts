import type { OperationSpec } from '../operations';
import { bearer, CallDescription, CallRequest, describeCall, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

const GENERATE = /\/stable-image\/(generate|edit|control|upscale)\/([\w.-]+)/;
const MODEL_FIELD = /name="model"\r?\n\r?\n([\w.-]+)/;

/** `/v2beta/3d/stable-fast-3d` -> `3d/stable-fast-3d`: the unit key of an endpoint the catalog may not know. */
const endpointKey = (path: string) => path.replace(/^\/+/, '').replace(/^v\d+(beta|alpha)?\//, '').replace(/^stable-image\//, '').replace(/\/+$/, '');

/**
 * Stability AI v2beta: `POST /v2beta/stable-image/generate/{core|ultra|sd3}` (multipart), Bearer key. One image per
 * successful call (`finish-reason` header or `finish_reason` field not CONTENT_FILTERED); failures are free. The model
 * is the path segment, or sd3's form field `model`. Generation is priced by the specification's `image` price; the
 * edit, control and upscale endpoints by their own credits (unit keys `edit/erase`, `upscale/creative`, ...); any other
 * POST by a unit key named after its path, which has no price until the operator sets one (so it is not forwarded).
 * An asynchronous endpoint (upscale/creative) is billed when it starts; polling its result is not paid work.
 */
/**
 * What Tollgate meters at Stability (v2beta, multipart): stable-image generate, edit, control and upscale by service,
 * 3D and audio (priced by the operator's unit keys: not forwarded until priced), and the poll of an asynchronous
 * result. Not listed: the account and balance (`/v1/user/...`), engines, the v1 generation API.
 */
const STABILITY_OPERATIONS: OperationSpec[] = [
  ...['generate', 'edit', 'control', 'upscale'].map((kind): OperationSpec => ({ name: kind, method: 'POST', path: `/v2beta/stable-image/${kind}/{service}`, body: 'multipart' })),
  { name: '3d', method: 'POST', path: '/v2beta/3d/{service}', body: 'multipart' },
  { name: 'audio', method: 'POST', path: '/v2beta/audio/{model}/{service}', body: 'multipart' },
  { name: 'result', method: 'GET', path: '/v2beta/results/{id}', body: 'none' },
];

export const stability: ProviderAdapter = {
  id: 'stability',
  operations: STABILITY_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const m = GENERATE.exec(req.path);
    if (!m && req.method === 'GET') return describeCall({ operation: 'read', model: 'image' });
    if (!m) return describeCall({ operation: 'other', model: endpointKey(req.path), units: 1, unitKey: endpointKey(req.path) });
    if (m[1] !== 'generate') return describeCall({ operation: m[1], model: m[2], units: 1, unitKey: `${m[1]}/${m[2]}` });
    let model = m[2];
    if (model === 'sd3') {
      const field = typeof req.body?.model === 'string' ? req.body.model : req.rawBody ? MODEL_FIELD.exec(req.rawBody.toString('latin1', 0, Math.min(req.rawBody.length, 64 * 1024)))?.[1] : undefined;
      model = field ?? 'sd3.5-large';
    }
    return describeCall({ operation: 'image', model, units: 1, unitKey: 'image' });
  },

  setKey: bearer,

  usageFromHeaders(headers, call, status): Usage | null {
    if (status >= 400) return { units: 0 };
    const reason = headers['finish-reason'];
    if (typeof reason === 'string') return { units: reason.toUpperCase() === 'SUCCESS' ? call.units : 0 };
    // A successful binary answer without a finish reason (a 3D model) is the unit the call was priced as.
    const type = String(headers['content-type'] ?? '');
    return status < 300 && type && !type.includes('json') ? { units: call.units } : null;
  },

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    if (status >= 400) return { units: 0 };
    if (typeof body?.finish_reason === 'string') return { units: body.finish_reason === 'CONTENT_FILTERED' ? 0 : call.units };
    if (Array.isArray(body?.artifacts)) return { units: body.artifacts.filter((a: any) => a?.finishReason !== 'CONTENT_FILTERED').length };
    return status < 300 ? { units: call.units } : null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (kind, _status, message) => ({ id: 'tollgate', name: { rate_limit: 'rate_limit_exceeded', auth: 'unauthorized', bad_request: 'bad_request', forbidden: 'forbidden', upstream: 'bad_gateway' }[kind], errors: [message] }),
};
