import { billingId, decide, effectiveAt, evolve, initialState, PlanTerms, SubscriptionCommand } from './subscription';
import { SubscriptionEvent, UsageTotals } from './subscription-events';

/** given(events).when(command).then(events): the decider's specification, on events only. */
const given = (...history: SubscriptionEvent[]) => ({
  when: (command: SubscriptionCommand) => ({
    then: (expected: SubscriptionEvent[]) => expect(decide(command, history.reduce(evolve, initialState()))).toEqual(expected),
    thenFails: (code: string, status: number) => {
      let error: any;
      try {
        decide(command, history.reduce(evolve, initialState()));
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code, status });
    },
  }),
});

const T = 'shop-1';
const U = 'alice';
const free: PlanTerms = { plan_id: 'free', tier: 0, price: '0' };
const basic: PlanTerms = { plan_id: 'basic', tier: 1, price: '29' };
const pro: PlanTerms = { plan_id: 'pro', tier: 2, price: '79' };
const none: UsageTotals = { calls: 0, tokens: 0, cost: '0', providers: {} };
const used: UsageTotals = { calls: 12, tokens: 3000, cost: '1.2345675', providers: { openai: { calls: 10, tokens: 2500, cost: '1.2' }, tavily: { calls: 2, tokens: 500, cost: '0.0345675' } } };
const d = (iso: string) => new Date(iso);

const defaultAssigned: SubscriptionEvent = {
  type: 'DefaultPlanAssigned',
  data: { tenant_id: T, user_id: U, plan_id: 'free', billing_cycle: 'monthly', price: '0', period_start: '2025-01-31T09:00:00.000Z', period_end: '2025-02-28T09:00:00.000Z', assigned_at: '2025-01-31T09:00:00.000Z' },
};
const subscribedPro: SubscriptionEvent = {
  type: 'Subscribed',
  data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, plan_id: 'pro', billing_cycle: 'monthly', price: '79', period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z', subscribed_at: '2025-03-01T00:00:00.000Z' },
};

