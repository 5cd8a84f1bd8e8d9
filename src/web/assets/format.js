// Formatting helpers shared by the views. Pure functions, no DOM.

export const PROVIDERS = {
  gemini: { name: 'Gemini', color: '#1a73e8' },
  openai: { name: 'OpenAI', color: '#10a37f' },
  anthropic: { name: 'Anthropic', color: '#c15f3c' },
  mistral: { name: 'Mistral', color: '#e8590c' },
  tavily: { name: 'Tavily', color: '#6741d9' },
  serper: { name: 'Serper', color: '#0b7285' },
  exa: { name: 'Exa', color: '#364fc7' },
  metaphor: { name: 'Exa', color: '#364fc7' },
  firecrawl: { name: 'Firecrawl', color: '#d9480f' },
  stability: { name: 'Stability AI', color: '#862e9c' },
  huggingface: { name: 'Hugging Face', color: '#b08800' },
};

const FALLBACK_COLORS = ['#495057', '#2b8a3e', '#a61e4d', '#5f3dc4', '#1864ab', '#e67700'];

export function providerName(id) {
  return PROVIDERS[id]?.name ?? (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'Unknown');
}

export function providerColor(id, index = 0) {
  return PROVIDERS[id]?.color ?? FALLBACK_COLORS[index % FALLBACK_COLORS.length];
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DEC1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function num(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return INT.format(Number(n));
}

export function pct(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return `${DEC1.format(Number(n))}%`;
}

/** A share of a limit: "<0.1%" when something is used but it rounds to nothing. */
export function usedPct(percent, used) {
  if (percent !== null && percent !== undefined && Number(percent) < 0.05 && Number(used) > 0) return '<0.1%';
  return pct(percent);
}

/** USD: cents for a dollar or more, up to six decimals below (API costs carry six decimal places). */
export function usd(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  const v = Number(n);
  const abs = Math.abs(v);
  if (abs === 0) return '$0.00';
  if (abs >= 1) return `${v < 0 ? '-' : ''}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const s = abs.toFixed(6).replace(/0+$/, '');
  const [, frac = ''] = s.split('.');
  return `${v < 0 ? '-' : ''}$0.${frac.length < 2 ? frac.padEnd(2, '0') : frac}`;
}

export function ms(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return `${INT.format(Number(n))} ms`;
}

const DATE = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
const DATETIME = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: 'UTC' });
const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: 'UTC' });
const MONTH = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', timeZone: 'UTC' });

function toDate(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function date(v) {
  const d = toDate(v);
  return d ? DATE.format(d) : '–';
}

export function dateTime(v) {
  const d = toDate(v);
  return d ? `${DATETIME.format(d)} UTC` : '–';
}

/** A time of day as the page shows every time: UTC, 24-hour ("16:43:05 UTC"). */
export function timeUtc(v) {
  const d = toDate(v);
  return d ? `${TIME.format(d)} UTC` : '–';
}

export function month(v) {
  const d = toDate(v);
  return d ? MONTH.format(d) : '–';
}

/** A period's end is exclusive (the next period's start): show the last day it covers. */
export function periodRange(start, end) {
  const s = toDate(start);
  const e = toDate(end);
  if (!s || !e) return '–';
  const last = new Date(e.getTime() - 1);
  return `${DATE.format(s)} – ${DATE.format(last)}`;
}

/** Whole days left until `end`, counted from `now` (a partial day counts as one). */
export function daysLeft(end, now) {
  const e = toDate(end);
  if (!e) return null;
  return Math.max(0, Math.ceil((e.getTime() - now.getTime()) / 86_400_000));
}

const LIMIT_UNITS = { calls: 'calls', tokens: 'tokens' };

/** "gemini_calls" -> { provider: 'gemini', unit: 'calls' }; "total_tokens" -> { provider: null, unit: 'tokens' }. */
export function parseLimit(key) {
  if (key === 'monthly_cost' || key === 'cost') return { provider: null, unit: 'cost' };
  const m = /^(.+)_(calls|tokens)$/.exec(key);
  if (!m) return { provider: null, unit: key };
  return { provider: m[1] === 'total' ? null : m[1], unit: LIMIT_UNITS[m[2]] };
}

/** A limit's human name: "Gemini calls", "Total tokens", "Monthly cost". */
export function limitName(key) {
  const { provider, unit } = parseLimit(key);
  if (unit === 'cost') return 'Monthly cost';
  if (!provider) return `Total ${unit}`;
  return `${providerName(provider)} ${unit}`;
}

/** "800 of 5,000 Gemini calls", "$15.75 of $150.00 cost". */
export function limitFigure(key, used, limit) {
  const { provider, unit } = parseLimit(key);
  if (unit === 'cost') return `${usd(used)} of ${usd(limit)} monthly cost`;
  const what = provider ? `${providerName(provider)} ${unit}` : unit;
  return `${num(used)} of ${num(limit)} ${what}`;
}

/** The band a percentage falls in, by the plan's alert thresholds (80/90/100 by default). */
export function band(percent, thresholds = [80, 90, 100]) {
  const t = [...thresholds].sort((a, b) => a - b);
  if (percent >= (t[t.length - 1] ?? 100)) return 'critical';
  if (t.length > 1 && percent >= t[t.length - 2]) return 'warning';
  if (t.length > 2 && percent >= t[t.length - 3]) return 'notice';
  return 'ok';
}
