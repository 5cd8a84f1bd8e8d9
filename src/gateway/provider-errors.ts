import type { GatewayErrorKind, ProviderAdapter } from './providers';

export interface GatewayAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * An answer the gateway gives itself, in the provider's own error shape (so its SDK raises its usual error). A
 * refusal (429) carries `retry-after` and `x-should-retry: false` (the Stainless SDKs' signal not to retry).
 */
export function gatewayAnswer(adapter: ProviderAdapter | undefined, kind: GatewayErrorKind, status: number, message: string, retryAfterSeconds?: number): GatewayAnswer {
  const body = adapter ? adapter.errorBody(kind, status, message, retryAfterSeconds) : { error: { code: kind === 'bad_request' ? 'not_found' : kind, message, details: {} } };
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-should-retry': 'false' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return { status, headers, body: JSON.stringify(body) };
}
