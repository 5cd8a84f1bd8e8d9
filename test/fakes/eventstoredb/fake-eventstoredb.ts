/**
 * A TEST DOUBLE OF EVENTSTOREDB'S gRPC PROTOCOL, NOT A STORE. It serves, on loopback, the service definitions the
 * official client ships (`@eventstore/db-client/generated/*_grpc_pb.js`), so the unchanged client connects to it with
 * `esdb://127.0.0.1:<port>?tls=false`. It implements only what Tollgate's adapter depends on, each rule taken from
 * the server's source as production-adapters.md describes it (the KurrentDB/EventStoreDB server, `src/EventStore.Core`
 * and `src/EventStore.Core/Services/Transport/Grpc`); each behaviour below names where it comes from. Nothing is
 * written to disk: the log lives as long as this object (a `restart()` keeps it, as a server keeps its database).
 *
 * Not modelled: clustering and gossip (one node), security/ACLs, BatchAppend (not advertised by ServerFeatures, so the
 * client uses Streams.Append, as with a server that predates it), stream deletion, links and projections, scavenging.
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'crypto';

/* eslint-disable @typescript-eslint/no-var-requires */
const streamsGrpc = require('@eventstore/db-client/generated/streams_grpc_pb');
const streamsPb = require('@eventstore/db-client/generated/streams_pb');
const sharedPb = require('@eventstore/db-client/generated/shared_pb');
const featuresGrpc = require('@eventstore/db-client/generated/serverfeatures_grpc_pb');
const featuresPb = require('@eventstore/db-client/generated/serverfeatures_pb');
/* eslint-enable @typescript-eslint/no-var-requires */

/** The server's default `MaxAppendSize` (ClusterVNodeOptions: 1,048,576 bytes), checked per append request. */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/** Expected versions as the server's core encodes them (ExpectedVersion.cs): Any -2, NoStream -1, StreamExists -4. */
const ANY = -2n;
const NO_STREAM = -1n;
const STREAM_EXISTS = -4n;

export interface FakeRecord {
  streamId: string;
  revision: bigint;
  id: string;
  type: string;
  contentType: string;
  data: Buffer;
  metadata: Buffer;
  created: bigint;
  /** Commit and prepare positions are equal for every event written through gRPC (one prepare per event). */
  position: bigint;
}

export type InjectedError = 'unavailable' | 'not-leader' | 'deadline' | 'access-denied';
type Method = 'append' | 'read' | 'subscribe';

interface Subscriber {
  call: grpc.ServerWritableStream<any, any>;
  matches: (r: FakeRecord) => boolean;
  /** Filtered subscriptions: a checkpoint every `interval` considered events (null: unfiltered, no checkpoints). */
  interval: number | null;
  considered: number;
  /** Catch-up runs until it reaches the live log; events appended meanwhile are read by the catch-up itself. */
  live: boolean;
}

export interface FakeEventStoreDbOptions {
  port?: number;
  maxAppendSize?: number;
  /**
   * Entries of the committed-events cache that decides idempotence for `any` / `stream_exists` (the server's
   * `_committedEvents` BoundedCache in IndexWriter; lost on restart, evicted under load). Default 10,000.
   */
  idempotenceCacheSize?: number;
}

/** Options every test can flip between calls. */
export class FakeEventStoreDb {
  readonly log: FakeRecord[] = [];
  private readonly streams = new Map<string, number[]>();
  private readonly committed = new Map<string, { streamId: string; revision: bigint }>();
  private server: grpc.Server | null = null;
  private subscribers = new Set<Subscriber>();
  private nextPosition = 1000n;
  port = 0;
  /** Delay before every call is processed (a slow or hung server). */
  delayMs = 0;
  private readonly injected: Array<{ method: Method; error: InjectedError }> = [];
  /** The next n appends are committed, then answered with UNAVAILABLE (the connection dropped before the answer). */
  private dropAfterCommit = 0;
  readonly calls: Record<Method, number> = { append: 0, read: 0, subscribe: 0 };
  /** Read calls the client has not finished or cancelled (a leaked read stays here). */
  openReads = 0;

  constructor(private readonly options: FakeEventStoreDbOptions = {}) {}

