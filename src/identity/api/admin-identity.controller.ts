import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError, notFound } from '../../../libs/errors';
import { CurrentPrincipal, Principal, Roles } from '../access';
import { IdentityCommands } from '../application/identity-commands';
import { ProviderKeysService } from '../application/provider-keys.service';
import { CreateTenantDto, IssueTenantKeyDto, PutProviderKeyDto, PutTenantDto, UpdateTenantDto } from './dto';

/** The operator's side: tenants, their keys and provider keys. */
@ApiTags('admin: identity')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/admin')
export class AdminIdentityController {
  constructor(
    private readonly identity: IdentityCommands,
    private readonly providerKeys: ProviderKeysService,
  ) {}

  @Post('tenants')
  @ApiOperation({ summary: 'Creates a tenant (one customer application) with its default plan (free unless given).' })
  createTenant(@Body() body: CreateTenantDto) {
    return this.identity.createTenant(body);
  }

  @Get('tenants')
  @ApiOperation({ summary: 'Every tenant.' })
  async tenants() {
    return { tenants: await this.identity.listTenants() };
  }

  @Get('tenants/:tenant_id')
  @ApiOperation({ summary: 'One tenant.' })
  tenant(@Param('tenant_id') tenantId: string) {
    return this.identity.requireTenant(tenantId);
  }

  @Patch('tenants/:tenant_id')
  @ApiOperation({ summary: "Renames a tenant or changes its default plan (for users without a subscription)." })
  updateTenant(@Param('tenant_id') tenantId: string, @Body() body: UpdateTenantDto) {
    return this.identity.updateTenant(tenantId, body);
  }

  @Put('tenants/:tenant_id')
  @ApiOperation({ summary: 'Changes a tenant: name, default plan, and the passthrough operations its tenant keys may call (unmetered, audited).' })
  putTenant(@Param('tenant_id') tenantId: string, @Body() body: PutTenantDto) {
    return this.identity.updateTenant(tenantId, body);
  }

  @Post('tenants/:tenant_id/keys')
  @ApiOperation({ summary: 'Issues a tenant key (or a user key with user_id). The key is shown in this answer only.' })
  issueKey(@CurrentPrincipal() principal: Principal, @Param('tenant_id') tenantId: string, @Body() body: IssueTenantKeyDto) {
    if (body.role === 'user' && !body.user_id) throw new AppError(422, 'validation_failed', 'A user key needs a user_id.', { fields: [{ field: 'user_id', problems: ['required for a user key'] }] });
    return this.identity.issueKey(principal, tenantId, body.role, body.user_id ?? null);
  }

  @Get('tenants/:tenant_id/keys')
  @ApiOperation({ summary: "A tenant's keys: prefix, last four characters, role, created, last used." })
  async keys(@Param('tenant_id') tenantId: string) {
    await this.identity.requireTenant(tenantId);
    return { keys: await this.identity.listKeys(tenantId, true) };
  }

  @Delete('keys/:key_id')
  @ApiOperation({ summary: 'Revokes a key: it fails at once.' })
  revoke(@CurrentPrincipal() principal: Principal, @Param('key_id') keyId: string) {
    return this.identity.revokeKey(principal, keyId, null);
  }

  @Put('tenants/:tenant_id/provider-keys/:provider')
  @ApiOperation({ summary: "Stores a tenant's provider key (encrypted)." })
  async putProviderKey(@Param('tenant_id') tenantId: string, @Param('provider') provider: string, @Body() body: PutProviderKeyDto) {
    await this.identity.requireTenant(tenantId);
    return this.providerKeys.set(tenantId, provider, body.api_key);
  }

  @Get('tenants/:tenant_id/provider-keys')
  @ApiOperation({ summary: "A tenant's stored provider keys (last four characters only)." })
  async providerKeyList(@Param('tenant_id') tenantId: string) {
    await this.identity.requireTenant(tenantId);
    return { provider_keys: await this.providerKeys.list(tenantId) };
  }

  @Delete('tenants/:tenant_id/provider-keys/:provider')
  @HttpCode(204)
  @ApiOperation({ summary: "Removes a tenant's provider key." })
  async deleteProviderKey(@Param('tenant_id') tenantId: string, @Param('provider') provider: string) {
    await this.identity.requireTenant(tenantId);
    if (!(await this.providerKeys.remove(tenantId, provider))) throw notFound('Provider key', { provider });
  }
}
