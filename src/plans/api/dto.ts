import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsObject, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export class PutPlanDto {
  @ApiPropertyOptional({ example: 'Pro' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ description: 'USD a month (number or decimal string, at most 2 decimals)', example: 79 })
  @IsOptional()
  monthly_price?: number | string;

  @ApiPropertyOptional({ description: 'USD a year', example: 790 })
  @IsOptional()
  yearly_price?: number | string;

  @ApiPropertyOptional({
    description: 'Replaces the plan\'s limits: total_calls, total_tokens, monthly_cost (USD), {provider}_calls, {provider}_tokens. An absent (or null) limit is unlimited.',
    example: { total_calls: 100000, gemini_calls: 5000, monthly_cost: 150 },
  })
  @IsOptional()
  @IsObject()
  limits?: Record<string, number>;

  @ApiPropertyOptional({ description: 'Percentages of each limit at which alerts fire', example: [80, 90, 100] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  alert_thresholds?: number[];

  @ApiPropertyOptional({ example: ['100,000 API calls a month'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  features?: string[];

  @ApiPropertyOptional({ description: 'Order among plans (0 = lowest); a new plan goes above the others by default.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  tier?: number;
}
