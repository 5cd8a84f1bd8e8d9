import { Module, Provider } from '@nestjs/common';
import { PlansService } from './application/plans.service';
import { PlansFacade } from './application/plans.facade';
import { PlansController } from './api/plans.controller';

const application: Provider[] = [PlansService];
const facades: Provider[] = [PlansFacade];

/** The plan catalog: event-sourced plans, their limits and prices. */
@Module({
  controllers: [PlansController],
  providers: [...application, ...facades],
  exports: [...facades],
})
export class PlansModule {}
