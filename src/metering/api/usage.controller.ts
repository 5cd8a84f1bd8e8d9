import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CLOCK, Clock } from '../../../libs/clock';
import { notFound } from '../../../libs/errors';
import { Filter, READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { CurrentPrincipal, IdentityFacade } from '../../identity';
import type { Principal } from '../../identity';
import { SubscriptionsFacade } from '../../subscriptions';
import { MeteringFacade } from '../application/metering.facade';
import { API_USAGE_LOGS, UsageLogDoc } from '../projections/usage-log.projection';
import { TenantHintDto, UsageLogQueryDto } from './dto';
import { CSV_COLUMNS, csvLine, currentUsageView, logItem } from './usage-views';

/** The most lines one CSV export holds. */
const CSV_MAX_LINES = 200_000;

@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/subscription/usage')
export class UsageController {
  constructor(
    private readonly metering: MeteringFacade,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly identity: IdentityFacade,
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':user_id')
  @ApiOperation({ summary: "The current period's usage: totals, provider breakdown, limits with percentages, response times and error rates." })
  async current(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: TenantHintDto) {
    const scope = this.identity.scopeUser(principal, userId, q.tenant_id);
    const now = this.clock.now();
    // Reading creates nothing: a user the tenant never had is not found.
    const sub = await this.subscriptions.forKnownUser(scope.tenantId, scope.userId, now);
    if (!sub) throw notFound('User', { user_id: scope.userId });
    const usage = await this.metering.getPeriodUsage(scope.tenantId, scope.userId, now);
    return currentUsageView(scope.userId, sub, usage);
  }

  @Get(':user_id/logs')
  @ApiOperation({
    summary: 'The usage log, newest first: every call and refusal with counts, model, cost and timing (never content). Cursor paging; `?format=csv` exports.',
  })
  async logs(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: UsageLogQueryDto, @Res({ passthrough: true }) reply: { header(k: string, v: string): unknown }) {
    const scope = this.identity.scopeUser(principal, userId, q.tenant_id);
    const filter: Filter = { tenant_id: scope.tenantId, user_id: scope.userId };
    if (q.provider) filter.provider = q.provider === 'metaphor' ? 'exa' : q.provider;
    if (q.model) filter.model = q.model;
    if (q.status) filter[/^\d{3}$/.test(q.status) ? 'status' : 'outcome'] = /^\d{3}$/.test(q.status) ? Number(q.status) : q.status;
    if (q.from || q.to) {
      const range: { $gte?: string; $lt?: string } = {};
      if (q.from) range.$gte = new Date(q.from).toISOString();
      if (q.to) range.$lt = new Date(q.to).toISOString();
      filter.occurred_at = range;
    }
    const logs = this.reads.collection<UsageLogDoc>(API_USAGE_LOGS);
    const sort = { field: 'occurred_at', direction: 'desc' as const };
    if (q.format === 'csv') {
      const lines: string[] = [CSV_COLUMNS.join(',')];
      let cursor: string | undefined = q.cursor;
      do {
        const page = await logs.find(filter, { sort, limit: 1000, cursor });
        for (const d of page.items) lines.push(csvLine(logItem(d)));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && lines.length <= CSV_MAX_LINES);
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="usage-${scope.userId.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`);
      return lines.join('\r\n') + '\r\n';
    }
    const page = await logs.find(filter, { sort, limit: q.limit ?? 50, cursor: q.cursor });
    return { items: page.items.map(logItem), next_cursor: page.nextCursor };
  }
}
