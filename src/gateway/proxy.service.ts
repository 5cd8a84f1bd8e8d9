import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'http';
import { performance } from 'perf_hooks';
import { MeteringFacade } from '../metering';
import { APP_CONFIG, AppConfig, rootLogger } from '../shell';
import { forwardHeaders, responseHeaderDropped } from './credentials';
import type { GatewayCall } from './gateway-call';
import { gatewayAnswer } from './provider-errors';
import type { StreamMeter, Usage } from './providers';
import { SseSplitter } from './sse';
import { countTokens } from './tokens';
import { isHeadersTimeout, UpstreamClient, UpstreamExchange, UpstreamSink } from './upstream-client';

/** JSON bodies larger than this are passed through without reading usage from them (none of the providers' are). */
const MAX_JSON_TAP = 32 * 1024 * 1024;

/** How long answered calls wait to be recorded together (see settle). */
const RECORD_DELAY_MS = 3;

interface Outcome {
  status: number;
  /** The provider's answer arrived whole (not cut, client still there). */
  complete: boolean;
  streamed: boolean;
  meter: StreamMeter | null;
  json: Buffer[] | null;
  headerUsage: Usage | null;
}

/**
 * Forwards an admitted /proxy call to its provider on a pooled keep-alive connection and streams the answer back as it
 * arrives, reading usage from the body or the SSE stream as it passes. After the answer (or a cut, or a client gone)
 * the call is recorded with MeteringFacade.record, which releases its reservation.
 */
