import { Module } from '@nestjs/common';
import { RootController } from './root.controller';
import { WebController } from './web.controller';

/** The billing dashboard page Tollgate serves itself at /dashboard (static assets, no build step). */
@Module({ controllers: [RootController, WebController] })
export class WebModule {}
