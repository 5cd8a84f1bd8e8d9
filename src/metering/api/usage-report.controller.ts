import { Body, Controller, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'crypto';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppError, PricingException, UsageLimitExceededException, validationFailed } from '../../../libs/errors';
import { CurrentPrincipal, IdentityFacade, Roles } from '../../identity';
import type { Principal } from '../../identity';
import { MeteringFacade } from '../application/metering.facade';
import { MAX_REPORT_BATCH, ReportUsageHandler } from '../application/report-usage.handler';
import { CheckUsageDto, TenantHintDto } from './dto';

const REPORT_EXAMPLE = {
  events: [
    {
      id: 'call-0001',
      user_id: 'user_42',
      provider: 'openai',
      model: 'gpt-4o',
      input_tokens: 1200,
      output_tokens: 300,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      units: 0,
      occurred_at: '2025-03-10T12:00:00Z',
      latency_ms: 840,
      status: 200,
    },
  ],
};

@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage')
export class UsageReportController {
  constructor(
    private readonly reports: ReportUsageHandler,
    private readonly metering: MeteringFacade,
    private readonly identity: IdentityFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('events')
  @Roles('tenant', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reports usage of calls the application made itself (a batch of up to 1,000).',
    description:
      'Each event is answered on its own: `accepted` (recorded, with its cost), `duplicate` (an id seen before with the same payload: ' +
      'not counted again), `conflict` (an id seen before with a different payload) or `rejected` (with the reason). A bad event never ' +
      'rejects the good ones. Costs use the price in effect at `occurred_at`. Tenant keys only (a user key gets 403). The status is 200 ' +
      'when any event was accepted or a duplicate, else 409 when any conflicted, else 422.',
  })
  @ApiBody({ schema: { type: 'object', example: REPORT_EXAMPLE } })
  async report(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Query() q: TenantHintDto, @Res({ passthrough: true }) reply: { status(code: number): unknown }) {
    const parsed = Buffer.isBuffer(body) ? safeJson(body) : body;
    const events = (parsed as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) throw validationFailed('The body must be {"events": [...]}.', { fields: [{ field: 'events', problems: ['must be an array'] }] });
    if (events.length === 0 || events.length > MAX_REPORT_BATCH)
      throw validationFailed(`events must hold 1 to ${MAX_REPORT_BATCH} events, got ${events.length}.`, { fields: [{ field: 'events', problems: [`1 to ${MAX_REPORT_BATCH} events`] }] });
    const results = await this.reports.report(principal, events, q.tenant_id);
    const counts = { accepted: 0, duplicate: 0, conflict: 0, rejected: 0 };
    for (const r of results) counts[r.status]++;
    if (counts.accepted + counts.duplicate > 0) return { results, ...counts };
    if (counts.conflict > 0) {
      reply.status(409);
      return { results, ...counts, error: { code: 'conflict', message: 'Every event conflicts with an earlier report of the same id, or was rejected.', details: counts } };
    }
    reply.status(422);
    return { results, ...counts, error: { code: 'validation_failed', message: 'Every event was rejected; see each result\'s reason.', details: counts } };
  }

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Would this planned call fit the limits? 200 with the headroom left after it, or 429 with the gateway\'s message. Records nothing.',
  })
  async check(@CurrentPrincipal() principal: Principal, @Body() body: CheckUsageDto, @Query() q: TenantHintDto) {
    const scope = this.identity.scopeUser(principal, body.user_id, q.tenant_id);
    const provider = body.provider === 'metaphor' ? 'exa' : body.provider;
    const at = this.clock.now();
    const admission = await this.metering.admit({
      tenantId: scope.tenantId,
      userId: scope.userId,
      provider,
      model: body.model ?? '',
      inputTokens: body.input_tokens ?? 0,
      units: body.units,
      maxOutputTokens: body.max_output_tokens,
      at,
      requestId: randomUUID(),
      source: 'check',
      dryRun: true,
    });
    if (!admission.ok && admission.unpriced) throw new PricingException(admission.unpriced.message, { provider: admission.unpriced.provider, price_key: admission.unpriced.price_key }, 422);
    if (!admission.ok) {
      const r = admission.refusal;
      throw new UsageLimitExceededException(
        r.message,
        { limit: r.limit, limit_value: r.limit_value, used: r.used, requested: r.requested, period_end: r.period_end, retry_after_seconds: r.retry_after_seconds },
        r.retry_after_seconds,
      );
    }
    const s = admission.subscription;
    return {
      allowed: true,
      user_id: scope.userId,
      provider,
      model: body.model ?? '',
      plan_id: s.plan_id,
      period_start: s.period_start,
      period_end: s.period_end,
      remaining: admission.remaining,
    };
  }
}

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    throw new AppError(400, 'bad_request', 'The body is not valid JSON.');
  }
}
