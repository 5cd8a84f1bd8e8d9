import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal } from '../access';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('api/auth')
export class AuthController {
  @Get('whoami')
  @ApiOperation({ summary: 'The role, tenant and user of the key presented.' })
  whoami(@CurrentPrincipal() p: Principal) {
    return { role: p.role, tenant_id: p.tenantId, ...(p.role === 'user' ? { user_id: p.userId } : {}), key_id: p.keyId };
  }
}
