import type { OperationSpec } from '../operations';
import { bearer, CallDescription, CallRequest, describeCall, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

const GENERATE = /\/stable-image\/(generate|edit|control|upscale)\/([\w.-]+)/;
const MODEL_FIELD = /name="model"\r?\n\r?\n([\w.-]+)/;

/**
 * Stability AI v2beta: `POST /v2beta/stable-image/generate/{core|ultra|sd3}` (multipart), Bearer key. One image per
 * successful call (`finish-reason` header or `finish_reason` field not CONTENT_FILTERED); failures are free. The model
 * is the path segment, or sd3's form field `model`.
 */
/**
 * What Tollgate meters at Stability (v2beta stable-image, multipart): generate, edit, control and upscale by service,
 * and the poll of an asynchronous result. Not listed: the account and balance (`/v1/user/...`), engines, 3D, audio.
 */
const STABILITY_OPERATIONS: OperationSpec[] = [
  ...['generate', 'edit', 'control', 'upscale'].map((kind): OperationSpec => ({ name: kind, method: 'POST', path: `/v2beta/stable-image/${kind}/{service}`, body: 'multipart', maxBodyBytes: 32 * 1024 * 1024 })),
  { name: 'result', method: 'GET', path: '/v2beta/results/{id}', body: 'none' },
];

export const stability: ProviderAdapter = {
  id: 'stability',
  operations: STABILITY_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const m = GENERATE.exec(req.path);
    if (!m) return describeCall({ operation: req.method === 'GET' ? 'read' : 'other', model: 'image' });
    let model = m[2];
    if (model === 'sd3') {
      const field = typeof req.body?.model === 'string' ? req.body.model : req.rawBody ? MODEL_FIELD.exec(req.rawBody.toString('latin1', 0, Math.min(req.rawBody.length, 64 * 1024)))?.[1] : undefined;
      model = field ?? 'sd3.5-large';
    }
    return describeCall({ operation: m[1] === 'generate' ? 'image' : m[1], model, units: 1 });
  },

  setKey: bearer,

  usageFromHeaders(headers, call, status): Usage | null {
    if (status >= 400) return { units: 0 };
    const reason = headers['finish-reason'];
    if (typeof reason === 'string') return { units: reason.toUpperCase() === 'SUCCESS' ? call.units : 0 };
    return null;
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
