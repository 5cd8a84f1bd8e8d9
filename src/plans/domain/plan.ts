import { Money } from '../../../libs/money';
import { SubscriptionException } from '../../../libs/errors';
import { PROVIDER_IDS } from '../../config/config';

/** Stored event shapes (frozen). Limits: absent key = unlimited; counts are whole numbers, monthly_cost USD. */
export interface PlanDefinedData {
  plan_id: string;
  name: string;
  tier: number;
  /** Exact decimals (USD). */
  monthly_price: string;
  yearly_price: string;
  limits: Record<string, number>;
  alert_thresholds: number[];
  features: string[];
}
export interface PlanLimitsChangedData {
  plan_id: string;
  limits: Record<string, number>;
  alert_thresholds: number[];
}
export interface PlanPriceChangedData {
  plan_id: string;
  monthly_price: string;
  yearly_price: string;
}
export interface PlanDetailsChangedData {
  plan_id: string;
  name: string;
  tier: number;
  features: string[];
}
export interface PlanRetiredData {
  plan_id: string;
}

export type PlanEvent =
  | { type: 'PlanDefined'; data: PlanDefinedData }
  | { type: 'PlanLimitsChanged'; data: PlanLimitsChangedData }
  | { type: 'PlanPriceChanged'; data: PlanPriceChangedData }
  | { type: 'PlanDetailsChanged'; data: PlanDetailsChangedData }
  | { type: 'PlanRetired'; data: PlanRetiredData };

export const PLAN_EVENT_TYPES = ['PlanDefined', 'PlanLimitsChanged', 'PlanPriceChanged', 'PlanDetailsChanged', 'PlanRetired'] as const;

export const planStreamId = (planId: string) => `plan-${planId}`;

/** A plan as other modules see it (PlansFacade). */
export interface PlanView {
  plan_id: string;
  name: string;
  tier: number;
  monthly_price: string;
  yearly_price: string;
  limits: Record<string, number>;
  alert_thresholds: number[];
  features: string[];
  active: boolean;
}

export type PlanState = PlanView | null;