  get url(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  async start(): Promise<this> {
    const server = new grpc.Server();
    server.addService(streamsGrpc.StreamsService, {
      append: (call: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<any>) => this.onAppend(call, cb),
      read: (call: grpc.ServerWritableStream<any, any>) => this.onRead(call),
    });
    server.addService(featuresGrpc.ServerFeaturesService, {
      getSupportedMethods: (_call: unknown, cb: grpc.sendUnaryData<any>) => cb(null, this.supportedMethods()),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port || this.options.port || 0}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.server = server;
    // A fresh node writes its own system events first ($epoch records are not events; `$stats-<node>` is one).
    if (this.log.length === 0) this.writeSystemEvent();
    return this;
  }

  /**
   * A server restart: every connection drops (open reads and subscriptions end with UNAVAILABLE on the client), the
   * in-memory idempotence cache is gone, the log stays. `downMs`: how long the port refuses connections.
   */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    this.committed.clear();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  async stop(): Promise<void> {
    for (const s of this.subscribers) s.call.destroy(new Error('server shut down'));
    this.subscribers.clear();
    this.server?.forceShutdown();
    this.server = null;
    this.openReads = 0;
  }

  /** The next call of `method` fails with `error` before anything is written. */
  injectError(method: Method, error: InjectedError, times = 1): void {
    for (let i = 0; i < times; i++) this.injected.push({ method, error });
  }

  /** The next `n` appends are written, then the client gets UNAVAILABLE instead of the answer. */
  dropConnectionAfterCommit(n = 1): void {
    this.dropAfterCommit += n;
  }

  /** An event the server writes itself (`$statsCollected` in `$stats-<node>`: stats are written to the log every 30 s by default). */
  writeSystemEvent(): FakeRecord {
    const stream = `$stats-127.0.0.1:${this.port}`;
    const current = this.lastRevision(stream);
    return this.write(stream, current ?? -1n, [{ id: randomUUID(), type: '$statsCollected', contentType: 'application/json', data: Buffer.from('{"proc-cpu":1}'), metadata: Buffer.alloc(0) }])[0];
  }

  private supportedMethods(): unknown {
    // Server: ServerFeatures service (Services/Transport/Grpc/ServerFeatures.cs) lists the gRPC methods it serves.
    const methods = ['append', 'read'].map((m) => {
      const sm = new featuresPb.SupportedMethod();
      sm.setMethodName(m);
      sm.setServiceName('event_store.client.streams.streams');
      return sm;
    });
    const out = new featuresPb.SupportedMethods();
    out.setMethodsList(methods);
    out.setEventStoreServerVersion('24.10.0-fake');
    return out;
  }

  private async admit(method: Method): Promise<grpc.ServiceError | null> {
    this.calls[method]++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const i = this.injected.findIndex((x) => x.method === method);
    if (i < 0) return null;
    const [{ error }] = this.injected.splice(i, 1);
    return errorFor(error, this.port);
  }

  // ---- Append (Services/Transport/Grpc/Streams.Append.cs) ----

  private onAppend(call: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<any>): void {
    let options: any = null;
    const proposed: Array<{ id: string; type: string; contentType: string; data: Buffer; metadata: Buffer }> = [];
    let size = 0;
    let failed = false;
    const max = this.options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    call.on('data', (req: any) => {
      if (failed) return;
      if (req.hasOptions()) {
        options = req.getOptions();
        return;
      }
      const m = req.getProposedMessage();
      const md = m.getMetadataMap();
      const data = Buffer.from(m.getData_asU8());
      const metadata = Buffer.from(m.getCustomMetadata_asU8());
      // Streams.Append.cs sums each proposed message's size (Event.SizeOnDisk: type, data, metadata) and fails the
      // call with MaximumAppendSizeExceeded once the total passes MaxAppendSize.
      size += Buffer.byteLength(md.get('type') ?? '') + data.length + metadata.length;
      if (size > max) {
        failed = true;
        const md2 = new grpc.Metadata();
        md2.set('exception', 'maximum-append-size-exceeded');
        md2.set('maximum-append-size', String(max));
        cb({ code: grpc.status.INVALID_ARGUMENT, details: `Maximum Append Size of ${max} Exceeded.`, metadata: md2, name: 'Error', message: 'max append' } as grpc.ServiceError);
        return;
      }
      proposed.push({ id: m.getId().getString(), type: md.get('type'), contentType: md.get('content-type') ?? 'application/octet-stream', data, metadata });
    });
    call.on('end', async () => {
      if (failed) return;
      const err = await this.admit('append');
      if (err) return cb(err);
      const streamId = Buffer.from(options.getStreamIdentifier().getStreamName_asU8()).toString('utf8');
      const expected: bigint = options.hasAny() ? ANY : options.hasNoStream() ? NO_STREAM : options.hasStreamExists() ? STREAM_EXISTS : BigInt(options.getRevision());
      const outcome = this.commit(streamId, expected, proposed);
      const resp = new streamsPb.AppendResp();
      if (outcome.kind === 'wrong') {
        const w = new streamsPb.AppendResp.WrongExpectedVersion();
        if (outcome.current === null) w.setCurrentNoStream(new sharedPb.Empty());
        else w.setCurrentRevision(outcome.current.toString());
        if (expected === ANY) w.setExpectedAny(new sharedPb.Empty());
        else if (expected === NO_STREAM) w.setExpectedNoStream(new sharedPb.Empty());
        else if (expected === STREAM_EXISTS) w.setExpectedStreamExists(new sharedPb.Empty());
        else w.setExpectedRevision(expected.toString());
        resp.setWrongExpectedVersion(w);
      } else {
        // Success carries the stream's revision after the write and the write's position; an idempotent retry gets
        // the original write's (RequestManagerBase.Handle(AlreadyCommitted) -> ReturnCommitAt(logPosition)).
        const s = new streamsPb.AppendResp.Success();
        s.setCurrentRevision(outcome.last.revision.toString());
        const p = new streamsPb.AppendResp.Position();
        p.setCommitPosition(outcome.last.position.toString());
        p.setPreparePosition(outcome.last.position.toString());
        s.setPosition(p);
        resp.setSuccess(s);
        if (this.dropAfterCommit > 0) {
          this.dropAfterCommit--;
          return cb({ code: grpc.status.UNAVAILABLE, details: 'Connection dropped (fake: written, not answered)', name: 'Error', message: 'dropped' } as grpc.ServiceError);
        }
      }
      cb(null, resp);
    });
  }

  /**
   * The expected-version and idempotence rules of IndexWriter.CheckCommitStartingAt / CheckCommit:
   * - an exact revision (or NoStream, i.e. -1) below the stream's current revision: if the events after it carry
   *   the same ids in order, the write is idempotent (read from the index: survives restarts); otherwise wrong version;
   * - Any / StreamExists: idempotent only when the first id is in the bounded committed-events cache for this stream
   *   (lost on restart, evicted under load); otherwise written again;
   * - StreamExists on a missing stream, NoStream on an existing one, an exact revision above current: wrong version.
   */
  private commit(streamId: string, expected: bigint, events: Array<{ id: string; type: string; contentType: string; data: Buffer; metadata: Buffer }>): { kind: 'ok'; last: FakeRecord } | { kind: 'wrong'; current: bigint | null } {
    const current = this.lastRevision(streamId);
    const cur = current ?? -1n;
    if (expected === ANY || expected === STREAM_EXISTS) {
      const hit = this.committed.get(events[0].id);
      if (hit && hit.streamId === streamId) {
        const first = this.recordAt(streamId, hit.revision);
        const all = events.every((e, i) => this.recordAt(streamId, hit.revision + BigInt(i))?.id === e.id);
        if (first && all) return { kind: 'ok', last: this.recordAt(streamId, hit.revision + BigInt(events.length - 1))! };
      }
      if (expected === STREAM_EXISTS && current === null) return { kind: 'wrong', current: null };
      return { kind: 'ok', last: this.last(this.write(streamId, cur, events)) };
    }
    if (expected === cur) return { kind: 'ok', last: this.last(this.write(streamId, cur, events)) };
    if (expected < cur) {
      const matched = events.map((e, i) => this.recordAt(streamId, expected + 1n + BigInt(i))?.id === e.id);
      // All match: idempotent. The first matches but not all: CorruptedIdempotency, answered as wrong version.
      if (matched.every(Boolean)) return { kind: 'ok', last: this.recordAt(streamId, expected + BigInt(events.length))! };
    }
    return { kind: 'wrong', current };
  }

  private last(records: FakeRecord[]): FakeRecord {
    return records[records.length - 1];
  }

  private write(streamId: string, after: bigint, events: Array<{ id: string; type: string; contentType: string; data: Buffer; metadata: Buffer }>): FakeRecord[] {
    const indices = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, indices);
    const created = BigInt(Date.now()) * 10_000n + 621_355_968_000_000_000n;
    const out: FakeRecord[] = [];
    let revision = after;
    for (const e of events) {
      revision += 1n;
      const record: FakeRecord = { streamId, revision, id: e.id, type: e.type, contentType: e.contentType, data: e.data, metadata: e.metadata, created, position: this.nextPosition };
      // Positions are byte offsets in the transaction file: each record takes its size plus a header.
      this.nextPosition += BigInt(100 + streamId.length + e.type.length + e.data.length + e.metadata.length);
      indices.push(this.log.length);
      this.log.push(record);
      this.remember(e.id, streamId, revision);
      out.push(record);
    }
    for (const r of out) for (const s of this.subscribers) if (s.live) this.pushLive(s, r);
    return out;
  }

  private remember(id: string, streamId: string, revision: bigint): void {
    const max = this.options.idempotenceCacheSize ?? 10_000;
    this.committed.set(id, { streamId, revision });
    while (this.committed.size > max) this.committed.delete(this.committed.keys().next().value as string);
  }

  private lastRevision(streamId: string): bigint | null {
    const s = this.streams.get(streamId);
    return s?.length ? this.log[s[s.length - 1]].revision : null;
  }

  private recordAt(streamId: string, revision: bigint): FakeRecord | undefined {
    const s = this.streams.get(streamId);
    if (!s || revision < 0n || revision >= BigInt(s.length)) return undefined;
    return this.log[s[Number(revision)]];
  }

  // ---- Read (Services/Transport/Grpc/Streams.Read.cs and the Enumerators) ----

  /** Index of the first record at or after `position` (the log is in position order). */
  private firstAtOrAfter(position: bigint): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid].position < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private async onRead(call: grpc.ServerWritableStream<any, any>): Promise<void> {
    const o = call.request.getOptions();
    const subscription = o.hasSubscription();
    const err = await this.admit(subscription ? 'subscribe' : 'read');
    if (err) return void call.emit('error', err);
    if (call.cancelled) return;
    if (subscription) return this.subscribe(call, o);
    this.openReads++;
    let open = true;
    const close = () => {
      if (open) this.openReads--;
      open = false;
    };
    call.on('cancelled', close);
    call.on('close', close);
    const backwards = o.getReadDirection() === 1;
    const count = BigInt(o.getCount());
    // The records to send, lazily, in order: an index walk over the stream's or the log's array (both sorted).
    let next: () => FakeRecord | undefined;
    if (o.hasStream()) {
      const so = o.getStream();
      const streamId = Buffer.from(so.getStreamIdentifier().getStreamName_asU8()).toString('utf8');
      const indices = this.streams.get(streamId);
      if (!indices) {
        const nf = new streamsPb.ReadResp.StreamNotFound();
        nf.setStreamIdentifier(so.getStreamIdentifier());
        const resp = new streamsPb.ReadResp();
        resp.setStreamNotFound(nf);
        call.write(resp);
        close();
        return void call.end();
      }
      const n = indices.length;
      const from = so.hasRevision() ? Number(so.getRevision()) : so.hasEnd() ? n - 1 : 0;
      let i = backwards ? Math.min(from, n - 1) : from;
      next = () => (backwards ? (i >= 0 ? this.log[indices[i--]] : undefined) : i < n ? this.log[indices[i++]] : undefined);
    } else {
      const ao = o.getAll();
      // $all forwards from a position: from that position on (inclusive); backwards: the events before it.
      const from = ao.hasPosition() ? BigInt(ao.getPosition().getCommitPosition()) : null;
      let i: number;
      if (backwards) i = ao.hasEnd() || from === null ? this.log.length - 1 : this.firstAtOrAfter(from) - 1;
      else i = ao.hasStart() || from === null ? 0 : this.firstAtOrAfter(from);
      next = () => (backwards ? (i >= 0 ? this.log[i--] : undefined) : i < this.log.length ? this.log[i++] : undefined);
    }
    let sent = 0n;
    for (let r = next(); r && sent < count && !call.cancelled; r = next()) {
      // Written with backpressure, as the server's channel writer waits for the client to read.
      if (!call.write(eventResp(r))) await new Promise((res) => call.once('drain', res));
      sent++;
    }
    close();
    call.end();
  }

