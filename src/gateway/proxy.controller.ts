import { All, Controller, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../identity';
import { GATEWAY_CALL, GatewayCall } from './gateway-call';
import { ProxyService } from './proxy.service';

/**
 * `/proxy/{provider}/{the provider's own path}`: public to the auth guard because SDKs put the key in their own
 * headers; the EnforcementInterceptor authenticates and admits the call before this handler runs.
 */
@ApiExcludeController()
@Public()
@Controller('proxy')
export class ProxyController {
  constructor(private readonly proxy: ProxyService) {}

  @All(':provider/*')
  forward(@Req() req: any, @Res() reply: any): void {
    const gc: GatewayCall | undefined = req[GATEWAY_CALL];
    if (!gc) {
      reply.code(500).send({ error: { code: 'internal', message: 'The gateway interceptor did not run.', details: {} } });
      return;
    }
    reply.hijack();
    this.proxy.forward(req.method, req.headers, reply.raw, gc);
  }
}
