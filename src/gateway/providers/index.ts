import type { ProviderId } from '../../shell';
import { anthropic } from './anthropic';
import { exa } from './exa';
import { firecrawl } from './firecrawl';
import { gemini } from './gemini';
import { huggingface } from './huggingface';
import { mistral } from './mistral';
import { openai } from './openai';
import type { ProviderAdapter } from './provider';
import { serper } from './serper';
import { stability } from './stability';
import { tavily } from './tavily';

export type { ProviderAdapter, CallDescription, CallRequest, StreamMeter, Usage, GatewayErrorKind } from './provider';

export const PROVIDERS: Record<ProviderId, ProviderAdapter> = { openai, anthropic, gemini, mistral, tavily, serper, exa, firecrawl, stability, huggingface };

const ALIASES: Record<string, ProviderId> = { metaphor: 'exa', groq: 'huggingface', google: 'gemini' };

/** The adapter for `/proxy/{name}/...`, or undefined for an unknown provider. */
export function providerFor(name: string): ProviderAdapter | undefined {
  return (PROVIDERS as Record<string, ProviderAdapter>)[name] ?? (ALIASES[name] ? PROVIDERS[ALIASES[name]] : undefined);
}