  /**
   * Catch-up then live ($all). Filtered: checkpoints after the events they cover, every
   * `checkpointIntervalMultiplier * maxSearchWindow` (default window 32) considered events in catch-up and live, and
   * one at go-live (Enumerators.AllSubscriptionFiltered); then `caughtUp`. The starting position is exclusive.
   */
  private subscribe(call: grpc.ServerWritableStream<any, any>, o: any): void {
    const ao = o.getAll();
    const matches = filterOf(o);
    const interval = o.hasFilter() ? (o.getFilter().getCheckpointintervalmultiplier() || 1) * (o.getFilter().hasMax() ? o.getFilter().getMax() : 32) : null;
    const sub: Subscriber = { call, matches, interval, considered: 0, live: false };
    const confirm = new streamsPb.ReadResp();
    const c = new streamsPb.ReadResp.SubscriptionConfirmation();
    c.setSubscriptionId(randomUUID());
    confirm.setConfirmation(c);
    call.write(confirm);
    this.subscribers.add(sub);
    const drop = () => this.subscribers.delete(sub);
    call.on('cancelled', drop);
    call.on('close', drop);
    const after = ao.hasPosition() ? BigInt(ao.getPosition().getCommitPosition()) : ao.hasEnd() ? this.nextPosition : -1n;
    void (async () => {
      let i = this.firstAtOrAfter(after + 1n);
      let last: FakeRecord | null = null;
      // Events appended during catch-up are read by the loop (it runs to the log's end as it stands then).
      while (i < this.log.length) {
        if (call.cancelled || !this.subscribers.has(sub)) return;
        const r = this.log[i++];
        last = r;
        if (!this.consider(sub, r) && call.writableLength > 1 << 20) await new Promise((res) => call.once('drain', res));
        if (i % 256 === 0) await new Promise((res) => setImmediate(res));
      }
      if (call.cancelled || !this.subscribers.has(sub)) return;
      if (interval !== null && last) call.write(checkpointResp(last.position));
      const cu = new streamsPb.ReadResp();
      cu.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
      call.write(cu);
      sub.live = true;
    })();
  }

