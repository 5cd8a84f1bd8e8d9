import { Injectable } from '@nestjs/common';
import type { OperationSpec } from './operations';

/** Stub until the operator's passthrough list is wired (next commit). */
@Injectable()
export class PassthroughService {
  match(_tenantId: string, _provider: string, _method: string, _path: string): { spec: OperationSpec; params: Record<string, string> } | null {
    return null;
  }
  async audit(_call: { tenantId: string; userId: string; provider: string; operation: string; method: string; path: string; requestId: string; at: Date }): Promise<void> {}
}
