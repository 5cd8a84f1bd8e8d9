import type { OperationSpec } from '../operations';
import { bearer, CallDescription, CallRequest, describeCall, num, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

const JOB_STATUS = /^\/v\d+\/(crawl|batch\/scrape)\/([^/?]+)$/;
const EXTRACT_STATUS = /^\/v\d+\/extract\/([^/?]+)$/;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Firecrawl's page limit of a crawl that states none (docs.firecrawl.dev/api-reference/endpoint/crawl-post: 10,000). */
export const DEFAULT_CRAWL_LIMIT = 10_000;

/** The usage id of an async job: its start's record and, with `-settlement`, its settlement's. */
export const jobUsageId = (kind: string, id: string) => `firecrawl-${kind.replace('/', '-')}-${id}`;

/** Credits one page costs: 1, plus 4 for JSON extraction and 4 for the stealth proxy (docs.firecrawl.dev/billing). */
function creditsPerPage(options: any): number {
  const formats: unknown[] = Array.isArray(options?.formats) ? options.formats : [];
  const json = formats.some((f) => f === 'json' || (typeof f === 'object' && f !== null && (f as { type?: unknown }).type === 'json'));
  const stealth = options?.proxy === 'stealth';
  return 1 + (json ? 4 : 0) + (stealth ? 4 : 0);
}

/**
 * What Tollgate meters at Firecrawl (v2, and v1 for the older SDK): scrape, search, map, and the crawl, batch-scrape
 * and extract jobs with their status polls. Not listed: cancelling a job (DELETE), a crawl's errors, active crawls,
 * the team's credit and token usage.
 */
const FIRECRAWL_OPERATIONS: OperationSpec[] = ['v1', 'v2'].flatMap((v): OperationSpec[] => [
  { name: 'scrape', method: 'POST', path: `/${v}/scrape`, body: 'json', maxBodyBytes: 256 * 1024 },
  { name: 'search', method: 'POST', path: `/${v}/search`, body: 'json', maxBodyBytes: 256 * 1024 },
  { name: 'map', method: 'POST', path: `/${v}/map`, body: 'json', maxBodyBytes: 256 * 1024 },
  { name: 'crawl', method: 'POST', path: `/${v}/crawl`, body: 'json', maxBodyBytes: 256 * 1024 },
  { name: 'crawl_result', method: 'GET', path: `/${v}/crawl/{id}`, body: 'none' },
  { name: 'batch_scrape', method: 'POST', path: `/${v}/batch/scrape`, body: 'json', maxBodyBytes: 1024 * 1024 },
  { name: 'batch_scrape_result', method: 'GET', path: `/${v}/batch/scrape/{id}`, body: 'none' },
  { name: 'extract', method: 'POST', path: `/${v}/extract`, body: 'json', maxBodyBytes: 1024 * 1024 },
  { name: 'extract_result', method: 'GET', path: `/${v}/extract/{id}`, body: 'none' },
]);

/**
 * Firecrawl (v2 SDK adds `/v2`): `/v2/scrape` (`data.metadata.creditsUsed`), `/v2/search` (`creditsUsed`), and the
 * asynchronous jobs `/v2/crawl` and `/v2/batch/scrape`. A job is billed when it starts at its worst case (a crawl's
 * `limit` of pages, 10,000 when unstated; a batch's URLs; times the credits a page costs with its formats), recorded
 * under the job's own usage id `firecrawl-crawl-{id}`: a job whose results go to a webhook, and that no poll ever sees,
 * is billed that worst case. A status poll is not a billable call; the first poll that sees the job's terminal status
 * settles it to its `creditsUsed` with one correction record (`firecrawl-crawl-{id}-settlement`), which later polls
 * repeat and count nothing again. `/v2/extract` has no bound known before it runs: it is priced per job by the
 * operator's `extract` price, and not forwarded until there is one.
 */
export const firecrawl: ProviderAdapter = {
  id: 'firecrawl',
  operations: FIRECRAWL_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const body = req.body;
    const status = req.method === 'GET' ? JOB_STATUS.exec(req.path) : null;
    if (status) return describeCall({ operation: `${status[1].replace('/', '_')}_result`, model: 'scrape', free: true, usageId: jobUsageId(status[1], status[2]), settlesJob: true, unitKey: 'scrape' });
    if (req.method === 'GET' && EXTRACT_STATUS.test(req.path)) return describeCall({ operation: 'extract_result', model: 'extract', free: true });
    const parts = req.path.replace(/^\/+/, '').split('/');
    const operation = (/^v\d+$/.test(parts[0]) ? parts.slice(1) : parts).join('_') || 'scrape';
    if (req.method === 'POST' && operation === 'crawl') {
      const limit = typeof body?.limit === 'number' && body.limit > 0 ? Math.ceil(body.limit) : DEFAULT_CRAWL_LIMIT;
      return describeCall({ operation, model: 'scrape', units: limit * creditsPerPage(body?.scrapeOptions), unitKey: 'scrape' });
    }
    if (req.method === 'POST' && operation === 'batch_scrape') {
      const urls = Array.isArray(body?.urls) ? body.urls.length : 1;
      return describeCall({ operation, model: 'scrape', units: Math.max(1, urls) * creditsPerPage(body?.options ?? body), unitKey: 'scrape' });
    }
    if (req.method === 'POST' && operation === 'extract') return describeCall({ operation, model: 'extract', units: 1, unitKey: 'extract' });
    const units = operation === 'scrape' ? 1 : 0;
    return describeCall({ operation, model: 'scrape', units });
  },

  setKey: bearer,

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    if (call.settlesJob) return status < 400 && TERMINAL.has(body?.status) ? { units: num(body?.creditsUsed) } : null;
    if (call.operation === 'extract_result') return null;
    if (status >= 400) return { units: 0 };
    if (call.operation === 'crawl' || call.operation === 'batch_scrape') {
      // The start is the job's record: its worst case, under the job's id (a settlement corrects it later).
      const id = typeof body?.id === 'string' && body.id ? body.id : null;
      return id ? { units: call.units, usage_id: jobUsageId(call.operation === 'crawl' ? 'crawl' : 'batch/scrape', id) } : { units: call.units };
    }
    if (call.operation === 'extract') return { units: call.units };
    const credits = num(body?.data?.metadata?.creditsUsed) || num(body?.creditsUsed);
    return credits ? { units: credits } : null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (_kind, _status, message) => ({ success: false, error: message }),
};
