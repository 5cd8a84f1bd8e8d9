import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsISO8601, IsObject, IsOptional, Min } from 'class-validator';

export class PricingQueryDto {
  @ApiPropertyOptional({ description: 'The moment to show prices for (ISO time); default now.', example: '2025-01-15' })
  @IsOptional()
  @IsISO8601()
  at?: string;
}

export class SetPriceDto {
  @ApiProperty({
    description:
      'Price components in USD: per 1M tokens (`input_mtok`, `output_mtok`, `cache_read_mtok`, `cache_write_mtok`, `output_reasoning_mtok`), ' +
      'per unit (`unit`: a search, a page, an image), per 1,000 calls (`requests_kcount`). A value is a decimal (number or string) or ' +
      '`{"base": "1.25", "tiers": [{"start": 200000, "price": "2.5"}]}` (the tier price applies when the whole prompt is above `start` tokens).',
    example: { input_mtok: '2.5', output_mtok: '10', cache_read_mtok: '1.25' },
  })
  @IsObject()
  prices!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'When the price takes effect (ISO time); default now. Usage before it keeps the earlier price.' })
  @IsOptional()
  @IsISO8601()
  effective_from?: string;

  @ApiPropertyOptional({ description: 'The model\'s maximum output tokens: what admission reserves for a call that states no maximum (`max_tokens`...). Absent: the built-in table.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_output_tokens?: number;

  @ApiPropertyOptional({ description: "A genai-prices matching rule for model names ({\"starts_with\": \"gpt-4o-\"}, {\"or\": [...]}); absent keeps the key's rule." })
  @IsOptional()
  @IsObject()
  match?: Record<string, unknown>;
}

export class ImportQueryDto {
  @ApiPropertyOptional({ description: 'When the imported prices take effect (ISO time); default now (never earlier).' })
  @IsOptional()
  @IsISO8601()
  effective_from?: string;

  @ApiPropertyOptional({ description: '`genai-prices` refreshes the catalog from the installed @pydantic/genai-prices data (no body needed).', enum: ['litellm', 'genai-prices'] })
  @IsOptional()
  @IsIn(['litellm', 'genai-prices'])
  source?: 'litellm' | 'genai-prices';
}
