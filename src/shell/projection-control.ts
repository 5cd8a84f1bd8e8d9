import type { ProjectionStatus, RebuildProgress } from '../../libs/projections/projection-runner';

/**
 * What the rest of the application may ask of the projections, wherever they run: on this thread (the
 * ProjectionRunner itself) or on the projection worker thread (ProjectorWorkerHost, which asks the worker).
 */
export interface ProjectionControl {
  readonly names: string[];
  /** True when a projection of that name is registered. */
  has(name: string): boolean;
  status(): Promise<ProjectionStatus[]>;
  /** Resolves once every projection has applied every event stored when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  rebuild(name: string, onProgress?: RebuildProgress): Promise<{ events: number; ms: number }>;
  stop(): Promise<void>;
}
