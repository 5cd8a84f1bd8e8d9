import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CLOCK, Clock } from '../../../libs/clock';
import { PricingException } from '../../../libs/errors';
import { Public, Roles } from '../../identity';
import { PriceCatalogService } from '../application/price-catalog.service';
import { SetPriceHandler } from '../application/set-price.handler';
import { ImportPricesHandler } from '../application/import-prices.handler';
import { ImportQueryDto, PricingQueryDto, SetPriceDto } from './dto';
import { priceView } from './price-view';

@ApiTags('pricing')
@Controller('api')
export class PricingController {
  constructor(
    private readonly prices: PriceCatalogService,
    private readonly setPrice: SetPriceHandler,
    private readonly importer: ImportPricesHandler,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('subscription/pricing')
  @Public()
  @ApiOperation({ summary: 'The prices in effect now (or `?at=`), grouped by provider; each with its version and effective date.' })
  list(@Query() q: PricingQueryDto) {
    const at = q.at ? new Date(q.at) : this.clock.now();
    const providers: Record<string, ReturnType<typeof priceView>[]> = {};
    for (const p of this.prices.catalog.listAt(at)) if (p.entries.length) providers[p.provider] = p.entries.map(priceView);
    return { at: at.toISOString(), currency: 'USD', providers };
  }

  @Put('admin/pricing/:provider/*')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Sets the price of `{provider}/{model}` from `effective_from` on (a PriceSet). The model may contain slashes (`huggingface/openai/gpt-oss-120b`, or URL-encoded); `*` is the provider\'s fallback price.',
  })
  async put(@Param('provider') provider: string, @Body() body: SetPriceDto, @Req() req: { id?: string; params?: Record<string, string> }) {
    // Fastify (find-my-way) names the wildcard '*' and decodes it.
    const model = String(req.params?.['*'] ?? '');
    const { price, changed } = await this.setPrice.execute({ provider, model, components: body.prices, match: body.match as never, effective_from: body.effective_from, max_output_tokens: body.max_output_tokens }, req.id);
    const view = priceView({ ...price, event_id: '', position: 0n });
    return { provider: price.provider, ...view, changed };
  }

  @Post('admin/pricing/import')
  @HttpCode(200)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiBody({ description: "LiteLLM's model_prices_and_context_window.json (the whole map or part of it).", schema: { type: 'object' } })
  @ApiOperation({ summary: 'Imports a LiteLLM price map (or `?source=genai-prices`): adds what changed as PriceSets, reports what was imported and skipped, and why.' })
  async import(@Query() q: ImportQueryDto, @Body() body: unknown) {
    const effectiveFrom = q.effective_from ? new Date(q.effective_from) : undefined;
    let result;
    if (q.source === 'genai-prices') result = await this.importer.genaiPrices();
    else {
      const json = Buffer.isBuffer(body) ? parseJson(body) : body;
      result = await this.importer.litellm(json, effectiveFrom);
    }
    await this.prices.caughtUp();
    return { source: result.source, imported_count: result.imported.length, skipped_count: result.skipped.length, imported: result.imported, skipped: result.skipped };
  }
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    throw new PricingException('The body is not JSON.', {}, 400);
  }
}