  /** Sends the event if it matches, then a checkpoint when the interval is reached. Returns call.write's answer. */
  private consider(sub: Subscriber, r: FakeRecord): boolean {
    let ok = true;
    if (sub.matches(r)) ok = sub.call.write(eventResp(r));
    if (sub.interval !== null && ++sub.considered % sub.interval === 0) ok = sub.call.write(checkpointResp(r.position)) && ok;
    return ok;
  }

  private pushLive(sub: Subscriber, r: FakeRecord): void {
    if (sub.call.cancelled) return;
    this.consider(sub, r);
  }
}

function filterOf(o: any): (r: FakeRecord) => boolean {
  if (!o.hasFilter()) return () => true;
  const f = o.getFilter();
  const onType = f.hasEventType();
  const expr = onType ? f.getEventType() : f.getStreamIdentifier();
  const prefixes: string[] = expr.getPrefixList();
  const regex = expr.getRegex() ? new RegExp(expr.getRegex()) : null;
  return (r) => {
    const subject = onType ? r.type : r.streamId;
    if (prefixes.length) return prefixes.some((p) => subject.startsWith(p));
    return regex ? regex.test(subject) : true;
  };
}

function eventResp(r: FakeRecord): unknown {
  const rec = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(r.id);
  rec.setId(id);
  const sid = new sharedPb.StreamIdentifier();
  sid.setStreamName(Buffer.from(r.streamId, 'utf8'));
  rec.setStreamIdentifier(sid);
  rec.setStreamRevision(r.revision.toString());
  rec.setPreparePosition(r.position.toString());
  rec.setCommitPosition(r.position.toString());
  const md = rec.getMetadataMap();
  md.set('type', r.type);
  md.set('content-type', r.contentType);
  md.set('created', r.created.toString());
  rec.setCustomMetadata(r.metadata);
  rec.setData(r.data);
  const ev = new streamsPb.ReadResp.ReadEvent();
  ev.setEvent(rec);
  ev.setCommitPosition(r.position.toString());
  const resp = new streamsPb.ReadResp();
  resp.setEvent(ev);
  return resp;
}

