import type { Reservation } from '../metering';
import type { Principal } from '../identity';
import type { ProviderId } from '../shell';
import type { CallDescription, ProviderAdapter } from './providers';

/** What the enforcement interceptor decided about a /proxy call, handed to the proxy controller on the request. */
export interface GatewayCall {
  requestId: string;
  provider: ProviderId;
  adapter: ProviderAdapter;
  call: CallDescription;
  /** Provider path and forwarded query (`/v1/chat/completions?x=1`). */
  upstreamPath: string;
  upstreamKey: string;
  /** The bytes to forward (the client's, or the rewritten JSON). */
  body: Buffer | undefined;
  /** The content type to forward instead of the client's (a JSON operation's body goes as application/json). */
  contentType: string | undefined;
  /** Who called: a user key's answers carry none of the tenant's provider account headers. */
  role: Principal['role'];
  /** Prompt tokens counted before the call. */
  inputTokens: number;
  /** Null for a free call whose dry-run admission was refused (forwarded, not recorded). */
  reservation: Reservation | null;
  /** Clock time of admission: the usage's occurred_at. */
  at: Date;
  /** performance.now() when the gateway took the call. */
  started: number;
}

export const GATEWAY_CALL = Symbol('tollgate.gatewayCall');
