import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Inject } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { notFound } from '../../../libs/errors';
import { CurrentPrincipal, IdentityFacade, Principal } from '../../identity';
import { SubscriptionsFacade } from '../../subscriptions';
import { AlertsFacade } from '../application/alerts.facade';
import { MarkAlertReadHandler } from '../application/mark-alert-read.handler';
import { AlertsQueryDto, TenantHintDto } from './dto';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('api/subscription/alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsFacade,
    private readonly markRead: MarkAlertReadHandler,
    private readonly identity: IdentityFacade,
    private readonly subscriptions: SubscriptionsFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':user_id')
  @ApiOperation({ summary: "A user's alerts, unread first; filter by read state, severity and period." })
  async list(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: AlertsQueryDto) {
    const scope = this.identity.scopeUser(principal, userId, q.tenant_id);
    // 404 for a user the tenant never had, exactly as for another tenant's user; reading creates nothing.
    const sub = await this.subscriptions.forKnownUser(scope.tenantId, scope.userId, this.clock.now());
    if (!sub) throw notFound('User', { user_id: userId });
    let period = q.period;
    if (period === 'current') period = sub.period_start;
    const alerts = await this.alerts.list(scope.tenantId, scope.userId, { is_read: q.is_read, severity: q.severity, period });
    return { alerts };
  }

  @Post(':alert_id/read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Marks one alert read (an AlertRead event).' })
  async read(@CurrentPrincipal() principal: Principal, @Param('alert_id') alertId: string) {
    const alert = await this.alerts.get(alertId);
    if (!alert) throw notFound('Alert', { alert_id: alertId });
    // 404 (not 403) for another tenant's or user's alert, worded exactly as for an absent one.
    try {
      this.identity.scopeUser(principal, alert.user_id, alert.tenant_id);
    } catch {
      throw notFound('Alert', { alert_id: alertId });
    }
    if (principal.role !== 'admin' && principal.tenantId !== alert.tenant_id) throw notFound('Alert', { alert_id: alertId });
    const r = await this.markRead.execute(alert);
    const { tenant_id: _t, user_id: _u, stream_id: _s, ...view } = alert;
    return { ...view, is_read: true, read_at: alert.read_at ?? r.read_at };
  }

  @Post(':user_id/read-all')
  @HttpCode(200)
  @ApiOperation({ summary: "Marks every unread alert of the user read." })
  async readAll(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Query() q: TenantHintDto) {
    const scope = this.identity.scopeUser(principal, userId, q.tenant_id);
    const unread = await this.alerts.list(scope.tenantId, scope.userId, { is_read: false, limit: 10_000 });
    let marked = 0;
    for (const a of unread) {
      const full = await this.alerts.get(a.alert_id);
      if (full && (await this.markRead.execute(full)).changed) marked++;
    }
    return { marked, alert_ids: unread.map((a) => a.alert_id) };
  }
}