export function evolvePlan(state: PlanState, event: PlanEvent): PlanState {
  switch (event.type) {
    case 'PlanDefined':
      return { ...event.data, limits: { ...event.data.limits }, alert_thresholds: [...event.data.alert_thresholds], features: [...event.data.features], active: true };
    case 'PlanLimitsChanged':
      return state && { ...state, limits: { ...event.data.limits }, alert_thresholds: [...event.data.alert_thresholds] };
    case 'PlanPriceChanged':
      return state && { ...state, monthly_price: event.data.monthly_price, yearly_price: event.data.yearly_price };
    case 'PlanDetailsChanged':
      return state && { ...state, name: event.data.name, tier: event.data.tier, features: [...event.data.features] };
    case 'PlanRetired':
      return state && { ...state, active: false };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

/** Creates a plan, or changes what the command states of an existing one (a retired plan is defined anew). */
export interface PutPlan {
  type: 'PutPlan';
  data: {
    plan_id: string;
    name?: string;
    /** Order on the pricing page and for upgrade recommendations; the application picks one above the others when absent. */
    tier?: number;
    monthly_price?: string | number;
    yearly_price?: string | number;
    limits?: Record<string, number>;
    alert_thresholds?: number[];
    features?: string[];
  };
}
export interface RetirePlan {
  type: 'RetirePlan';
  data: { plan_id: string };
}
export type PlanCommand = PutPlan | RetirePlan;

export const DEFAULT_THRESHOLDS = [80, 90, 100];

export function decidePlan(command: PlanCommand, state: PlanState): PlanEvent[] {
  switch (command.type) {
    case 'PutPlan':
      return decidePut(command, state);
    case 'RetirePlan':
      if (!state) throw new SubscriptionException(`Plan "${command.data.plan_id}" does not exist.`, { plan_id: command.data.plan_id }, 404);
      return state.active ? [{ type: 'PlanRetired', data: { plan_id: state.plan_id } }] : [];
    default: {
      const unexpected: never = command;
      return unexpected;
    }
  }
}

function decidePut(command: PutPlan, state: PlanState): PlanEvent[] {
  const c = command.data;
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(c.plan_id)) throw new SubscriptionException('plan_id: lower-case letters, digits, "-" and "_" (up to 63).', { plan_id: c.plan_id }, 422);
  const limits = c.limits === undefined ? undefined : validLimits(c.limits);
  const thresholds = c.alert_thresholds === undefined ? undefined : validThresholds(c.alert_thresholds);
  const monthly = c.monthly_price === undefined ? undefined : validPrice('monthly_price', c.monthly_price);
  const yearly = c.yearly_price === undefined ? undefined : validPrice('yearly_price', c.yearly_price);
  const name = c.name === undefined ? undefined : validName(c.name);
  const features = c.features === undefined ? undefined : validFeatures(c.features);
  if (c.tier !== undefined && (!Number.isInteger(c.tier) || c.tier < 0)) throw new SubscriptionException('tier must be a whole number >= 0.', { tier: c.tier }, 422);

  if (!state || !state.active) {
    const missing = (['name', 'monthly_price', 'yearly_price', 'limits'] as const).filter((k) => c[k] === undefined && !state);
    if (missing.length) throw new SubscriptionException(`A new plan needs ${missing.join(', ')}.`, { missing }, 422);
    const data: PlanDefinedData = {
      plan_id: c.plan_id,
      name: name ?? state!.name,
      tier: c.tier ?? state?.tier ?? 0,
      monthly_price: monthly ?? state!.monthly_price,
      yearly_price: yearly ?? state!.yearly_price,
      limits: limits ?? state!.limits,
      alert_thresholds: thresholds ?? state?.alert_thresholds ?? DEFAULT_THRESHOLDS,
      features: features ?? state?.features ?? [],
    };
    return [{ type: 'PlanDefined', data }];
  }

  const events: PlanEvent[] = [];
  const next = {
    name: name ?? state.name,
    tier: c.tier ?? state.tier,
    features: features ?? state.features,
  };
  if (next.name !== state.name || next.tier !== state.tier || JSON.stringify(next.features) !== JSON.stringify(state.features))
    events.push({ type: 'PlanDetailsChanged', data: { plan_id: state.plan_id, ...next } });
  const m = monthly ?? state.monthly_price;
  const y = yearly ?? state.yearly_price;
  if (!new Money(m).eq(state.monthly_price) || !new Money(y).eq(state.yearly_price)) events.push({ type: 'PlanPriceChanged', data: { plan_id: state.plan_id, monthly_price: m, yearly_price: y } });
  const l = limits ?? state.limits;
  const t = thresholds ?? state.alert_thresholds;
  if (!sameLimits(l, state.limits) || JSON.stringify(t) !== JSON.stringify(state.alert_thresholds))
    events.push({ type: 'PlanLimitsChanged', data: { plan_id: state.plan_id, limits: l, alert_thresholds: t } });
  return events;
}

/** Limit names: total_calls, total_tokens, monthly_cost, {provider}_calls, {provider}_tokens. */
export function isLimitName(name: string): boolean {
  if (name === 'total_calls' || name === 'total_tokens' || name === 'monthly_cost') return true;
  const m = /^([a-z]+)_(calls|tokens)$/.exec(name);
  return !!m && (PROVIDER_IDS as readonly string[]).includes(m[1]);
}

function validLimits(limits: Record<string, unknown>): Record<string, number> {
  if (!limits || typeof limits !== 'object' || Array.isArray(limits)) throw new SubscriptionException('limits must be an object of limit name to number.', {}, 422);
  const out: Record<string, number> = {};
  for (const key of Object.keys(limits).sort()) {
    const v = limits[key];
    if (v === null || v === undefined) continue; // null: unlimited
    if (!isLimitName(key)) throw new SubscriptionException(`Unknown limit "${key}" (total_calls, total_tokens, monthly_cost, {provider}_calls, {provider}_tokens).`, { limit: key }, 422);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new SubscriptionException(`Limit ${key} must be a number >= 0.`, { limit: key }, 422);
    if (key !== 'monthly_cost' && !Number.isInteger(v)) throw new SubscriptionException(`Limit ${key} must be a whole number.`, { limit: key }, 422);
    out[key] = v;
  }
  return out;
}

function validThresholds(t: unknown): number[] {
  if (!Array.isArray(t) || t.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 100))
    throw new SubscriptionException('alert_thresholds: whole percentages from 1 to 100.', { alert_thresholds: t }, 422);
  return [...new Set(t as number[])].sort((a, b) => a - b);
}

function validPrice(field: string, v: string | number): string {
  try {
    const d = new Money(typeof v === 'number' ? String(v) : v.trim());
    if (!d.isFinite() || d.isNegative() || d.decimalPlaces() > 2) throw new Error();
    return d.toFixed();
  } catch {
    throw new SubscriptionException(`${field} must be an amount in USD >= 0 with at most 2 decimals.`, { [field]: v }, 422);
  }
}

function validName(n: string): string {
  if (typeof n !== 'string' || !n.trim() || n.length > 100) throw new SubscriptionException('name: 1 to 100 characters.', {}, 422);
  return n.trim();
}

function validFeatures(f: unknown): string[] {
  if (!Array.isArray(f) || f.some((x) => typeof x !== 'string')) throw new SubscriptionException('features: a list of strings.', {}, 422);
  return f as string[];
}

function sameLimits(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
