// Types for the browser module adapters.js (used by the Node specs; the browser ignores this file).
export interface Summary {
  planName?: string;
  totalCalls: number;
  totalCost: number;
  limits: Record<string, number>;
  percentages: Record<string, number | null>;
  breakdown: Record<string, { calls?: number; tokens?: number; cost?: number }>;
  [k: string]: unknown;
}
export interface LimitRow { key: string; limit: number; used: number | null; percent: number | null }
export declare function summary(data: { dashboard?: unknown; usage?: unknown; status?: unknown }): Summary;
export declare function usedFor(key: string, sum: Summary): number | null;
export declare function limitRows(sum: Summary): LimitRow[];
export declare function providerRows(sum: Summary): Array<{ provider: string; calls: number; tokens: number; cost: number; errors: number | null }>;
export declare function performanceRows(sum: Summary, usage: unknown): Array<Record<string, unknown>>;
export declare function trendSeries(trends: unknown): { buckets: Array<{ start: string; total: Record<string, number>; providers: Record<string, Record<string, number>> }>; providers: string[] };
export declare function alertList(alerts: unknown): Array<Record<string, any>>;
export declare function billingRows(billing: unknown): Array<Record<string, unknown>>;
export declare function tenantUsers(keys: unknown): string[];
export declare function logPage(logs: unknown): { items: Array<Record<string, any>>; next: string | null };
