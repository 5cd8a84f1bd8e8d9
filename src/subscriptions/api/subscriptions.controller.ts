import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CLOCK, Clock } from '../../../libs/clock';
import { CurrentPrincipal, IdentityFacade, Principal, Roles } from '../../identity';
import { PeriodCloseJob } from '../application/period-close.job';
import { SubscriptionStatusQuery } from '../application/status.query';
import { SubscriptionsService } from '../application/subscriptions.service';
import { SubscriptionState } from '../domain/subscription';
import { BillingQueryDto, CancelDto, ChangePlanDto, StatusQueryDto, SubscribeDto, TenantHintQueryDto } from './dto';

/** Managing a user's subscription: subscribe, change plan, cancel, status, billing history. */
@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('api/subscription')
export class SubscriptionsController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly status: SubscriptionStatusQuery,
    private readonly identity: IdentityFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('subscribe')
  @Roles('tenant', 'admin')
  @ApiOperation({ summary: "Subscribes a user to a plan (a tenant key for its users; a user key gets 403). The user's current default-plan period closes now." })
  async subscribe(@CurrentPrincipal() p: Principal, @Body() body: SubscribeDto) {
    const s = this.identity.scopeUser(p, body.user_id, body.tenant_id);
    return this.view(await this.subscriptions.subscribe(s.tenantId, s.userId, body.plan_id, body.billing_cycle));
  }

  @Post(':user_id/change-plan')
  @Roles('tenant', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Changes the plan now (PlanChanged: upgrade or downgrade); the period’s bill prorates each plan’s base fee.' })
  async changePlan(@CurrentPrincipal() p: Principal, @Param('user_id') userId: string, @Body() body: ChangePlanDto, @Query() q: TenantHintQueryDto) {
    const s = this.identity.scopeUser(p, userId, q.tenant_id);
    await this.status.known(s.tenantId, s.userId);
    const r = await this.subscriptions.changePlan(s.tenantId, s.userId, body.plan_id, body.reason ?? null);
    return { ...(await this.view(r.state)), change: r.change };
  }

  @Post(':user_id/cancel')
  @Roles('tenant', 'admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancels at the end of the current period, or at once with immediately: true; then the default plan applies.' })
  async cancel(@CurrentPrincipal() p: Principal, @Param('user_id') userId: string, @Body() body: CancelDto, @Query() q: TenantHintQueryDto) {
    const s = this.identity.scopeUser(p, userId, q.tenant_id);
    await this.status.known(s.tenantId, s.userId);
    return this.view(await this.subscriptions.cancel(s.tenantId, s.userId, body.immediately === true, body.reason ?? null));
  }

  @Get('status/:user_id')
  @ApiOperation({ summary: 'Token allocation, usage, remaining, days left, averages, trend, next bill, alerts, recommendations (plan_history with include_history=true).' })
  async getStatus(@CurrentPrincipal() p: Principal, @Param('user_id') userId: string, @Query() q: StatusQueryDto) {
    const s = this.identity.scopeUser(p, userId, q.tenant_id);
    return this.status.status(s.tenantId, s.userId, q.include_history === 'true' || q.include_history === '1');
  }

  @Get('billing/:user_id')
  @ApiOperation({ summary: 'The billing history, newest period first (next page with ?cursor=).' })
  async billing(@CurrentPrincipal() p: Principal, @Param('user_id') userId: string, @Query() q: BillingQueryDto) {
    const s = this.identity.scopeUser(p, userId, q.tenant_id);
    return this.status.billing(s.tenantId, s.userId, q.limit ?? 24, q.cursor);
  }

  private async view(state: SubscriptionState) {
    const eff = await this.subscriptions.effective(state, this.clock.now());
    return { ...eff, cancel_at: state.cancel_at };
  }
}

@ApiTags('admin: jobs')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/admin/jobs')
export class SubscriptionJobsController {
  constructor(private readonly job: PeriodCloseJob) {}

  @Post('period-close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Runs the period-close job now (it also runs on its schedule).' })
  run() {
    return this.job.run();
  }
}
