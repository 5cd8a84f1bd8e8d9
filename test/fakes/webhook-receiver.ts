import * as http from 'http';
import { AddressInfo } from 'net';
import { createHmac, timingSafeEqual } from 'crypto';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** The signature checked here, independently of Tollgate's code: HMAC-SHA256 over "<timestamp>.<body>". */
  signatureValid: boolean;
  /** The status this receiver answered. */
  answered: number;
}

/**
 * A loopback webhook receiver: verifies each delivery's signature with the shared secret, answers 500 to the first
 * `failFirst` deliveries (then 200), or never answers when `hang` is set (a dead endpoint).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server!: http.Server;
  private readonly hanging: http.ServerResponse[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(private readonly options: { secret: string; failFirst?: number; hang?: boolean }) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (this.options.hang) {
          this.hanging.push(res);
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-tollgate-timestamp'] ?? '');
        const sig = String(req.headers['x-tollgate-signature'] ?? '');
        const expected = 'sha256=' + createHmac('sha256', this.options.secret).update(`${ts}.${body}`).digest('hex');
        const signatureValid = sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
        const answered = this.received.length < (this.options.failFirst ?? 0) ? 500 : signatureValid ? 200 : 401;
        let json: any = null;
        try {
          json = JSON.parse(body);
        } catch {
          /* not JSON */
        }
        this.received.push({ headers: req.headers, body, json, signatureValid, answered });
        res.writeHead(answered, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: answered === 200 }));
        this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/tollgate`;
  }

  /** Resolves once `n` deliveries have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Only ${this.received.length} of ${n} webhook deliveries arrived`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
