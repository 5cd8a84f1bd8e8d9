import { Body, Controller, Delete, Get, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { notFound } from '../../../libs/errors';
import { Public, Roles } from '../../identity';
import { PlansService } from '../application/plans.service';
import { PlansFacade } from '../application/plans.facade';
import { PutPlanDto } from './dto';
import { planJson } from './plan-json';

@ApiTags('plans')
@Controller('api')
export class PlansController {
  constructor(
    private readonly plans: PlansService,
    private readonly facade: PlansFacade,
  ) {}

  @Get('subscription/plans')
  @Public()
  @ApiOperation({ summary: 'The active plans with monthly and yearly price, limits, alert thresholds and features (no key needed).' })
  list() {
    return { plans: this.facade.listPlans().map(planJson) };
  }

  @Get('admin/plans')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Every plan, retired ones included.' })
  listAll() {
    return { plans: this.plans.book.all().map(planJson) };
  }

  @Put('admin/plans/:plan_id')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Creates a plan or changes one (PlanDefined, PlanPriceChanged, PlanLimitsChanged, PlanDetailsChanged). A limit change applies to every subscriber of the plan from now on.' })
  async put(@Param('plan_id') planId: string, @Body() body: PutPlanDto, @Req() req: { id?: string }) {
    const { plan, changed } = await this.plans.execute({ type: 'PutPlan', data: { plan_id: planId, ...body } }, req.id);
    return { ...planJson(plan), changed };
  }

  @Delete('admin/plans/:plan_id')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Retires a plan (PlanRetired): no new subscriptions; current subscribers keep it.' })
  async retire(@Param('plan_id') planId: string, @Req() req: { id?: string }) {
    if (!this.plans.book.get(planId)) throw notFound('Plan', { plan_id: planId });
    const { plan, changed } = await this.plans.execute({ type: 'RetirePlan', data: { plan_id: planId } }, req.id);
    return { ...planJson(plan), changed };
  }
}
