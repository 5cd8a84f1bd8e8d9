// Types for the browser module format.js (used by the Node specs; the browser ignores this file).
export declare const PROVIDERS: Record<string, { name: string; color: string }>;
export declare function providerName(id: string): string;
export declare function providerColor(id: string, index?: number): string;
export declare function num(n: unknown): string;
export declare function pct(n: unknown): string;
export declare function usedPct(percent: unknown, used: unknown): string;
export declare function usd(n: unknown): string;
export declare function ms(n: unknown): string;
export declare function date(v: unknown): string;
export declare function dateTime(v: unknown): string;
export declare function timeUtc(v: unknown): string;
export declare function month(v: unknown): string;
export declare function periodRange(start: unknown, end: unknown): string;
export declare function daysLeft(end: unknown, now: Date): number | null;
export declare function parseLimit(key: string): { provider: string | null; unit: string };
export declare function limitName(key: string): string;
export declare function limitFigure(key: string, used: number | null, limit: number): string;
export declare function band(percent: number, thresholds?: number[]): 'ok' | 'notice' | 'warning' | 'critical';
