import { Module, Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdentityModule } from '../identity';
import { MeteringModule } from '../metering';
import { EnforcementInterceptor } from './enforcement.interceptor';
import { ProxyController } from './proxy.controller';
import { PassthroughService } from './passthrough.service';
import { ProxyService } from './proxy.service';

const providers: Provider[] = [ProxyService, PassthroughService, { provide: APP_INTERCEPTOR, useClass: EnforcementInterceptor }];

/** The edge: `/proxy/{provider}/...`, provider detection, enforcement before the call, usage capture after. */
@Module({
  imports: [IdentityModule, MeteringModule],
  controllers: [ProxyController],
  providers,
  exports: [ProxyService],
})
export class GatewayModule {}
