import { SubscriptionException } from '../../../libs/errors';
import { DEFAULT_PLANS } from '../default-plans';
import { PlanCommand, PlanEvent, decidePlan, evolvePlan } from './plan';

const given = (events: PlanEvent[]) => ({
  when: (command: PlanCommand) => {
    const state = events.reduce(evolvePlan, null);
    return {
      then: (expected: PlanEvent[]) => expect(decidePlan(command, state)).toEqual(expected),
      thenThrows: (status: number, message: RegExp) => {
        let err: unknown;
        try {
          decidePlan(command, state);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(SubscriptionException);
        expect((err as SubscriptionException).status).toBe(status);
        expect((err as Error).message).toMatch(message);
      },
    };
  },
});

const pro = DEFAULT_PLANS.find((p) => p.plan_id === 'pro')!;
const proDefined: PlanEvent = { type: 'PlanDefined', data: { ...pro } };

describe('Plans', () => {
  it('defines a new plan, with the default alert thresholds', () => {
    given([])
      .when({ type: 'PutPlan', data: { plan_id: 'team', name: 'Team', tier: 4, monthly_price: 49.5, yearly_price: '495', limits: { total_calls: 50000, monthly_cost: 80.5 } } })
      .then([
        {
          type: 'PlanDefined',
          data: { plan_id: 'team', name: 'Team', tier: 4, monthly_price: '49.5', yearly_price: '495', limits: { monthly_cost: 80.5, total_calls: 50000 }, alert_thresholds: [80, 90, 100], features: [] },
        },
      ]);
  });

  it('changes only what differs: limits', () => {
    given([proDefined])
      .when({ type: 'PutPlan', data: { plan_id: 'pro', limits: { ...pro.limits, gemini_calls: 6000 } } })
      .then([{ type: 'PlanLimitsChanged', data: { plan_id: 'pro', limits: { ...pro.limits, gemini_calls: 6000 }, alert_thresholds: [80, 90, 100] } }]);
  });

  it('changes prices and details with their own events', () => {
    given([proDefined])
      .when({ type: 'PutPlan', data: { plan_id: 'pro', name: 'Pro+', monthly_price: '89', yearly_price: 790 } })
      .then([
        { type: 'PlanDetailsChanged', data: { plan_id: 'pro', name: 'Pro+', tier: 2, features: pro.features } },
        { type: 'PlanPriceChanged', data: { plan_id: 'pro', monthly_price: '89', yearly_price: '790' } },
      ]);
  });

  it('changes nothing when the plan already is as stated', () => {
    given([proDefined]).when({ type: 'PutPlan', data: { plan_id: 'pro', monthly_price: '79.00', limits: pro.limits, alert_thresholds: [100, 90, 80] } }).then([]);
  });

  it('retires a plan once; a retired plan put again is defined anew from its last state', () => {
    given([proDefined]).when({ type: 'RetirePlan', data: { plan_id: 'pro' } }).then([{ type: 'PlanRetired', data: { plan_id: 'pro' } }]);
    given([proDefined, { type: 'PlanRetired', data: { plan_id: 'pro' } }]).when({ type: 'RetirePlan', data: { plan_id: 'pro' } }).then([]);
    given([proDefined, { type: 'PlanRetired', data: { plan_id: 'pro' } }])
      .when({ type: 'PutPlan', data: { plan_id: 'pro', monthly_price: 99 } })
      .then([{ type: 'PlanDefined', data: { ...pro, monthly_price: '99' } }]);
  });

  it('refuses unknown limits, fractional call counts, bad thresholds and incomplete new plans', () => {
    given([proDefined]).when({ type: 'PutPlan', data: { plan_id: 'pro', limits: { rocket_calls: 1 } } }).thenThrows(422, /Unknown limit "rocket_calls"/);
    given([proDefined]).when({ type: 'PutPlan', data: { plan_id: 'pro', limits: { total_calls: 1.5 } } }).thenThrows(422, /whole number/);
    given([proDefined]).when({ type: 'PutPlan', data: { plan_id: 'pro', alert_thresholds: [0, 120] } }).thenThrows(422, /alert_thresholds/);
    given([]).when({ type: 'PutPlan', data: { plan_id: 'solo', name: 'Solo' } }).thenThrows(422, /needs monthly_price, yearly_price, limits/);
    given([]).when({ type: 'RetirePlan', data: { plan_id: 'ghost' } }).thenThrows(404, /does not exist/);
  });
});

describe('The default plans', () => {
  it('carry the specification numbers', () => {
    const byId = Object.fromEntries(DEFAULT_PLANS.map((p) => [p.plan_id, p]));
    expect(DEFAULT_PLANS.map((p) => [p.plan_id, p.monthly_price, p.yearly_price])).toEqual([
      ['free', '0', '0'],
      ['basic', '29', '290'],
      ['pro', '79', '790'],
      ['enterprise', '199', '1990'],
    ]);
    expect([byId.free.limits.total_calls, byId.basic.limits.total_calls, byId.pro.limits.total_calls]).toEqual([1000, 10000, 100000]);
    expect([byId.pro.limits.gemini_calls, byId.pro.limits.monthly_cost]).toEqual([5000, 150]);
    expect(byId.enterprise.limits).toEqual({});
    // Every default is a valid plan definition.
    for (const p of DEFAULT_PLANS) expect(decidePlan({ type: 'PutPlan', data: p }, null)).toHaveLength(1);
  });
});
