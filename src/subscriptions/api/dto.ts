import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+:-]{0,127}$/;
const PLAN_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class SubscribeDto {
  @ApiProperty({ example: 'user_42' })
  @Matches(USER_ID, { message: 'user_id must be letters, digits and . _ @ + : - (up to 128)' })
  user_id!: string;

  @ApiProperty({ example: 'pro' })
  @Matches(PLAN_ID, { message: 'plan_id must be a plan id such as free, basic, pro, enterprise' })
  plan_id!: string;

  @ApiProperty({ enum: ['monthly', 'yearly'] })
  @IsIn(['monthly', 'yearly'])
  billing_cycle!: 'monthly' | 'yearly';

  @ApiPropertyOptional({ description: 'Operator keys only: the tenant of the user' })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class ChangePlanDto {
  @ApiProperty({ example: 'enterprise' })
  @Matches(PLAN_ID, { message: 'plan_id must be a plan id such as free, basic, pro, enterprise' })
  plan_id!: string;

  @ApiPropertyOptional({ example: 'Needs more Gemini calls' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class CancelDto {
  @ApiPropertyOptional({ description: 'End at once (prorated) instead of at the end of the current period', default: false })
  @IsOptional()
  @IsBoolean()
  immediately?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class TenantHintQueryDto {
  @ApiPropertyOptional({ description: 'Operator keys only: the tenant of the user' })
  @IsOptional()
  @IsString()
  tenant_id?: string;
}

export class StatusQueryDto extends TenantHintQueryDto {
  @ApiPropertyOptional({ description: 'true to include plan_history' })
  @IsOptional()
  @IsIn(['true', 'false', '1', '0'])
  include_history?: string;
}

export class BillingQueryDto extends TenantHintQueryDto {
  @ApiPropertyOptional({ default: 24 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  cursor?: string;
}
