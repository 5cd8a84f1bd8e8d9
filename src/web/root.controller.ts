import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../identity';

/** `GET /`: a newcomer who opens Tollgate's address in a browser lands on the dashboard page. */
@ApiExcludeController()
@Controller()
export class RootController {
  @Public()
  @Get()
  root(@Res() reply: any) {
    reply.code(302).header('location', '/dashboard').send();
  }
}
