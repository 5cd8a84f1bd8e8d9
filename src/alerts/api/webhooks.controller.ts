import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Inject } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { Filter } from '../../../libs/read-store/port';
import { CurrentPrincipal, Principal, Roles } from '../../identity';
import { WebhooksService } from '../application/webhooks.service';
import { WebhookDispatcher } from '../infrastructure/webhook-dispatcher';
import { shownReason } from '../infrastructure/webhook-sender';
import { DeliveryLogDoc, WEBHOOK_DELIVERIES } from '../projections/webhook-delivery-log.projection';
import { DeliveriesQueryDto, PutWebhookDto } from './dto';

@ApiTags('webhooks')
@ApiBearerAuth()
@Roles('tenant')
@Controller('api/tenant/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly dispatcher: WebhookDispatcher,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  @Put()
  @ApiOperation({
    summary: "Sets the tenant's webhook endpoint: each alert is POSTed there, signed with HMAC-SHA256.",
    description:
      'The URL must be, and resolve to, a public address (422 otherwise; checked again at each delivery). Without `secret`, a changed URL ' +
      'keeps the signing secret (a first endpoint gets a generated one, shown once); a retry goes to the URL configured when it is sent.',
  })
  put(@CurrentPrincipal() p: Principal, @Body() body: PutWebhookDto) {
    return this.webhooks.configure(p.tenantId!, body.url, body.secret);
  }

  @Get()
  @ApiOperation({ summary: "The tenant's webhook endpoint (the secret is never shown again)." })
  get(@CurrentPrincipal() p: Principal) {
    return this.webhooks.require(p.tenantId!);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Removes the endpoint; pending deliveries stop.' })
  async remove(@CurrentPrincipal() p: Principal) {
    await this.webhooks.remove(p.tenantId!);
  }

  @Post('rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issues a new signing secret for the endpoint (shown this once); deliveries from now on are signed with it.' })
  rotateSecret(@CurrentPrincipal() p: Principal) {
    return this.webhooks.rotateSecret(p.tenantId!);
  }

  @Post('test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sends a test delivery to the endpoint now, signed like a real one; the result is in the answer and the delivery log.' })
  async test(@CurrentPrincipal() p: Principal) {
    const d = await this.dispatcher.sendTest(p.tenantId!);
    return { ...d, error: shownReason(d.error, d.status_code) };
  }

  @Get('deliveries')
  @ApiOperation({ summary: 'Every delivery attempt, newest first (status code, a short reason, next attempt).' })
  async deliveries(@CurrentPrincipal() p: Principal, @Query() q: DeliveriesQueryDto) {
    const filter: Filter = { tenant_id: p.tenantId! };
    if (q.alert_id) filter.alert_id = q.alert_id;
    const page = await this.reads
      .collection<DeliveryLogDoc>(WEBHOOK_DELIVERIES)
      .find(filter, { sort: { field: 'attempted_at', direction: 'desc' }, limit: q.limit ?? 100, cursor: q.cursor });
    // An attempt stored before kept the socket's own error text: the log shows its short reason instead.
    return { deliveries: page.items.map(({ _id, ...d }) => ({ ...d, error: shownReason(d.error, d.status_code) })), next_cursor: page.nextCursor };
  }
}
