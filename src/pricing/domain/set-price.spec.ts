import { PricingException } from '../../../libs/errors';
import { PricingEvent } from './price';
import { SetPrice, decideSetPrice, evolveKeyPrice, initialKeyPriceState } from './set-price';

const given = (events: PricingEvent[]) => ({
  when: (command: SetPrice) => ({
    then: (expected: PricingEvent[]) => expect(decideSetPrice(command, events.reduce(evolveKeyPrice, initialKeyPriceState()))).toEqual(expected),
    thenThrows: (code: string, message: RegExp) => {
      let err: unknown;
      try {
        decideSetPrice(command, events.reduce(evolveKeyPrice, initialKeyPriceState()));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PricingException);
      expect((err as PricingException).code).toBe(code);
      expect((err as Error).message).toMatch(message);
    },
  }),
});

const setPrice = (over: Partial<SetPrice['data']> = {}): SetPrice => ({
  type: 'SetPrice',
  data: {
    provider: 'openai',
    model: 'gpt-4o',
    components: { input_mtok: 3, output_mtok: '12.50' },
    effective_from: '2025-06-01T00:00:00Z',
    source: 'operator',
    source_ref: null,
    event_id: '0badc0de-0000-4000-8000-000000000000',
    ...over,
  },
});

const priceSet = (components: Record<string, unknown>, effective_from = '2025-06-01T00:00:00.000Z'): PricingEvent => ({
  type: 'PriceSet',
  data: {
    provider: 'openai',
    model: 'gpt-4o',
    components: components as never,
    effective_from,
    source: 'operator',
    source_ref: null,
    version: `openai/gpt-4o@${effective_from}#0badc0de`,
  },
});

describe('SetPrice', () => {
  it('sets a price with exact decimals from a moment on, versioned by key, date and event', () => {
    given([]).when(setPrice()).then([priceSet({ input_mtok: '3', output_mtok: '12.5' })]);
  });

  it('keeps a tiered component, its tiers sorted by start', () => {
    given([])
      .when(setPrice({ components: { input_mtok: { base: 1.25, tiers: [{ start: 500000, price: '5' }, { start: 200000, price: 2.5 }] } } }))
      .then([priceSet({ input_mtok: { base: '1.25', tiers: [{ start: 200000, price: '2.5' }, { start: 500000, price: '5' }] } })]);
  });

  it('changes nothing when the same price is set again for the same moment', () => {
    given([priceSet({ input_mtok: '3', output_mtok: '12.5' })]).when(setPrice()).then([]);
  });

  it('adds a new PriceSet for a new moment even with the same amounts (history stays as it was)', () => {
    given([priceSet({ input_mtok: '3', output_mtok: '12.5' })])
      .when(setPrice({ effective_from: '2025-07-01T00:00:00Z' }))
      .then([{ ...priceSet({ input_mtok: '3', output_mtok: '12.5' }, '2025-07-01T00:00:00.000Z') }]);
  });

  it('refuses a negative amount, an empty price and a bad date', () => {
    given([]).when(setPrice({ components: { input_mtok: -1 } })).thenThrows('pricing_error', /input_mtok must be a non-negative decimal/);
    given([]).when(setPrice({ components: {} })).thenThrows('pricing_error', /at least one component/);
    given([]).when(setPrice({ effective_from: 'soon' })).thenThrows('pricing_error', /effective_from is not a time/);
  });
});
