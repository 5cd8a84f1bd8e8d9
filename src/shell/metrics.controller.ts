import { createHash, timingSafeEqual } from 'crypto';
import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { unauthorized } from '../../libs/errors';
import { Public } from '../identity/access';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from './metrics.service';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `GET /metrics` in Prometheus text format; with TOLLGATE_METRICS_KEY set, only for `Authorization: Bearer <that key>`. */
@Controller()
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.metricsKey ? digest(config.metricsKey) : null;
  }

  @Public()
  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(@Headers('authorization') authorization?: string) {
    if (this.expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      // Compared as digests, in constant time: the answer says nothing about how much of a guess was right.
      if (!presented || !timingSafeEqual(digest(presented), this.expected)) throw unauthorized('GET /metrics needs Authorization: Bearer <TOLLGATE_METRICS_KEY>.');
    }
    return this.metrics.registry.metrics();
  }
}
