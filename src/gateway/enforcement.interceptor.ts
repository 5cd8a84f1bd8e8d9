import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { performance } from 'perf_hooks';
import { Observable, of } from 'rxjs';
import { CLOCK, Clock } from '../../libs/clock';
import { rootLogger } from '../shell';
import { uuidV7 } from '../../libs/ids/name-based-uuid';
import { IdentityFacade, Principal, USER_ID } from '../identity';
import { MeteringFacade } from '../metering';
import type { ProviderId } from '../shell';
import { forwardQuery, presentedKeys } from './credentials';
import { GATEWAY_CALL, GatewayCall } from './gateway-call';
import { PassthroughService } from './passthrough.service';
import { GatewayAnswer, gatewayAnswer } from './provider-errors';
import { providerFor, ProviderAdapter } from './providers';
import { MatchedOperation, normalisePath, OperationTable, PathProblem } from './operations';
import { DEFAULT_MAX_BODY_BYTES, headerOverBounds, jsonTooDeep, MAX_JSON_DEPTH, MAX_MODEL_LENGTH, MODEL_NAME } from './request-bounds';
import { countTokens, countTokensYielding, YIELD_ABOVE } from './tokens';

const PREFIX = '/proxy/';

const PATH_PROBLEMS: Record<PathProblem, string> = {
  dot_segment: 'The path holds a dot segment ("." or "..", also as %2e): Tollgate refuses it.',
  encoded_separator: 'The path holds an encoded slash or backslash (%2f, %5c): Tollgate refuses it.',
  backslash: 'The path holds a backslash: Tollgate refuses it.',
  control: 'The path holds a control character or a space: Tollgate refuses it.',
  too_long: 'The path is too long.',
};

/** The operations tables, compiled once per adapter. */
const TABLES = new Map<ProviderAdapter, OperationTable>();
const tableOf = (adapter: ProviderAdapter) => {
  let t = TABLES.get(adapter);
  if (!t) TABLES.set(adapter, (t = new OperationTable(adapter.operations)));
  return t;
};

type Refusal = GatewayAnswer;

/**
 * The gateway's global interceptor (APP_INTERCEPTOR). For `/proxy/{provider}/...`, before anything is forwarded, in
 * this order: the path is checked and normalised (dot segments, encoded slashes, backslashes refused), matched to one
 * of the operations the provider's adapter can meter (anything else is a 404 that never leaves Tollgate), its body
 * checked against the operation (JSON parsed whatever the content type says, or refused; size and depth bounded);
 * the Tollgate key authenticated (wherever the SDK put it; failures counted and slowed), tenant and user named; the
 * adapter describes the call (model bounded), the prompt's tokens are counted and metering admits the call. Every
 * refusal is in the provider's own error shape, records nothing (but a limit's UsageRefused) and reaches no provider.
 * Every other route passes through untouched.
 */
@Injectable()
export class EnforcementInterceptor implements NestInterceptor {
  private readonly log = rootLogger().child({ module: 'gateway' });

