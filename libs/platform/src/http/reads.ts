import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, from, switchMap } from 'rxjs';
import { ReadYourWrites } from './positions';

export const READS_PROJECTIONS = 'purser:readsProjections';

/**
 * The projections a route reads. With `?minPosition=<position from a command response>`, the route answers only once
 * they have passed that position (bounded: 503 past PURSER_MIN_POSITION_TIMEOUT_MS), so a client reads its own writes.
 */
export const ReadsProjections = (...projections: string[]) => SetMetadata(READS_PROJECTIONS, projections);

/** The one place that parses ?minPosition= and waits, for every route marked @ReadsProjections. */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  private readonly reads = new WeakMap<object, readonly string[] | null>();

  constructor(
    private readonly reflector: Reflector,
    private readonly ryw: ReadYourWrites,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const projections = this.projectionsOf(context);
    if (!projections) return next.handle();
    const query = context.switchToHttp().getRequest<{ query?: Record<string, unknown> }>().query;
    const min = query?.minPosition;
    if (min === undefined || min === '') return next.handle();
    // An array (?minPosition=1&minPosition=2) is no position either: String() makes it fail the same check.
    return from(this.ryw.waitFor(String(min), [...projections])).pipe(switchMap(() => next.handle()));
  }

  private projectionsOf(context: ExecutionContext): readonly string[] | null {
    const handler = context.getHandler();
    let names = this.reads.get(handler);
    if (names === undefined) {
      names =
        this.reflector.getAllAndOverride<string[]>(READS_PROJECTIONS, [handler, context.getClass()]) ?? null;
      this.reads.set(handler, names);
    }
    return names;
  }
}
