import { Module } from '@nestjs/common';
import { WebController } from './web.controller';

/** The billing dashboard page Tollgate serves itself at /dashboard (static assets, no build step). */
@Module({ controllers: [WebController] })
export class WebModule {}