function checkpointResp(position: bigint): unknown {
  const cp = new streamsPb.ReadResp.Checkpoint();
  cp.setCommitPosition(position.toString());
  cp.setPreparePosition(position.toString());
  const resp = new streamsPb.ReadResp();
  resp.setCheckpoint(cp);
  return resp;
}

/** Errors as the server sends them (RpcExceptions.cs): status codes plus the `exception` trailer the client reads. */
function errorFor(kind: InjectedError, port: number): grpc.ServiceError {
  const md = new grpc.Metadata();
  const mk = (code: grpc.status, details: string) => ({ code, details, metadata: md, name: 'Error', message: details }) as grpc.ServiceError;
  switch (kind) {
    case 'unavailable':
      return mk(grpc.status.UNAVAILABLE, 'Server Is Not Ready');
    case 'not-leader':
      md.set('exception', 'not-leader');
      md.set('leader-endpoint-host', '127.0.0.1');
      md.set('leader-endpoint-port', String(port));
      return mk(grpc.status.NOT_FOUND, 'Leader info available');
    case 'deadline':
      return mk(grpc.status.DEADLINE_EXCEEDED, 'Deadline Exceeded');
    case 'access-denied':
      md.set('exception', 'access-denied');
      return mk(grpc.status.PERMISSION_DENIED, 'Access Denied');
  }
}
