import { Injectable } from '@nestjs/common';
import { Projection } from '../../libs/projections';

/** Modules register their projections here (in their constructor or onModuleInit); the shell runs them all. */
@Injectable()
export class ProjectionRegistry {
  private readonly projections: Projection[] = [];

  register(...projections: Projection[]): void {
    this.projections.push(...projections);
  }

  all(): Projection[] {
    return [...this.projections];
  }
}