@Injectable()
export class ProxyService implements OnModuleDestroy {
  private readonly client = new UpstreamClient();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly log = rootLogger().child({ module: 'gateway' });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metering: MeteringFacade,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.idle();
    await this.client.close();
  }

  /** Resolves when every call forwarded so far has been recorded (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /**
   * Forwards the call and relays the answer as it arrives. Returns at once: the exchange runs on undici's callbacks
   * (the Relay below), and the call is recorded when it ends, however it ends.
   */
  forward(method: string, incoming: Record<string, string | string[] | undefined>, res: ServerResponse, gc: GatewayCall): void {
    const headers = forwardHeaders(incoming, gc.role === 'user');
    gc.adapter.setKey(headers, gc.upstreamKey);
    if (gc.contentType) headers['content-type'] = gc.contentType;
    if (gc.body) headers['content-length'] = String(gc.body.length);
    const timeoutMs = this.config.upstreamTimeoutsMs[gc.provider];
    const relay = new Relay(res, gc, timeoutMs, this.log, (o) => this.settle(gc, o));
    relay.exchange = this.client.exchange(this.config.upstreams[gc.provider], { method, path: gc.upstreamPath, headers, body: gc.body, timeoutMs }, relay);
  }

  /**
   * Works out what the call used and records it (its reservation is released by record). Never throws. The work waits
   * RECORD_DELAY_MS and runs for every call settled meanwhile: answers arrive in bursts (clients in step with the
   * provider's latency), and the calls that arrive with them are admitted and forwarded first, not queued behind the
   * pricing and appending of calls already answered (on a 2-core machine, this cut the added p50 at 64 connections from
   * about 2.5 to 1.6 ms). Meanwhile the reservation still counts, so a limit cannot be overrun; a crash in those
   * milliseconds is the gap ARCHITECTURE.md states (forwarded, not yet recorded).
   */
  private settle(gc: GatewayCall, o: Outcome): void {
    const p = new Promise<void>((resolve) => {
      this.settled.push(resolve);
      this.recordTimer ??= setTimeout(this.recordSettled, RECORD_DELAY_MS);
    })
      .then(() => this.record(gc, o))
      .catch((err) => this.log.error({ err: (err as Error).message, request_id: gc.requestId, provider: gc.provider }, 'recording a gateway call failed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Calls answered since the record timer was set, waiting to be recorded. */
  private settled: Array<() => void> = [];
  private recordTimer: NodeJS.Timeout | null = null;
  private readonly recordSettled = () => {
    this.recordTimer = null;
    const due = this.settled;
    this.settled = [];
    for (const go of due) go();
  };

  private async record(gc: GatewayCall, o: Outcome): Promise<void> {
    const reservation = gc.reservation;
    if (!reservation) return;
    const { adapter, call } = gc;
    let usage: Usage | null = null;
    let parsed: any;
    if (o.meter) usage = o.meter.usage();
    else if (o.json && o.json.length) {
      try {
        parsed = JSON.parse(Buffer.concat(o.json).toString('utf8'));
        usage = adapter.usageFromBody(parsed, call, o.status);
      } catch {
        /* not JSON after all, or cut */
      }
    }
    usage ??= o.headerUsage;
    // A free call (a crawl's status poll) is recorded only when it reports what the job used.
    if (call.free && (!usage || !o.complete)) {
      this.metering.release(reservation);
      return;
    }
    let estimated = false;
    const generated = () => countTokens(o.meter ? o.meter.outputText() : parsed !== undefined && adapter.outputTextFromBody ? adapter.outputTextFromBody(parsed) : '');
    if (!usage) {
      if (o.complete && o.status >= 400) {
        // The provider answered with an error and reported nothing: it billed nothing.
        usage = {};
      } else {
        estimated = true;
        usage = { input_tokens: gc.inputTokens, output_tokens: generated(), units: o.status < 400 ? call.units : 0 };
      }
    } else if (!o.complete && (o.streamed || o.status < 400)) {
      // Cut or abandoned: what was reported may stop short of what was generated.
      estimated = true;
      usage = { ...usage, input_tokens: usage.input_tokens || gc.inputTokens, output_tokens: Math.max(usage.output_tokens ?? 0, generated()) };
    }
    const input = {
      usage_id: usage.usage_id ?? call.usageId ?? gc.requestId,
      ...(usage.unit_key || call.unitKey ? { unit_key: usage.unit_key ?? call.unitKey } : {}),
      provider: gc.provider,
      model: call.model,
      operation: call.operation,
      input_tokens: usage.input_tokens ?? 0,
      output_tokens: usage.output_tokens ?? 0,
      cache_read_tokens: usage.cache_read_tokens ?? 0,
      cache_write_tokens: usage.cache_write_tokens ?? 0,
      reasoning_tokens: usage.reasoning_tokens ?? 0,
      units: usage.units ?? 0,
      latency_ms: Math.round(performance.now() - gc.started),
      status: o.status,
      streamed: o.streamed,
      estimated,
      occurred_at: gc.at.toISOString(),
    };
    if (call.settlesJob) await this.metering.settleJob(reservation, input);
    else await this.metering.record(reservation, input);
  }
}

/**
 * One call's answer on its way back: headers, then chunks written to the client as they arrive (SSE events split and
 * metered as they pass, the usage chunk Tollgate asked for held back from a client that did not), then the outcome
 * settled for recording. A client that goes away aborts the upstream call; a provider that cuts the answer has the
 * client cut too, as the provider did. Backpressure: a client that reads slowly pauses the read from the provider.
 */
class Relay implements UpstreamSink {
  exchange: UpstreamExchange | null = null;
  private clientGone = false;
  private settled = false;
  private hide = false;
  private outcome: Outcome | null = null;
  private splitter: SseSplitter | null = null;
  private jsonSize = 0;
  private held = '';
  private resume: (() => void) | null = null;
  private readonly onResume = () => this.resume?.();

  constructor(
    private readonly res: ServerResponse,
    private readonly gc: GatewayCall,
    private readonly timeoutMs: number | undefined,
    private readonly log: ReturnType<typeof rootLogger>,
    private readonly settle: (o: Outcome) => void,
  ) {
    res.once('close', () => {
      if (res.writableEnded) return;
      this.clientGone = true;
      this.exchange?.abort();
    });
  }

  onResponse(status: number, rh: IncomingHttpHeaders, resume: () => void): void {
    const { gc, res } = this;
    this.resume = resume;
    const contentType = String(rh['content-type'] ?? '');
    const sse = contentType.includes('text/event-stream');
    const hide = (this.hide = sse && gc.call.hideUsageChunk);
    const out: Record<string, string | string[]> = {};
    const userKey = gc.role === 'user';
    for (const k in rh) {
      const v = rh[k];
      if (v === undefined || responseHeaderDropped(k, userKey) || (hide && k === 'content-length')) continue;
      out[k] = v;
    }
    out['x-tollgate-request-id'] = gc.requestId;
    this.outcome = {
      status,
      complete: false,
      streamed: sse,
      meter: sse ? gc.adapter.streamMeter(gc.call) : null,
      json: !sse && contentType.includes('json') ? [] : null,
      headerUsage: gc.adapter.usageFromHeaders?.(rh, gc.call, status) ?? null,
    };
    if (sse) this.splitter = new SseSplitter();
    if (this.clientGone) return; // the abort on its way ends the exchange (onError)
    res.writeHead(status, out);
    if (sse) res.flushHeaders();
  }

  onData(chunk: Buffer): boolean {
    const o = this.outcome!;
    if (this.clientGone) return true;
    let ok: boolean;
    if (this.hide) {
      this.held = '';
      this.splitter!.push(chunk, this.keep);
      ok = this.held ? this.res.write(this.held) : true;
    } else {
      ok = this.res.write(chunk);
      if (this.splitter) this.splitter.push(chunk, this.meterEvent);
      else if (o.json) {
        this.jsonSize += chunk.length;
        if (this.jsonSize <= MAX_JSON_TAP) o.json.push(chunk);
        else o.json = null;
      }
    }
    if (!ok) this.res.once('drain', this.onResume);
    return ok;
  }

  onEnd(): void {
    const o = this.outcome!;
    const tail = this.splitter?.flush();
    if (tail && o.meter!.onEvent(tail.event, tail.data) && this.hide && !this.clientGone) this.res.write(tail.raw);
    o.complete = !this.clientGone;
    this.res.end();
    this.finish(o);
  }

  onError(err: Error, responded: boolean): void {
    const { gc, res } = this;
    if (responded) {
      const o = this.outcome!;
      const tail = this.splitter?.flush();
      if (tail) o.meter!.onEvent(tail.event, tail.data);
      // The provider cut the answer (or the client went away): cut the client too, as the provider did.
      if (!res.destroyed) res.destroy();
      return this.finish(o);
    }
    if (this.clientGone) return this.finish({ status: 499, complete: false, streamed: false, meter: null, json: null, headerUsage: null });
    const timedOut = isHeadersTimeout(err);
    // Logged without the key or the body.
    this.log.warn({ provider: gc.provider, err: err.message, request_id: gc.requestId, ...(timedOut ? { timeout_ms: this.timeoutMs } : {}) }, timedOut ? 'upstream timed out' : 'upstream unreachable');
    const a = timedOut
      ? gatewayAnswer(gc.adapter, 'upstream', 504, `${gc.provider} did not answer within ${(this.timeoutMs ?? 0) / 1000} s (TOLLGATE_UPSTREAM_TIMEOUT_MS); Tollgate stopped waiting.`)
      : // Neither the error's text nor the upstream's address goes to the caller: the log has them.
        gatewayAnswer(gc.adapter, 'upstream', 502, `Tollgate could not reach ${gc.provider}; the call was not made (request ${gc.requestId}).`);
    res.writeHead(a.status, a.headers);
    res.end(a.body);
    this.finish(
      timedOut
        ? // The provider had the call and may bill its prompt: recorded with the estimated input, marked estimated.
          { status: 504, complete: false, streamed: false, meter: null, json: null, headerUsage: null }
        : // The provider never saw the call: recorded as a failed call that used nothing.
          { status: 502, complete: true, streamed: false, meter: null, json: null, headerUsage: { units: 0 } },
    );
  }

  private readonly meterEvent = (e: { event: string | undefined; data: string }) => this.outcome!.meter!.onEvent(e.event, e.data);
  private readonly keep = (e: { raw: string; event: string | undefined; data: string }) => {
    if (this.outcome!.meter!.onEvent(e.event, e.data)) this.held += e.raw;
  };

  private finish(o: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(o);
  }
}
