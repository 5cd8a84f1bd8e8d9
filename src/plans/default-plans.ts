import type { PlanDefinedData } from './domain/plan';

/**
 * Tollgate's default plans: every number here is a choice, written once at first start as PlanDefined events and
 * changed afterwards by the operator with `PUT /api/admin/plans/{plan_id}` (this file is never read again for a plan
 * that exists). The specification fixes the prices, the total calls of Free (1,000), Basic (10,000) and Pro
 * (100,000), Pro's 5,000 Gemini calls and $150 of cost a month, and Enterprise unlimited. Tollgate chose the rest:
 *
 * | limit (per billing period) | Free | Basic | Pro | Enterprise |
 * | --- | ---: | ---: | ---: | ---: |
 * | total_calls        | 1,000 (spec)   | 10,000 (spec)   | 100,000 (spec)   | unlimited (spec) |
 * | total_tokens       | 1,000,000      | 10,000,000      | 100,000,000      | unlimited |
 * | monthly_cost (USD) | 2              | 40              | 150 (spec)       | unlimited |
 * | gemini_calls       | 500            | 2,500           | 5,000 (spec)     | unlimited |
 * | openai_calls       | 250            | 5,000           | 50,000           | unlimited |
 * | anthropic_calls    | 250            | 5,000           | 50,000           | unlimited |
 * | mistral_calls      | 250            | 5,000           | 50,000           | unlimited |
 * | huggingface_calls  | 250            | 5,000           | 50,000           | unlimited |
 * | tavily_calls       | 100            | 2,000           | 20,000           | unlimited |
 * | serper_calls       | 100            | 2,000           | 20,000           | unlimited |
 * | exa_calls          | 50             | 1,000           | 10,000           | unlimited |
 * | firecrawl_calls    | 100            | 2,000           | 20,000           | unlimited |
 * | stability_calls    | 10             | 200             | 2,000            | unlimited |
 *
 * Why: a per-provider cap is a quarter to a half of the plan's total for LLMs (one provider cannot use the whole
 * plan alone, the others stay usable), a fifth for searches and scrapes (cheap, but easy to loop), and a fiftieth for
 * images (at $0.04 each the most expensive unit). `monthly_cost` keeps a plan's upstream spend under its fee on Free
 * and Basic (Basic: $40 of spend for a $29 fee, meant for mostly-cheap models); Pro's $150 is the specification's.
 * Pro's Gemini cap is the exception, and on purpose: the specification fixes it at 5,000 (its dashboard example
 * shows "800 of 5,000 Gemini API calls" on Pro), a tenth of Pro's other LLM caps. Tollgate keeps the specified number
 * rather than "fix" it to 50,000: the product's own frontend and its users read that figure. Free and Basic follow the
 * rule above (Gemini a half and a quarter of their totals), so on Pro alone Gemini is the tightest LLM cap; an operator who wants
 * it in line sets `gemini_calls` with `PUT /api/admin/plans/pro`.
 * Token caps allow ~1,000 tokens per call on average, enough for chat and short RAG prompts. No `{provider}_tokens`
 * limits by default: the cost cap already bounds expensive long prompts. Alert thresholds: 80, 90 and 100 percent.
 */
/** A default plan is seeded as its PlanDefined event's data. */
export type DefaultPlan = PlanDefinedData;

export const DEFAULT_ALERT_THRESHOLDS = [80, 90, 100];

export const DEFAULT_PLANS: DefaultPlan[] = [
  {
    plan_id: 'free',
    name: 'Free',
    tier: 0,
    monthly_price: '0',
    yearly_price: '0',
    limits: {
      total_calls: 1000,
      total_tokens: 1_000_000,
      monthly_cost: 2,
      gemini_calls: 500,
      openai_calls: 250,
      anthropic_calls: 250,
      mistral_calls: 250,
      huggingface_calls: 250,
      tavily_calls: 100,
      serper_calls: 100,
      exa_calls: 50,
      firecrawl_calls: 100,
      stability_calls: 10,
    },
    alert_thresholds: DEFAULT_ALERT_THRESHOLDS,
    features: ['1,000 API calls a month', 'All ten providers', 'Usage dashboard', 'Alerts at 80, 90 and 100% of every limit'],
  },
  {
    plan_id: 'basic',
    name: 'Basic',
    tier: 1,
    monthly_price: '29',
    yearly_price: '290',
    limits: {
      total_calls: 10_000,
      total_tokens: 10_000_000,
      monthly_cost: 40,
      gemini_calls: 2500,
      openai_calls: 5000,
      anthropic_calls: 5000,
      mistral_calls: 5000,
      huggingface_calls: 5000,
      tavily_calls: 2000,
      serper_calls: 2000,
      exa_calls: 1000,
      firecrawl_calls: 2000,
      stability_calls: 200,
    },
    alert_thresholds: DEFAULT_ALERT_THRESHOLDS,
    features: ['10,000 API calls a month', 'All ten providers', 'Usage dashboard and trends', 'Alerts and webhooks', 'Billing history'],
  },
  {
    plan_id: 'pro',
    name: 'Pro',
    tier: 2,
    monthly_price: '79',
    yearly_price: '790',
    limits: {
      total_calls: 100_000,
      total_tokens: 100_000_000,
      monthly_cost: 150,
      gemini_calls: 5000,
      openai_calls: 50_000,
      anthropic_calls: 50_000,
      mistral_calls: 50_000,
      huggingface_calls: 50_000,
      tavily_calls: 20_000,
      serper_calls: 20_000,
      exa_calls: 10_000,
      firecrawl_calls: 20_000,
      stability_calls: 2000,
    },
    alert_thresholds: DEFAULT_ALERT_THRESHOLDS,
    features: ['100,000 API calls a month', 'All ten providers', 'Usage dashboard, trends and projections', 'Alerts and webhooks', 'Billing history', 'Priority support'],
  },
  {
    plan_id: 'enterprise',
    name: 'Enterprise',
    tier: 3,
    monthly_price: '199',
    yearly_price: '1990',
    limits: {},
    alert_thresholds: DEFAULT_ALERT_THRESHOLDS,
    features: ['Unlimited API calls', 'All ten providers', 'Usage dashboard, trends and projections', 'Alerts and webhooks', 'Billing history', 'Dedicated support'],
  },
];
