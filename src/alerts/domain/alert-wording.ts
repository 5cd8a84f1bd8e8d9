import Decimal from 'decimal.js';
import { formatCount, formatUsd, limitSubject, providerName } from './limit-usage';
import { Severity } from './severity';

const HEADINGS: Record<Severity, string> = {
  info: 'API Usage Notice',
  warning: 'API Usage Warning',
  critical: 'API Usage Limit Reached',
};

/**
 * Title and message in the specification's style: "API Usage Notice - Gemini",
 * "You have used 4,000 of 5,000 Gemini API calls".
 */
export function describeAlert(limitKey: string, severity: Severity, value: Decimal.Value, limitValue: Decimal.Value): { title: string; message: string } {
  const s = limitSubject(limitKey);
  const who = s?.provider ? providerName(s.provider) : null;
  const title = who ? `${HEADINGS[severity]} - ${who}` : HEADINGS[severity];
  if (!s) return { title, message: `You have used ${formatCount(value)} of ${formatCount(limitValue)} (${limitKey})` };
  const prefix = who ? `${who} ` : '';
  switch (s.measure) {
    case 'calls':
      return { title, message: `You have used ${formatCount(value)} of ${formatCount(limitValue)} ${prefix}API calls` };
    case 'tokens':
      return { title, message: `You have used ${formatCount(value)} of ${formatCount(limitValue)} ${prefix}tokens` };
    case 'units':
      return { title, message: `You have used ${formatCount(value)} of ${formatCount(limitValue)} ${prefix}billable units` };
    case 'cost':
      return { title, message: `You have used ${formatUsd(value)} of your ${formatUsd(limitValue)} ${prefix}monthly cost limit` };
    default: {
      const never: never = s.measure;
      throw new Error(`Unknown measure ${String(never)}`);
    }
  }
}

export function describeRenewal(planName: string, periodEnd: string, daysLeft: number, ending: boolean): { title: string; message: string } {
  const day = periodEnd.slice(0, 10);
  const when = daysLeft <= 0 ? 'today' : daysLeft === 1 ? 'in 1 day' : `in ${daysLeft} days`;
  return ending
    ? { title: 'Subscription Ending Notice', message: `Your ${planName} subscription ends on ${day} (${when}).` }
    : { title: 'Subscription Renewal Notice', message: `Your ${planName} subscription renews on ${day} (${when}); usage counters start again then.` };
}
