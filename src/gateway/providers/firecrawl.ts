import type { OperationSpec } from '../operations';
import { bearer, CallDescription, CallRequest, describeCall, num, ProviderAdapter, Usage } from './provider';
import { NoStreamMeter } from './no-stream';

const CRAWL_STATUS = /^\/v\d+\/(crawl|batch\/scrape)\/([^/?]+)$/;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Firecrawl (v2 SDK adds `/v2`): `/v2/scrape` (`data.metadata.creditsUsed`), `/v2/search` (`creditsUsed`),
 * `/v2/crawl` (async). A crawl's credits cover the whole job and are reported by its status poll: the poll is not a
 * billable call, and the job's credits are recorded once, at the terminal status, under the id `firecrawl-crawl-{id}`
 * (every later poll repeats that id and counts nothing again). Starting the crawl is one call with no units.
 */
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

export const firecrawl: ProviderAdapter = {
  id: 'firecrawl',
  operations: FIRECRAWL_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const status = req.method === 'GET' ? CRAWL_STATUS.exec(req.path) : null;
    if (status) return describeCall({ operation: 'crawl_result', model: 'scrape', free: true, usageId: `firecrawl-${status[1].replace('/', '-')}-${status[2]}` });
    const parts = req.path.replace(/^\/+/, '').split('/');
    const operation = (/^v\d+$/.test(parts[0]) ? parts.slice(1) : parts).join('_') || 'scrape';
    const units = operation === 'scrape' ? 1 : 0;
    return describeCall({ operation, model: 'scrape', units });
  },

  setKey: bearer,

  usageFromBody(body: any, call: CallDescription, status: number): Usage | null {
    if (call.operation === 'crawl_result') return status < 400 && TERMINAL.has(body?.status) ? { units: num(body?.creditsUsed) } : null;
    if (status >= 400) return { units: 0 };
    if (call.operation === 'crawl' || call.operation === 'batch_scrape') return { units: 0 };
    const credits = num(body?.data?.metadata?.creditsUsed) || num(body?.creditsUsed);
    return credits ? { units: credits } : null;
  },

  streamMeter: () => new NoStreamMeter(),

  errorBody: (_kind, _status, message) => ({ success: false, error: message }),
};
