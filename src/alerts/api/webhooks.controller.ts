import { Body, Controller, Delete, Get, HttpCode, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Inject } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { Filter } from '../../../libs/read-store/port';
import { CurrentPrincipal, Principal, Roles } from '../../identity';
import { WebhooksService } from '../application/webhooks.service';
import { DeliveryLogDoc, WEBHOOK_DELIVERIES } from '../projections/webhook-delivery-log.projection';
import { DeliveriesQueryDto, PutWebhookDto } from './dto';

@ApiTags('webhooks')
@ApiBearerAuth()
@Roles('tenant')
@Controller('api/tenant/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  @Put()
  @ApiOperation({ summary: "Sets the tenant's webhook endpoint: each alert is POSTed there, signed with HMAC-SHA256." })
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

  @Get('deliveries')
  @ApiOperation({ summary: 'Every delivery attempt, newest first (status code, error, next attempt).' })
  async deliveries(@CurrentPrincipal() p: Principal, @Query() q: DeliveriesQueryDto) {
    const filter: Filter = { tenant_id: p.tenantId! };
    if (q.alert_id) filter.alert_id = q.alert_id;
    const page = await this.reads
      .collection<DeliveryLogDoc>(WEBHOOK_DELIVERIES)
      .find(filter, { sort: { field: 'attempted_at', direction: 'desc' }, limit: q.limit ?? 100, cursor: q.cursor });
    return { deliveries: page.items.map(({ _id, ...d }) => d), next_cursor: page.nextCursor };
  }
}
