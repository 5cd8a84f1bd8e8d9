import { textOf } from './provider';
import { multipartFields } from './multipart-fields';

/**
 * What an OpenAI image call (`/images/generations`, `/images/edits`, `/images/variations`) is priced by. DALL·E is
 * billed per image by model, quality and size: `units` images priced by the unit key `image/{model}/{quality}/{size}`
 * (a combination without a price is refused, not forwarded). gpt-image models are billed by tokens: their worst-case
 * output is the image tokens of `n` images at the requested (or, for `auto`, the largest) quality and size.
 */
export interface ImageCallPricing {
  model: string;
  promptText: string;
  streaming: boolean;
  units: number;
  unitKey?: string;
  maxOutputTokens?: number;
}

/** Output tokens of one gpt-image-1 image (platform.openai.com/docs/guides/image-generation, "Cost and latency"). */
const GPT_IMAGE_OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};
/** Each streamed partial image adds 100 output tokens. */
const PARTIAL_IMAGE_TOKENS = 100;

export function imageCallPricing(path: string, body: any, rawBody: Buffer | undefined): ImageCallPricing {
  const form = body && typeof body === 'object' ? null : multipartFields(rawBody, ['model', 'n', 'size', 'quality', 'prompt', 'stream', 'partial_images']);
  const field = (k: string): unknown => (form ? form[k] : body?.[k]);
  const str = (k: string) => (typeof field(k) === 'string' && (field(k) as string).trim() ? (field(k) as string).trim().toLowerCase() : undefined);
  const int = (k: string) => {
    const v = Number(field(k));
    return Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined;
  };
  // The API's default model for every image endpoint is dall-e-2.
  const model = str('model') ?? 'dall-e-2';
  const n = int('n') ?? 1;
  const streaming = field('stream') === true || field('stream') === 'true';
  const promptText = form ? (form.prompt ?? '') : textOf(body?.prompt).join('');
  if (model.startsWith('dall-e')) {
    // dall-e-3 takes standard or hd (auto is read as hd, its worst case); dall-e-2 has only standard.
    const q = str('quality');
    const quality = model.startsWith('dall-e-2') ? 'standard' : q === undefined || q === 'standard' ? 'standard' : q === 'auto' ? 'hd' : q;
    const size = str('size') ?? '1024x1024';
    return { model, promptText, streaming, units: n, unitKey: `image/${model}/${quality}/${size}` };
  }
  const quality = GPT_IMAGE_OUTPUT_TOKENS[str('quality') ?? 'high'] ?? GPT_IMAGE_OUTPUT_TOKENS.high;
  const size = str('size');
  const perImage = (size && quality[size]) || Math.max(...Object.values(quality));
  return { model, promptText, streaming, units: 0, maxOutputTokens: n * (perImage + (int('partial_images') ?? 0) * PARTIAL_IMAGE_TOKENS) };
}