  constructor(
    private readonly identity: IdentityFacade,
    private readonly metering: MeteringFacade,
    private readonly passthrough: PassthroughService,
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
    if (!adapter || slash < 0 || (q >= 0 && q < slash)) return answer(gatewayAnswer(undefined, 'bad_request', 404, `Unknown provider "${name.slice(0, 64)}". Use one of: gemini, openai, anthropic, mistral, tavily, serper, exa, firecrawl, stability, huggingface.`));
    const bad = (status: number, message: string) => answer(gatewayAnswer(adapter, 'bad_request', status, message));
    const normalised = normalisePath(q < 0 ? url.slice(slash) : url.slice(slash, q));
    if ('problem' in normalised) return bad(400, PATH_PROBLEMS[normalised.problem]);
    const path = normalised.path;
    const query = q < 0 ? '' : url.slice(q + 1);
    const method: string = req.method;

    try {
      const tooBig = headerOverBounds(req.raw?.rawHeaders, req.headers);
      if (tooBig) return bad(431, `A request header is too large or there are too many (${tooBig.slice(0, 64)}).`);
      const matched = tableOf(adapter).match(method, path);
      // A tenant's passthrough operations are looked up only once the key is known (below).
      const body = matched ? this.body(adapter, matched.spec.body, matched.spec.maxBodyBytes, req) : null;
      if (body && 'status' in body) return answer(body);

      const who = await this.who(adapter, req, query, body?.parsed);
      if ('status' in who) return answer(who);

      let op: MatchedOperation;
      let taken: { raw: Buffer | undefined; parsed?: unknown };
      if (matched && body && !('status' in body)) {
        op = { ...matched, passthrough: false };
        taken = body;
      } else {
        const extra = who.role === 'tenant' ? this.passthrough.match(who.tenantId, adapter.id, method, path) : null;
        if (!extra) return answer(gatewayAnswer(adapter, 'bad_request', 404, `Tollgate does not forward ${method} ${path.slice(0, 200)} to ${adapter.id}: it forwards only the calls it can meter.`));
        op = { spec: extra.spec, params: extra.params, passthrough: true };
        const any = this.body(adapter, 'any', undefined, req);
        if ('status' in any) return answer(any);
        taken = any;
      }
      const fq = forwardQuery(query);
      const upstreamPath = fq ? `${path}?${fq}` : path;
      const { raw, parsed } = taken;
      if (op.passthrough) {
        const requestId = uuidV7();
        await this.passthrough.audit({ tenantId: who.tenantId, userId: who.userId, provider: adapter.id, operation: `${op.spec.method} ${op.spec.path}`, method, path, requestId, at: this.clock.now() });
        req[GATEWAY_CALL] = { requestId, provider: adapter.id as ProviderId, adapter, call: { operation: 'passthrough', model: '', streaming: false, promptText: '', units: 0, free: true, hideUsageChunk: false }, upstreamPath, upstreamKey: who.upstreamKey, body: raw && raw.length ? raw : undefined, contentType: undefined, inputTokens: 0, reservation: null, at: this.clock.now(), started, role: who.role } satisfies GatewayCall;
        return next.handle();
      }

      const call = adapter.describe({ method, path, query, body: parsed, rawBody: raw, operation: op });
      if (call.model && (call.model.length > MAX_MODEL_LENGTH || !MODEL_NAME.test(call.model)))
        return bad(400, `The model name must be at most ${MAX_MODEL_LENGTH} printable characters without spaces.`);
      const text = call.promptText;
      const inputTokens = !text ? 0 : text.length > YIELD_ABOVE ? await countTokensYielding(text) : countTokens(text);
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
      const gc: GatewayCall = {
        requestId,
        provider: adapter.id as ProviderId,
        adapter,
        call,
        upstreamPath,
        upstreamKey: who.upstreamKey,
        body: call.rewrittenBody !== undefined ? Buffer.from(JSON.stringify(call.rewrittenBody)) : raw && raw.length ? raw : undefined,
        // A JSON operation's body goes as JSON whatever the client labelled it (it was read as JSON).
        contentType: op.spec.body === 'json' ? 'application/json' : undefined,
        inputTokens,
        reservation: admission.ok ? admission.reservation : null,
        at,
        started,
        role: who.role,
      };
      req[GATEWAY_CALL] = gc;
      return next.handle();
    } catch (err) {
      const e = err as { status?: number; message?: string };
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500) {
        // The answer names no exception: the log has it.
        this.log.error({ err: e.message, provider: adapter.id }, 'admitting a gateway call failed');
        return answer(gatewayAnswer(adapter, 'upstream', 500, 'Tollgate failed to admit the call; it was not forwarded.'));
      }
      return answer(gatewayAnswer(adapter, status === 401 ? 'auth' : status === 403 ? 'forbidden' : status === 429 ? 'rate_limit' : 'bad_request', status, e.message ?? 'Tollgate refused the call.'));
    }
  }

  /**
   * The body as the operation needs it: a JSON operation's bytes parsed as JSON whatever the content type (refused
   * 415 when they are not JSON, 400 when labelled JSON and malformed or nested too deep); a multipart operation's
   * bytes as sent (415 without a multipart content type); none for a poll (400 when one is sent).
   */
  private body(adapter: ProviderAdapter, kind: MatchedOperation['spec']['body'], maxBytes: number | undefined, req: any): Refusal | { raw: Buffer | undefined; parsed?: unknown } {
    const raw: Buffer | undefined = Buffer.isBuffer(req.body) ? req.body : Buffer.isBuffer(req.rawBody) ? req.rawBody : typeof req.body === 'string' ? Buffer.from(req.body) : undefined;
    const size = raw ? raw.length : 0;
    if (size > (maxBytes ?? DEFAULT_MAX_BODY_BYTES)) return gatewayAnswer(adapter, 'bad_request', 413, `The body is larger than this operation accepts (${maxBytes ?? DEFAULT_MAX_BODY_BYTES} bytes).`);
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    switch (kind) {
      case 'any':
        return { raw };
      case 'none':
        if (size) return gatewayAnswer(adapter, 'bad_request', 400, 'This operation takes no body.');
        return { raw: undefined };
      case 'multipart':
        if (!contentType.startsWith('multipart/form-data')) return gatewayAnswer(adapter, 'bad_request', 415, 'This operation takes a multipart/form-data body.');
        return { raw };
      case 'json': {
        const labelled = contentType.includes('json');
        if (!size) return gatewayAnswer(adapter, 'bad_request', 400, 'This operation takes a JSON body.');
        if (jsonTooDeep(raw!, MAX_JSON_DEPTH)) return gatewayAnswer(adapter, 'bad_request', 400, `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`);
        try {
          return { raw, parsed: JSON.parse(raw!.toString('utf8')) };
        } catch {
          return labelled
            ? gatewayAnswer(adapter, 'bad_request', 400, 'The body is not valid JSON.')
            : gatewayAnswer(adapter, 'bad_request', 415, 'This operation takes a JSON body (content-type: application/json).');
        }
      }
      default: {
        const unexpected: never = kind;
        return unexpected;
      }
    }
  }

  /**
   * Who calls and with which upstream key. The Tollgate key may be in any key header (or `x-tollgate-key`); a tenant
   * key names the end user in `x-tollgate-user` (the management API's user id pattern), a user key is its own user. A
   * real provider key beside a Tollgate key is forwarded as is (the call is still metered for the Tollgate key's
   * user); a provider key alone is refused: every call through the gateway is attributed. A missing, unknown or
   * revoked key is counted by client address and key prefix, and answered 429 once either failed too often; a key
   * that authenticates is always served.
   */
  private async who(adapter: ProviderAdapter, req: any, query: string, body: unknown): Promise<GatewayAnswer | { tenantId: string; userId: string; upstreamKey: string; role: Principal['role'] }> {
    const headers: Record<string, string | string[] | undefined> = req.headers;
    const keys = presentedKeys(headers, query, body);
    const principal = keys.tollgateKey ? await this.identity.authenticate(keys.tollgateKey) : null;
    if (!principal) {
      const wait = this.identity.failedAuthentication(req.ip ?? req.socket?.remoteAddress ?? 'unknown', keys.tollgateKey);
      if (wait !== null) return gatewayAnswer(adapter, 'rate_limit', 429, `Too many failed authentication attempts from this address or with this key prefix; retry in ${wait} s.`, wait);
      if (keys.tollgateKey) return gatewayAnswer(adapter, 'auth', 401, 'The Tollgate key is unknown or revoked.');
      const msg = keys.providerKey
        ? 'Tollgate meters every call it forwards: send your Tollgate key (tg_...) in x-tollgate-key beside your own provider key, or as the SDK\'s API key.'
        : 'A Tollgate key (tg_...) is required: set it as the SDK\'s API key or send it in x-tollgate-key.';
      return gatewayAnswer(adapter, 'auth', 401, msg);
    }
    if (principal.role === 'admin' || !principal.tenantId) return gatewayAnswer(adapter, 'forbidden', 403, 'The operator key cannot call providers: use a tenant or user key.');
    const named = headers['x-tollgate-user'];
    if (named !== undefined && named !== '' && (typeof named !== 'string' || !USER_ID.test(named.trim())))
      return gatewayAnswer(adapter, 'bad_request', 400, 'x-tollgate-user must be a user id: letters, digits and . _ @ + : - (up to 128), starting with a letter or digit.');
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
    return { tenantId: principal.tenantId, userId, upstreamKey, role: principal.role };
  }
}
