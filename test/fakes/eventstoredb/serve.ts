/**
 * Runs the EventStoreDB protocol fake (a test double, not a store) in its own process, so a drill can SIGKILL the app
 * and keep the log. Prints one line `{"grpc": <port>, "control": <port>}` on stdout once both listen.
 * Control (HTTP on loopback): POST /restart?downMs=n, POST /delay?ms=n, POST /fail?method=append&error=unavailable&times=n,
 * POST /drop?n=1 (answers lost after the write), POST /dump?file=<path> (Tollgate's events as JSON lines: position,
 * eventId, streamId, type, data; system events and id claims left out), GET /stats.
 */
import * as fs from 'fs';
import * as http from 'http';
import { FakeEventStoreDb, InjectedError } from './fake-eventstoredb';

async function main(): Promise<void> {
  const fake = await new FakeEventStoreDb({ port: Number(process.env.FAKE_ESDB_PORT ?? 0) }).start();
  const control = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    try {
      let body: unknown = { ok: true };
      if (url.pathname === '/restart') await fake.restart(Number(q.get('downMs') ?? 0));
      else if (url.pathname === '/delay') fake.delayMs = Number(q.get('ms') ?? 0);
      else if (url.pathname === '/fail') fake.injectError(q.get('method') as 'append', q.get('error') as InjectedError, Number(q.get('times') ?? 1));
      else if (url.pathname === '/drop') fake.dropConnectionAfterCommit(Number(q.get('n') ?? 1));
      else if (url.pathname === '/dump') body = { events: dump(fake, q.get('file')!) };
      else if (url.pathname === '/stats') body = { events: fake.log.length, calls: fake.calls, openReads: fake.openReads };
      else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (err) {
      res.writeHead(500).end(String((err as Error).stack));
    }
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  process.stdout.write(JSON.stringify({ grpc: fake.port, control: (control.address() as { port: number }).port }) + '\n');
  const stop = async () => {
    await fake.stop();
    control.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function dump(fake: FakeEventStoreDb, file: string): number {
  const lines: string[] = [];
  for (const r of fake.log) {
    if (r.type.startsWith('$') || r.streamId.startsWith('$') || r.streamId.startsWith('eventid-')) continue;
    const metadata = r.metadata.length ? JSON.parse(r.metadata.toString('utf8')) : {};
    lines.push(JSON.stringify({ position: Number(r.position), eventId: metadata.eventId ?? r.id, streamId: r.streamId, type: r.type, data: JSON.parse(r.data.toString('utf8')) }));
  }
  fs.writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''));
  return lines.length;
}

void main();
