/**
 * The one place that says how loud an alert is: a threshold of 100 percent (or more) is critical, 90 or more a
 * warning, anything lower a notice. The renewal notice is informational.
 */
export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export function severityFor(thresholdPercent: number): Severity {
  if (thresholdPercent >= 100) return 'critical';
  if (thresholdPercent >= 90) return 'warning';
  return 'info';
}
