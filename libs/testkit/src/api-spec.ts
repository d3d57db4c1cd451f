import {
  Actor,
  CommandExecutor,
  EVENT_STORE,
  EventStore,
  PositionWaiter,
  RecordedEvent,
  SYSTEM_ACTOR,
  uuidv7,
} from '@purser/core';
import { ProjectionRegistry } from '@purser/platform';
import type { Api, ApiResponse, TestServer } from './app';

/** One event to seed: its type and data; metadata is filled in (system actor, now) unless given. */
export interface SeedEvent {
  type: string;
  data: unknown;
  orgId?: string | null;
  actor?: Actor;
  occurredAt?: string;
}

export interface SeedStream {
  streamId: string;
  events: SeedEvent[];
}

/** An appended event the spec expects: its type, and optionally its stream and (part of) its data. */
export interface ExpectedEvent {
  type: string;
  streamId?: string;
  data?: unknown;
}

export interface ExpectedResponse {
  status: number;
  /** Matched with toEqual: use expect.objectContaining(...) for a part. */
  body?: unknown;
}

/**
 * The API specification grammar (CONVENTIONS: given streams, when an HTTP request, then the response and exactly the
 * events appended):
 *
 *   await apiSpec(server)
 *     .given({ streamId: 'org-o1', events: [{ type: 'OrgCreated', data: {...} }] })
 *     .when((api) => api.post('/v1/usage', {...}))
 *     .then({ status: 201, body: expect.objectContaining({ status: 'recorded' }) }, [{ type: 'UsageRecorded' }]);
 *
 * `given` appends the streams straight to the server's event store and waits until every projection has read them,
 * so the world is seeded without a chain of HTTP calls; `then` checks the response, then that the request appended
 * exactly the listed events, in order (none when the list is empty: a refused request changes nothing).
 */
export function apiSpec(server: TestServer) {
  const app = server.app;
  const store = app.get<EventStore>(EVENT_STORE);
  const executor = app.get(CommandExecutor);

  async function settled(position: bigint): Promise<void> {
    if (position < 0n) return;
    const names = app
      .get(ProjectionRegistry)
      .all()
      .map((p) => p.name);
    await app.get(PositionWaiter).waitFor(position, names, 10_000);
  }

  async function seed(streams: SeedStream[]): Promise<void> {
    const now = new Date().toISOString();
    let last = -1n;
    for (const s of streams) {
      if (!s.events.length) continue;
      const res = await store.append(
        s.streamId,
        s.events.map((e) => ({
          type: e.type,
          data: e.data,
          // The metadata every command stamps (CommandExecutor.metadata), with the seed's actor and time.
          metadata: executor.metadata(
            e.type,
            { actor: e.actor ?? SYSTEM_ACTOR, correlationId: uuidv7(), now: e.occurredAt ?? now },
            e.orgId ?? orgIdOf(e.data),
          ),
        })) as never,
        'any',
      );
      if (res.position > last) last = res.position;
    }
    await settled(last);
  }

  async function appendedAfter(head: bigint): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let after = head;
    for (;;) {
      const batch = await store.readAll({ after, maxCount: 1000 });
      out.push(...batch.events);
      if (batch.events.length < 1000) return out;
      after = batch.checkpoint;
    }
  }

  return {
    given(...streams: SeedStream[]) {
      return {
        when(request: (api: Api) => Promise<ApiResponse>) {
          return {
            /** Runs the scenario; resolves with the response and the events appended, for further checks. */
            async then(expected: ExpectedResponse, events: ExpectedEvent[]) {
              await seed(streams);
              const head = await store.headPosition();
              const res = await request(server.api);
              expect({ status: res.status, body: res.body }).toEqual({
                status: expected.status,
                body: 'body' in expected ? expected.body : res.body,
              });
              const appended = await appendedAfter(head);
              expect(appended.map((e) => ({ streamId: e.streamId, type: e.type, data: e.data }))).toEqual(
                events.map((e) =>
                  expect.objectContaining({
                    type: e.type,
                    ...(e.streamId !== undefined ? { streamId: e.streamId } : {}),
                    ...(e.data !== undefined ? { data: e.data } : {}),
                  }),
                ),
              );
              for (const e of appended) expect(e.metadata.actor).toBeDefined();
              return { response: res, events: appended };
            },
          };
        },
      };
    },
  };
}

function orgIdOf(data: unknown): string | null {
  const id = (data as { orgId?: unknown } | null)?.orgId;
  return typeof id === 'string' ? id : null;
}
