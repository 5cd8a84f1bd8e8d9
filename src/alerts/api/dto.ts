import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SEVERITIES, Severity } from '../domain/severity';

const toBool = ({ value }: { value: unknown }) => (value === 'true' || value === '1' || value === true ? true : value === 'false' || value === '0' || value === false ? false : value);

export class AlertsQueryDto {
  @ApiPropertyOptional({ description: 'true: read alerts only; false: unread only' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  is_read?: boolean;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional()
  @IsIn(SEVERITIES as unknown as string[])
  severity?: Severity;

  @ApiPropertyOptional({ description: 'A period start (ISO time) or a prefix of one ("2025-03"), or "current"' })
  @IsOptional()
  @IsString()
  @Matches(/^(current|\d{4}(-\d{2}(-\d{2}(T[0-9:.]+Z?)?)?)?)$/)
  period?: string;

  @ApiPropertyOptional({ description: "The user's tenant (needed with the operator's key)" })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class TenantHintDto {
  @ApiPropertyOptional({ description: "The user's tenant (needed with the operator's key)" })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class PutWebhookDto {
  @ApiProperty({ example: 'https://example.com/hooks/tollgate' })
  @IsString()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  @MaxLength(2000)
  url!: string;

  @ApiPropertyOptional({ description: 'The HMAC-SHA256 signing secret; generated (and shown once) when absent' })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  secret?: string;
}

export class DeliveriesQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  alert_id?: string;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Transform(({ value }) => (value === undefined ? value : Number(value)))
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  cursor?: string;
}
