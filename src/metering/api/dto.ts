import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { PROVIDER_IDS } from '../../shell';

export class CheckUsageDto {
  @ApiProperty({ example: 'user_42' })
  @IsString()
  @Length(1, 200)
  user_id!: string;

  @ApiProperty({ enum: [...PROVIDER_IDS, 'metaphor'], example: 'openai' })
  @IsIn([...PROVIDER_IDS, 'metaphor'])
  provider!: string;

  @ApiPropertyOptional({ example: 'gpt-4o' })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  model?: string;

  @ApiPropertyOptional({ description: 'The prompt tokens the call will send (counted against token and cost limits).', example: 1200 })
  @IsOptional()
  @IsInt()
  @Min(0)
  input_tokens?: number;

  @ApiPropertyOptional({ description: 'Units the call will use (searches, pages, images).', example: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  units?: number;

  @ApiPropertyOptional({ description: 'The most output tokens the call may generate (its max_tokens): reserved with the prompt, as the gateway does. Absent: input only.', example: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_output_tokens?: number;
}

export class TenantHintDto {
  @ApiPropertyOptional({ description: 'Operator (admin key) only: the tenant the user belongs to.' })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class UsageLogQueryDto extends TenantHintDto {
  @ApiPropertyOptional({ example: 'openai' })
  @IsOptional()
  @IsString()
  provider?: string;

  @ApiPropertyOptional({ example: 'gpt-4o' })
  @IsOptional()
  @IsString()
  model?: string;

  @ApiPropertyOptional({ description: '`ok`, `error`, `refused`, or an HTTP status (e.g. `500`).', example: 'error' })
  @IsOptional()
  @IsString()
  status?: string;

  @ApiPropertyOptional({ description: 'Inclusive start (ISO time).' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'Exclusive end (ISO time).' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ description: "The previous page's `next_cursor`." })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: '`csv` exports every matching line (no paging).' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
