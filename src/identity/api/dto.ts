import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+:-]{0,127}$/;
export const PLAN_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class CreateTenantDto {
  @ApiProperty({ example: 'shop-123', description: 'Letters, digits, ".", "_" and "-" (up to 64)' })
  @Matches(TENANT_ID, { message: 'tenant_id must be letters, digits, ".", "_" or "-" (up to 64)' })
  tenant_id!: string;

  @ApiProperty({ example: 'My Shopify app' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ example: 'free', description: 'The plan of users without a subscription (default: free)' })
  @IsOptional()
  @Matches(PLAN_ID)
  default_plan_id?: string;
}

export class UpdateTenantDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: 'basic' })
  @IsOptional()
  @Matches(PLAN_ID)
  default_plan_id?: string;
}

/**
 * One passthrough operation: `provider:METHOD /path`, `{name}` for one path segment. No dot segments, no percent
 * escapes or backslashes (the gateway refuses those paths anyway).
 */
export const PASSTHROUGH = /^(openai|anthropic|gemini|mistral|tavily|serper|exa|firecrawl|stability|huggingface):(GET|POST|PUT|PATCH|DELETE) (\/(?!\.\.?(\/|$))[A-Za-z0-9_~@+:{}-][A-Za-z0-9._~@+:{}-]*)+$/;

export class PutTenantDto extends UpdateTenantDto {
  @ApiPropertyOptional({ example: ['openai:GET /v1/files', 'openai:GET /v1/files/{id}'], description: 'Extra provider operations the tenant keys may call through the gateway, unmetered and audited (PassthroughCallMade); never user keys. Replaces the list.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(PASSTHROUGH, { each: true, message: 'each passthrough entry must be "provider:METHOD /path" (e.g. "openai:GET /v1/files", {id} for a segment)' })
  passthrough?: string[];
}

export class IssueTenantKeyDto {
  @ApiProperty({ enum: ['tenant', 'user'], example: 'tenant' })
  @IsIn(['tenant', 'user'])
  role!: 'tenant' | 'user';

  @ApiPropertyOptional({ description: 'Required for a user key' })
  @IsOptional()
  @Matches(USER_ID, { message: 'user_id must be letters, digits and . _ @ + : - (up to 128)' })
  user_id?: string;
}

export class IssueUserKeyDto {
  @ApiProperty({ example: 'user_42' })
  @Matches(USER_ID, { message: 'user_id must be letters, digits and . _ @ + : - (up to 128)' })
  user_id!: string;
}

export class PutProviderKeyDto {
  @ApiProperty({ example: 'sk-...', description: "The tenant's own key for the provider (stored encrypted, shown only as its last four characters)" })
  @IsString()
  @MinLength(8)
  @MaxLength(4096)
  api_key!: string;
}

export class KeyListQueryDto {
  @ApiPropertyOptional({ description: 'true to list revoked keys too' })
  @IsOptional()
  @IsIn(['true', 'false'])
  include_revoked?: 'true' | 'false';
}