describe('The subscription aggregate', () => {
  describe('default plan', () => {
    it('puts a new user on the default plan, monthly from the first contact', () =>
      given().when({ type: 'AssignDefaultPlan', data: { tenant_id: T, user_id: U, plan: free, at: d('2025-01-31T09:00:00.000Z') } }).then([defaultAssigned]));

    it('does nothing the second time', () => given(defaultAssigned).when({ type: 'AssignDefaultPlan', data: { tenant_id: T, user_id: U, plan: free, at: d('2025-02-02T00:00:00.000Z') } }).then([]));
  });

  describe('subscribe', () => {
    it('starts a subscription anchored at the moment of subscribing', () =>
      given()
        .when({ type: 'Subscribe', data: { tenant_id: T, user_id: U, subscription_id: 'sub-1', plan: pro, billing_cycle: 'monthly', at: d('2025-03-01T00:00:00.000Z'), totals: none } })
        .then([subscribedPro]));

    it('closes the default-plan period early (with its usage and a billing record) when a default user subscribes', () => {
      const at = d('2025-02-10T09:00:00.000Z');
      const billing_id = billingId(T, U, '2025-01-31T09:00:00.000Z', null);
      given(defaultAssigned)
        .when({ type: 'Subscribe', data: { tenant_id: T, user_id: U, subscription_id: 'sub-2', plan: basic, billing_cycle: 'yearly', at, totals: used } })
        .then([
          {
            type: 'PeriodReset',
            data: {
              tenant_id: T,
              user_id: U,
              subscription_id: null,
              plan_id: 'free',
              billing_cycle: 'monthly',
              period_start: '2025-01-31T09:00:00.000Z',
              period_end: '2025-02-10T09:00:00.000Z',
              reason: 'subscribed',
              totals: used,
              billing_id,
              next_period_start: '2025-02-10T09:00:00.000Z',
              next_period_end: '2026-02-10T09:00:00.000Z',
              next_price: '29',
              closed_at: '2025-02-10T09:00:00.000Z',
            },
          },
          {
            type: 'BillingRecorded',
            data: {
              billing_id,
              tenant_id: T,
              user_id: U,
              subscription_id: null,
              billing_cycle: 'monthly',
              period_start: '2025-01-31T09:00:00.000Z',
              period_end: '2025-02-10T09:00:00.000Z',
              plans: [{ plan_id: 'free', from: '2025-01-31T09:00:00.000Z', to: '2025-02-10T09:00:00.000Z', price: '0', base_fee: '0.00' }],
              base_fee: '0.00',
              usage_cost_by_provider: { openai: '1.2', tavily: '0.0345675' },
              usage_cost: '1.2345675',
              total: '1.23',
              currency: 'USD',
              status: 'pending',
              recorded_at: '2025-02-10T09:00:00.000Z',
            },
          },
          {
            type: 'Subscribed',
            data: { subscription_id: 'sub-2', tenant_id: T, user_id: U, plan_id: 'basic', billing_cycle: 'yearly', price: '29', period_start: '2025-02-10T09:00:00.000Z', period_end: '2026-02-10T09:00:00.000Z', subscribed_at: '2025-02-10T09:00:00.000Z' },
          },
        ]);
    });

    it('refuses a second subscription (409 subscription_error)', () =>
      given(subscribedPro)
        .when({ type: 'Subscribe', data: { tenant_id: T, user_id: U, subscription_id: 'sub-3', plan: basic, billing_cycle: 'monthly', at: d('2025-03-05T00:00:00.000Z'), totals: none } })
        .thenFails('subscription_error', 409));
  });

  describe('change plan', () => {
    const upgrade: SubscriptionEvent = {
      type: 'PlanChanged',
      data: {
        subscription_id: 'sub-1',
        tenant_id: T,
        user_id: U,
        previous_plan_id: 'basic',
        new_plan_id: 'pro',
        direction: 'upgrade',
        reason: 'more calls',
        changed_at: '2025-03-16T12:00:00.000Z',
        price: '79',
        period_start: '2025-03-01T00:00:00.000Z',
        period_end: '2025-04-01T00:00:00.000Z',
        exhausted_limits: [],
      },
    };
    const subscribedBasic: SubscriptionEvent = { type: 'Subscribed', data: { ...(subscribedPro.data as any), plan_id: 'basic', price: '29' } };

    it('upgrades: PlanChanged with the previous plan, the new one, when and why', () =>
      given(subscribedBasic)
        .when({ type: 'ChangePlan', data: { plan: pro, current_plan: basic, reason: 'more calls', at: d('2025-03-16T12:00:00.000Z'), limits: { total_calls: 100000 }, usage: { total_calls: 10 } } })
        .then([upgrade]));

    it('downgrades below what was used: the exhausted limits are named (nothing of them remains this period)', () =>
      given(subscribedPro)
        .when({
          type: 'ChangePlan',
          data: { plan: basic, current_plan: pro, reason: null, at: d('2025-03-20T00:00:00.000Z'), limits: { total_calls: 10000, openai_calls: 5000, monthly_cost: 40 }, usage: { total_calls: 12000, openai_calls: 4000, monthly_cost: 40 } },
        })
        .then([
          {
            type: 'PlanChanged',
            data: {
              subscription_id: 'sub-1',
              tenant_id: T,
              user_id: U,
              previous_plan_id: 'pro',
              new_plan_id: 'basic',
              direction: 'downgrade',
              reason: null,
              changed_at: '2025-03-20T00:00:00.000Z',
              price: '29',
              period_start: '2025-03-01T00:00:00.000Z',
              period_end: '2025-04-01T00:00:00.000Z',
              exhausted_limits: ['monthly_cost', 'total_calls'],
            },
          },
        ]));

    it('refuses a change to the same plan, and a change without a subscription', () => {
      given(subscribedPro)
        .when({ type: 'ChangePlan', data: { plan: pro, current_plan: pro, reason: null, at: d('2025-03-20T00:00:00.000Z'), limits: {}, usage: {} } })
        .thenFails('subscription_error', 409);
      given(defaultAssigned)
        .when({ type: 'ChangePlan', data: { plan: pro, current_plan: free, reason: null, at: d('2025-02-01T00:00:00.000Z'), limits: {}, usage: {} } })
        .thenFails('subscription_error', 409);
    });

    it('prorates the base fee of each plan by the time it was in force when the period closes', () => {
      const [reset, bill] = decide(
        { type: 'ClosePeriod', data: { period_end: '2025-04-01T00:00:00.000Z', at: d('2025-04-01T00:00:30.000Z'), totals: none, next_price: '79', fallback: free } },
        [subscribedBasic, upgrade].reduce(evolve, initialState()),
      );
      expect(reset.type).toBe('PeriodReset');
      // Basic for 15.5 of 31 days (29 / 2 = 14.50), Pro for the other 15.5 (79 / 2 = 39.50).
      expect(bill).toEqual({
        type: 'BillingRecorded',
        data: expect.objectContaining({
          plans: [
            { plan_id: 'basic', from: '2025-03-01T00:00:00.000Z', to: '2025-03-16T12:00:00.000Z', price: '29', base_fee: '14.50' },
            { plan_id: 'pro', from: '2025-03-16T12:00:00.000Z', to: '2025-04-01T00:00:00.000Z', price: '79', base_fee: '39.50' },
          ],
          base_fee: '54.00',
          total: '54.00',
          recorded_at: '2025-04-01T00:00:30.000Z',
        }),
      });
    });
  });

  describe('cancel', () => {
    it('at the end of the period: SubscriptionCancelled, effective at the period end', () =>
      given(subscribedPro)
        .when({ type: 'CancelSubscription', data: { immediately: false, reason: 'too expensive', at: d('2025-03-10T00:00:00.000Z'), totals: none, fallback: free } })
        .then([
          {
            type: 'SubscriptionCancelled',
            data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, plan_id: 'pro', immediately: false, reason: 'too expensive', cancelled_at: '2025-03-10T00:00:00.000Z', effective_at: '2025-04-01T00:00:00.000Z' },
          },
        ]));

    it('immediately: the period closes now with a prorated bill and the default plan starts', () => {
      const events = decide(
        { type: 'CancelSubscription', data: { immediately: true, reason: null, at: d('2025-03-11T00:00:00.000Z'), totals: used, fallback: free } },
        [subscribedPro].reduce(evolve, initialState()),
      );
      expect(events.map((e) => e.type)).toEqual(['SubscriptionCancelled', 'PeriodReset', 'BillingRecorded', 'SubscriptionEnded']);
      // Pro for 10 of 31 days: 79 * 10 / 31 = 25.4838... -> 25.48, plus usage 1.2345675 -> 26.7145675 -> 26.71.
      expect(events[2].data).toMatchObject({ base_fee: '25.48', usage_cost: '1.2345675', total: '26.71', period_end: '2025-03-11T00:00:00.000Z' });
      expect(events[3]).toEqual({
        type: 'SubscriptionEnded',
        data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, plan_id: 'pro', ended_at: '2025-03-11T00:00:00.000Z', fallback_plan_id: 'free', fallback_price: '0', period_start: '2025-03-11T00:00:00.000Z', period_end: '2025-04-11T00:00:00.000Z' },
      });
      const after = [subscribedPro, ...events].reduce(evolve, initialState());
      expect(effectiveAt(after, d('2025-03-12T00:00:00.000Z'), 'free')).toEqual({ status: 'default', subscription_id: null, plan_id: 'free', billing_cycle: 'monthly', period_start: '2025-03-11T00:00:00.000Z', period_end: '2025-04-11T00:00:00.000Z' });
    });
  });

  describe('period close', () => {
    const close = (at: string, totals: UsageTotals = used, period_end = '2025-04-01T00:00:00.000Z'): SubscriptionCommand => ({
      type: 'ClosePeriod',
      data: { period_end, at: d(at), totals, next_price: '79', fallback: free },
    });

    it('emits PeriodReset with the totals and a pending billing record, and the next period follows the calendar', () => {
      const billing_id = billingId(T, U, '2025-03-01T00:00:00.000Z', 'sub-1');
      given(subscribedPro)
        .when(close('2025-04-01T00:01:00.000Z'))
        .then([
          {
            type: 'PeriodReset',
            data: {
              tenant_id: T,
              user_id: U,
              subscription_id: 'sub-1',
              plan_id: 'pro',
              billing_cycle: 'monthly',
              period_start: '2025-03-01T00:00:00.000Z',
              period_end: '2025-04-01T00:00:00.000Z',
              reason: 'period_end',
              totals: used,
              billing_id,
              next_period_start: '2025-04-01T00:00:00.000Z',
              next_period_end: '2025-05-01T00:00:00.000Z',
              next_price: '79',
              closed_at: '2025-04-01T00:01:00.000Z',
            },
          },
          {
            type: 'BillingRecorded',
            data: {
              billing_id,
              tenant_id: T,
              user_id: U,
              subscription_id: 'sub-1',
              billing_cycle: 'monthly',
              period_start: '2025-03-01T00:00:00.000Z',
              period_end: '2025-04-01T00:00:00.000Z',
              plans: [{ plan_id: 'pro', from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z', price: '79', base_fee: '79.00' }],
              base_fee: '79.00',
              usage_cost_by_provider: { openai: '1.2', tavily: '0.0345675' },
              usage_cost: '1.2345675',
              total: '80.23',
              currency: 'USD',
              status: 'pending',
              recorded_at: '2025-04-01T00:01:00.000Z',
            },
          },
        ]);
    });

    it('closes a period once: a second close of the same period does nothing', () => {
      const first = decide(close('2025-04-01T00:01:00.000Z'), evolve(initialState(), subscribedPro));
      given(subscribedPro, ...first).when(close('2025-04-01T00:01:00.000Z')).then([]);
    });

    it('does not close a period before its end', () => given(subscribedPro).when(close('2025-03-31T23:59:59.999Z')).then([]));

    it('after downtime, closes missed periods one at a time, in order', () => {
      let state = evolve(initialState(), subscribedPro);
      const ends: string[] = [];
      for (let i = 0; i < 3; i++) {
        const events = decide(close('2025-06-15T00:00:00.000Z', none, state.period_end), state);
        ends.push((events[0].data as any).period_end);
        state = events.reduce(evolve, state);
      }
      expect(ends).toEqual(['2025-04-01T00:00:00.000Z', '2025-05-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z']);
      expect(decide(close('2025-06-15T00:00:00.000Z', none, state.period_end), state)).toEqual([]);
    });

    it('ends a subscription cancelled for the period end and falls back to the default plan', () => {
      const cancelled: SubscriptionEvent = {
        type: 'SubscriptionCancelled',
        data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, plan_id: 'pro', immediately: false, reason: null, cancelled_at: '2025-03-10T00:00:00.000Z', effective_at: '2025-04-01T00:00:00.000Z' },
      };
      const events = decide(close('2025-04-01T00:00:00.000Z', none), [subscribedPro, cancelled].reduce(evolve, initialState()));
      expect(events.map((e) => e.type)).toEqual(['PeriodReset', 'BillingRecorded', 'SubscriptionEnded']);
      expect(events[0].data).toMatchObject({ next_period_start: '2025-04-01T00:00:00.000Z', next_period_end: '2025-05-01T00:00:00.000Z', next_price: '0' });
      expect(events[2].data).toMatchObject({ fallback_plan_id: 'free', period_start: '2025-04-01T00:00:00.000Z', period_end: '2025-05-01T00:00:00.000Z' });
    });
  });

  describe('the effective plan at a moment', () => {
    it('rolls over by the calendar before the close job runs, and applies a pending cancellation at its time', () => {
      const cancelled: SubscriptionEvent = {
        type: 'SubscriptionCancelled',
        data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, plan_id: 'pro', immediately: false, reason: null, cancelled_at: '2025-03-10T00:00:00.000Z', effective_at: '2025-04-01T00:00:00.000Z' },
      };
      const active = evolve(initialState(), subscribedPro);
      expect(effectiveAt(active, d('2025-05-03T00:00:00.000Z'), 'free')).toMatchObject({ status: 'active', plan_id: 'pro', period_start: '2025-05-01T00:00:00.000Z', period_end: '2025-06-01T00:00:00.000Z' });
      const cancelling = evolve(active, cancelled);
      expect(effectiveAt(cancelling, d('2025-03-31T00:00:00.000Z'), 'free')).toMatchObject({ status: 'cancelling', plan_id: 'pro' });
      expect(effectiveAt(cancelling, d('2025-04-02T00:00:00.000Z'), 'basic')).toMatchObject({ status: 'default', plan_id: 'basic', period_start: '2025-04-01T00:00:00.000Z', period_end: '2025-05-01T00:00:00.000Z' });
    });

    it('counts a call admitted moments before the first contact in the first period, and older usage in its calendar period', () => {
      const s = evolve(initialState(), defaultAssigned);
      expect(effectiveAt(s, d('2025-01-31T08:59:30.000Z'), 'free')).toMatchObject({ status: 'default', plan_id: 'free', period_start: '2025-01-31T09:00:00.000Z', period_end: '2025-02-28T09:00:00.000Z' });
      expect(effectiveAt(s, d('2025-01-31T08:58:00.000Z'), 'free')).toMatchObject({ period_start: '2024-12-31T09:00:00.000Z', period_end: '2025-01-31T09:00:00.000Z' });
    });

    it('answers for a moment before a plan change with the plan in force then', () => {
      const s = [subscribedPro, { type: 'PlanChanged', data: { subscription_id: 'sub-1', tenant_id: T, user_id: U, previous_plan_id: 'pro', new_plan_id: 'basic', direction: 'downgrade', reason: null, changed_at: '2025-03-20T00:00:00.000Z', price: '29', period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z', exhausted_limits: [] } } as SubscriptionEvent].reduce(evolve, initialState());
      expect(effectiveAt(s, d('2025-03-10T00:00:00.000Z'), 'free').plan_id).toBe('pro');
      expect(effectiveAt(s, d('2025-03-21T00:00:00.000Z'), 'free').plan_id).toBe('basic');
    });
  });
});
