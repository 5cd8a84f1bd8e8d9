import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { performance } from 'perf_hooks';
import { Observable, of } from 'rxjs';
import { CLOCK, Clock } from '../../libs/clock';
import { uuidV7 } from '../../libs/ids/name-based-uuid';
import { IdentityFacade } from '../identity';
import { MeteringFacade } from '../metering';
import type { ProviderId } from '../shell';
import { forwardQuery, presentedKeys } from './credentials';
import { GATEWAY_CALL, GatewayCall } from './gateway-call';
import { GatewayAnswer, gatewayAnswer } from './provider-errors';
import { providerFor, ProviderAdapter } from './providers';
import { countTokens } from './tokens';

const PREFIX = '/proxy/';

/**
 * The gateway's global interceptor (APP_INTERCEPTOR). For `/proxy/{provider}/...` it authenticates the Tollgate key
 * (wherever the SDK put it), names tenant and user, detects provider, operation and model, counts the prompt's tokens
 * and asks metering to admit the call, before anything is forwarded. A refusal is a 429 in the provider's own format.
 * Every other route passes through untouched.
 */
@Injectable()
export class EnforcementInterceptor implements NestInterceptor {
  constructor(
    private readonly identity: IdentityFacade,
    private readonly metering: MeteringFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest();
    const url: string = req.url ?? req.raw?.url ?? '';
    if (!url.startsWith(PREFIX)) return next.handle();
    return this.admit(req, ctx.switchToHttp().getResponse(), url, next);
  }

  private async admit(req: any, reply: any, url: string, next: CallHandler): Promise<Observable<unknown>> {
    const started = performance.now();
    const slash = url.indexOf('/', PREFIX.length);
    const q = url.indexOf('?');
    const name = url.slice(PREFIX.length, slash < 0 ? (q < 0 ? url.length : q) : slash);
    const adapter = providerFor(name);
    const answer = (a: GatewayAnswer) => {
      reply.code(a.status).headers(a.headers).send(a.body);
      return of(undefined);
    };
    if (!adapter || slash < 0 || (q >= 0 && q < slash)) return answer(gatewayAnswer(undefined, 'bad_request', 404, `Unknown provider "${name}". Use one of: gemini, openai, anthropic, mistral, tavily, serper, exa, firecrawl, stability, huggingface.`));
    const path = q < 0 ? url.slice(slash) : url.slice(slash, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const raw: Buffer | undefined = Buffer.isBuffer(req.body) ? req.body : req.rawBody;
    const parsed = Buffer.isBuffer(req.body) || typeof req.body !== 'object' ? undefined : req.body;

    try {
      const who = await this.who(adapter, req.headers, query, parsed);
      if ('status' in who) return answer(who);
      const call = adapter.describe({ method: req.method, path, query, body: parsed, rawBody: raw });
      const inputTokens = call.promptText ? countTokens(call.promptText) : 0;
      const at = this.clock.now();
      // Time-ordered: the call's stream and event ids, and its log line, are stored in arrival order (see usageEventId).
      const requestId = uuidV7();
      const admission = await this.metering.admit({
        tenantId: who.tenantId,
        userId: who.userId,
        provider: adapter.id,
        model: call.model,
        inputTokens,
        units: call.units || undefined,
        unitKey: call.unitKey,
        maxOutputTokens: call.maxOutputTokens,
        at,
        requestId,
        source: 'gateway',
        dryRun: call.free,
        free: call.free,
      });
      if (!admission.ok && admission.unpriced) return answer(gatewayAnswer(adapter, 'forbidden', 403, admission.unpriced.message));
      if (!admission.ok && !call.free) {
        const r = admission.refusal;
        return answer(gatewayAnswer(adapter, 'rate_limit', 429, r.message, r.retry_after_seconds));
      }
      const fq = forwardQuery(query);
      const gc: GatewayCall = {
        requestId,
        provider: adapter.id as ProviderId,
        adapter,
        call,
        upstreamPath: fq ? `${path}?${fq}` : path,
        upstreamKey: who.upstreamKey,
        body: call.rewrittenBody !== undefined ? Buffer.from(JSON.stringify(call.rewrittenBody)) : raw && raw.length ? raw : undefined,
        inputTokens,
        reservation: admission.ok ? admission.reservation : null,
        at,
        started,
      };
      req[GATEWAY_CALL] = gc;
      return next.handle();
    } catch (err) {
      const e = err as { status?: number; message?: string };
      const status = typeof e.status === 'number' && e.status >= 400 ? e.status : 500;
      return answer(gatewayAnswer(adapter, status === 401 ? 'auth' : status === 403 ? 'forbidden' : status < 500 ? 'bad_request' : 'upstream', status, e.message ?? 'Tollgate failed to admit the call.'));
    }
  }

  /**
   * Who calls and with which upstream key. The Tollgate key may be in any key header (or `x-tollgate-key`); a tenant
   * key names the end user in `x-tollgate-user`, a user key is its own user. A real provider key beside a Tollgate key
   * is forwarded as is (the call is still metered for the Tollgate key's user); a provider key alone is refused: every
   * call through the gateway is attributed.
   */
  private async who(adapter: ProviderAdapter, headers: Record<string, string | string[] | undefined>, query: string, body: any): Promise<GatewayAnswer | { tenantId: string; userId: string; upstreamKey: string }> {
    const keys = presentedKeys(headers, query, body);
    if (!keys.tollgateKey) {
      const msg = keys.providerKey
        ? 'Tollgate meters every call it forwards: send your Tollgate key (tg_...) in x-tollgate-key beside your own provider key, or as the SDK\'s API key.'
        : 'A Tollgate key (tg_...) is required: set it as the SDK\'s API key or send it in x-tollgate-key.';
      return gatewayAnswer(adapter, 'auth', 401, msg);
    }
    const principal = await this.identity.authenticate(keys.tollgateKey);
    if (!principal) return gatewayAnswer(adapter, 'auth', 401, 'The Tollgate key is unknown or revoked.');
    if (principal.role === 'admin' || !principal.tenantId) return gatewayAnswer(adapter, 'forbidden', 403, 'The operator key cannot call providers: use a tenant or user key.');
    const named = headers['x-tollgate-user'];
    const userHeader = typeof named === 'string' && named.trim() ? named.trim() : null;
    let userId: string;
    if (principal.role === 'user') {
      if (userHeader && userHeader !== principal.userId) return gatewayAnswer(adapter, 'forbidden', 403, 'A user key can only call for its own user.');
      userId = principal.userId!;
    } else {
      if (!userHeader) return gatewayAnswer(adapter, 'bad_request', 400, 'With a tenant key, name the end user in the x-tollgate-user header.');
      userId = userHeader;
    }
    const upstreamKey = keys.providerKey ?? (await this.identity.getProviderKey(principal.tenantId, adapter.id));
    if (!upstreamKey) return gatewayAnswer(adapter, 'auth', 401, `No ${adapter.id} API key is stored for this tenant: store one with PUT /api/tenant/provider-keys/${adapter.id}, or send your own beside the Tollgate key.`);
    return { tenantId: principal.tenantId, userId, upstreamKey };
  }
}
