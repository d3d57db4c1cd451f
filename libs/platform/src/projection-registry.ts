import { Projection } from '@purser/core';

/**
 * Bounded contexts register their projections here when their module is constructed; the host (org-server in
 * embedded mode, or the worker) runs them all.
 */
export class ProjectionRegistry {
  private readonly list: Projection[] = [];
  register(...projections: Projection[]): void {
    for (const p of projections) {
      if (this.list.some((x) => x.name === p.name)) throw new Error(`projection ${p.name} registered twice`);
      this.list.push(p);
    }
  }
  all(): Projection[] {
    return [...this.list];
  }
}
