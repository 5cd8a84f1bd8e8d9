import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { notFound } from '../../../libs/errors';
import { CurrentPrincipal, Principal, Roles } from '../access';
import { IdentityCommands } from '../application/identity-commands';
import { ProviderKeysService } from '../application/provider-keys.service';
import { IssueUserKeyDto, KeyListQueryDto, PutProviderKeyDto, UpdateTenantDto } from './dto';

/** A tenant's own side: its settings, its users' keys and its provider keys. */
@ApiTags('tenant')
@ApiBearerAuth()
@Roles('tenant')
@Controller('api/tenant')
export class TenantIdentityController {
  constructor(
    private readonly identity: IdentityCommands,
    private readonly providerKeys: ProviderKeysService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The tenant of the key.' })
  tenant(@CurrentPrincipal() p: Principal) {
    return this.identity.requireTenant(p.tenantId!);
  }

  @Patch()
  @ApiOperation({ summary: 'Renames the tenant or sets its default plan (for users without a subscription).' })
  update(@CurrentPrincipal() p: Principal, @Body() body: UpdateTenantDto) {
    return this.identity.updateTenant(p.tenantId!, body);
  }

  @Post('keys')
  @ApiOperation({ summary: 'Issues a user key for one of the tenant’s users. The key is shown in this answer only.' })
  issue(@CurrentPrincipal() p: Principal, @Body() body: IssueUserKeyDto) {
    return this.identity.issueKey(p, p.tenantId!, 'user', body.user_id);
  }

  @Get('keys')
  @ApiOperation({ summary: "The tenant's keys: prefix, last four characters, role, user, created, last used." })
  async list(@CurrentPrincipal() p: Principal, @Query() q: KeyListQueryDto) {
    return { keys: await this.identity.listKeys(p.tenantId!, q.include_revoked === 'true') };
  }

  @Delete('keys/:key_id')
  @ApiOperation({ summary: 'Revokes one of the tenant’s keys: it fails at once.' })
  revoke(@CurrentPrincipal() p: Principal, @Param('key_id') keyId: string) {
    return this.identity.revokeKey(p, keyId, p.tenantId!);
  }

  @Put('provider-keys/:provider')
  @ApiOperation({ summary: "Stores the tenant's own key for a provider (AES-256-GCM under the master key; shown only as its last four characters)." })
  put(@CurrentPrincipal() p: Principal, @Param('provider') provider: string, @Body() body: PutProviderKeyDto) {
    return this.providerKeys.set(p.tenantId!, provider, body.api_key);
  }

  @Get('provider-keys')
  @ApiOperation({ summary: "The tenant's stored provider keys (last four characters only)." })
  async listProviderKeys(@CurrentPrincipal() p: Principal) {
    return { provider_keys: await this.providerKeys.list(p.tenantId!) };
  }

  @Delete('provider-keys/:provider')
  @HttpCode(204)
  @ApiOperation({ summary: "Removes the tenant's key for a provider." })
  async remove(@CurrentPrincipal() p: Principal, @Param('provider') provider: string) {
    if (!(await this.providerKeys.remove(p.tenantId!, provider))) throw notFound('Provider key', { provider });
  }
}
