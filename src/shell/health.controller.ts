import { Controller, Get, Header, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { notFound } from '../../libs/errors';
import { Public, Roles } from '../identity/access';
import { IdentityFacade, presentedKey } from '../identity';
import { LazyProjectionRunner, PROJECTION_RUNNER } from './infrastructure.module';
import { MetricsService } from './metrics.service';

/**
 * The largest projection lag (events) at which the instance still reports ready. Under load the projection worker
 * lets events gather for TOLLGATE_PROJECTION_PAUSE_MS (500 ms) and applies up to TOLLGATE_PROJECTION_BATCH (10,000)
 * at once, so at 20,000 events/s a healthy worker is 10,000 to 20,000 behind between batches; a worker that really
 * falls behind grows past this within seconds.
 */
const READY_MAX_LAG = 50_000;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: LazyProjectionRunner,
    private readonly metrics: MetricsService,
    private readonly identity: IdentityFacade,
  ) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process is up.' })
  health() {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: stores reachable and projections caught up (200 or 503). The checks and projections are shown to the operator (admin key) only.' })
  async ready(@Req() req: { headers?: Record<string, string | string[] | undefined> }, @Res({ passthrough: true }) reply: any) {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    try {
      await this.events.ping();
      checks.event_store = { ok: true };
    } catch (err) {
      checks.event_store = { ok: false, error: (err as Error).message };
    }
    try {
      await this.reads.ping();
      checks.read_store = { ok: true };
    } catch (err) {
      checks.read_store = { ok: false, error: (err as Error).message };
    }
    let projections: Awaited<ReturnType<ReturnType<LazyProjectionRunner['get']>['status']>> = [];
    try {
      projections = await this.runner.get().status();
    } catch (err) {
      checks.projections = { ok: false, error: (err as Error).message };
    }
    const maxLag = projections.reduce((m, p) => Math.max(m, p.lag), 0);
    const failing = projections.filter((p) => p.error);
    checks.projections ??= { ok: maxLag <= READY_MAX_LAG && failing.length === 0, ...(failing.length ? { error: failing.map((p) => `${p.name}: ${p.error}`).join('; ') } : {}) };
    const ok = Object.values(checks).every((c) => c.ok);
    reply.status(ok ? 200 : 503);
    const status = ok ? 'ready' : 'not_ready';
    // Store errors and projection names are for the operator; anyone else (a load balancer) needs the status only.
    if (!(await this.isOperator(req))) return { status };
    return { status, checks, projection_lag: maxLag, projections };
  }

  private async isOperator(req: { headers?: Record<string, string | string[] | undefined> }): Promise<boolean> {
    const raw = presentedKey(req.headers ?? {});
    return raw !== null && (await this.identity.authenticate(raw))?.role === 'admin';
  }

  @Roles('admin')
  @Get('api/admin/projections')
  @ApiOperation({ summary: 'Projections, their checkpoints and lag (admin).' })
  async projections() {
    return { projections: await this.runner.get().status() };
  }

  @Roles('admin')
  @Post('api/admin/projections/:name/rebuild')
  @ApiOperation({ summary: 'Drop a projection’s read models and replay it from the first event (admin). Use "all" for every projection.' })
  async rebuild(@Param('name') name: string) {
    const runner = this.runner.get();
    const names = name === 'all' ? runner.names : [name];
    if (name !== 'all' && !runner.has(name)) throw notFound(`Projection ${name}`, { known: runner.names });
    const results = [];
    for (const n of names) {
      const r = await runner.rebuild(n);
      results.push({ name: n, events: r.events, ms: r.ms, events_per_second: r.ms ? Math.round((r.events * 1000) / r.ms) : r.events });
    }
    return { rebuilt: results };
  }
}
