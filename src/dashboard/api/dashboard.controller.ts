import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, IdentityFacade, Principal } from '../../identity';
import { SubscriptionsFacade } from '../../subscriptions';
import { CLOCK, Clock } from '../../../libs/clock';
import { notFound } from '../../../libs/errors';
import { DashboardQuery } from '../application/dashboard.query';
import { TrendsQuery } from '../application/trends.query';
import { TrendsQueryDto, UserScopeQueryDto } from './dto';

@ApiTags('dashboard')
@ApiBearerAuth()
@Controller('api/subscription')
export class DashboardController {
  constructor(
    private readonly dashboards: DashboardQuery,
    private readonly trendsQuery: TrendsQuery,
    private readonly identity: IdentityFacade,
    private readonly subscriptions: SubscriptionsFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** 404 for a user the tenant never had (no subscription, no key), exactly as for another tenant's user. */
  private async known(principal: Principal, userId: string, tenantHint?: string) {
    const s = this.identity.scopeUser(principal, userId, tenantHint);
    if (!(await this.subscriptions.forKnownUser(s.tenantId, s.userId, this.clock.now()))) throw notFound('User', { user_id: userId });
    return s;
  }

  @Get('dashboard/:user_id')
  @ApiOperation({ summary: 'Current usage, limits, percentages, projections, unread alerts, trend and recommendations.' })
  async dashboard(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: UserScopeQueryDto) {
    const s = await this.known(principal, userId, q.tenant_id);
    return this.dashboards.dashboard(s.tenantId, s.userId);
  }

  @Get('usage/:user_id/trends')
  @ApiOperation({ summary: 'Zero-filled daily or monthly series of calls, tokens and cost, in total and per provider.' })
  async trends(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: TrendsQueryDto) {
    const s = await this.known(principal, userId, q.tenant_id);
    return this.trendsQuery.trends(s.tenantId, s.userId, q.granularity ?? 'day', q.months ?? 6);
  }

  @Get('trends/:user_id')
  @ApiOperation({ summary: 'The same as /api/subscription/usage/{user_id}/trends.' })
  trendsAlias(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: TrendsQueryDto) {
    return this.trends(principal, userId, q);
  }
}
