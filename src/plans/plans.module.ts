import { Module, Provider } from '@nestjs/common';
import { ProjectionRegistry } from '../shell';
import { PlansService } from './application/plans.service';
import { PlansFacade } from './application/plans.facade';
import { PlansController } from './api/plans.controller';
import { SubscriptionPlansProjection } from './projections/subscription-plans.projection';

const application: Provider[] = [PlansService];
const facades: Provider[] = [PlansFacade];

/** The plan catalog: event-sourced plans, their limits and prices. */
@Module({
  controllers: [PlansController],
  providers: [...application, ...facades],
  exports: [...facades],
})
export class PlansModule {
  constructor(registry: ProjectionRegistry) {
    registry.register(new SubscriptionPlansProjection());
  }
}
