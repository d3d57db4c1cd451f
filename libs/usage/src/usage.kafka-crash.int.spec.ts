import { describeEngine, eventually } from '@purser/testkit';
import {
  CHUNK,
  EVENTS,
  FigureView,
  expectedReports,
  figureOf,
  localDay,
  ok,
  random,
  seedOrg,
  shuffledCopies,
  usageEvents,
  views,
} from './testing/kafka-crash.data';
import { crashHarness } from './testing/kafka-crash.harness';

/**
 * The issue's acceptance test: usage arrives twice, over HTTP and Kafka at once, while the worker that consumes Kafka
 * and runs the projections is killed (SIGKILL) half-way and replaced. Afterwards every usage event counts exactly
 * once and every report adds up, to the last of nine decimals, to what was sent.
 *
 * The event store and read store are the embedded SQLite files in a temporary directory shared by the org server
 * (in this process) and the worker (a real child process; WAL mode lets both open the files, and the worker polls
 * the event store for what the org server appends). MONGODB_URL and EVENTSTORE_URL are deliberately not used: the
 * point here is Kafka's at-least-once delivery and a crash of the consumer, not the stores, which have their own
 * production suites (usage.production.int.spec.ts runs the usage API on MongoDB). The setup is in
 * testing/kafka-crash.harness.ts, the data and the expected reports in testing/kafka-crash.data.ts.
 */
describeEngine(
  'KAFKA_BROKERS',
  'usage over HTTP and Kafka with the worker killed mid-stream (SQLite + Kafka)',
  (brokers) => {
    const h = crashHarness(brokers);

    it('given 10,000 usage events each sent twice over HTTP and Kafka, when the worker is killed and replaced half-way, then every report counts each event exactly once, to the last decimal', async () => {
      const { server, bus, admin, topic, workers } = h;
      const api = server.api;
      const rnd = random(h.seed);

      // Given an org with nested teams and 50 users (some in two teams, some in none), and 10,000 events.
      const start = Date.now() - 31 * 86_400_000;
      const { orgId, users, parents } = await seedOrg(api, h.suffix, start);
      const events = usageEvents(rnd, orgId, users, start);
      const expected = expectedReports(events, users, parents);

      // When each event is sent twice, the 20,000 copies shuffled, every other copy over HTTP, the rest to Kafka ...
      const copies = shuffledCopies(rnd, events);
      const sendChunk = async (chunk: typeof copies) => {
        const http = chunk.filter((_, i) => i % 2 === 0);
        const kafka = chunk.filter((_, i) => i % 2 === 1);
        const [res] = await Promise.all([
          api.post('/v1/usage', { events: http }),
          bus.publish(
            topic,
            kafka.map((e) => ({ key: e.userId, value: e })),
          ),
        ]);
        ok(res, 'POST /v1/usage');
        const refused = res.body.results.filter((r: { status: string }) => r.status === 'rejected');
        expect(refused).toEqual([]);
      };
      const chunks: Array<typeof copies> = [];
      for (let i = 0; i < copies.length; i += CHUNK) chunks.push(copies.slice(i, i + CHUNK));
      const half = Math.floor(chunks.length / 2);
      // Two chunks in flight at a time, like two agents sending at once.
      const sendAll = async (list: Array<typeof copies>) => {
        for (let i = 0; i < list.length; i += 2) await Promise.all(list.slice(i, i + 2).map(sendChunk));
      };
      await sendAll(chunks.slice(0, half));

      // ... and the worker, busy with what came so far, is killed without warning and replaced.
      const from = localDay.format(new Date(start - 2 * 86_400_000));
      const to = localDay.format(new Date(Date.now() + 2 * 86_400_000));
      const report = (qs: string) => api.get(`/v1/orgs/${orgId}/expenditure?from=${from}&to=${to}${qs}`);
      await h.diagnose(() =>
        eventually(
          () => report('').then((r) => (r.status === 200 ? (r.body.total.count as number) : 0)),
          (n) => n > 0,
          { timeoutMs: 60_000, intervalMs: 50, what: 'the first worker to project some usage' },
        ),
      );
      const first = workers[0];
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const second = await h.startWorker();
      await sendAll(chunks.slice(half));
      await h.waitHealthy(second);

      // Then, once the consumer group has committed the whole topic and the projections have caught up ...
      await h.waitTopicCommitted();
      await h.waitProjected(second);

      // ... every usage event is recorded exactly once,
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Array<{ eventId: string }>; nextCursor: string | null } } = ok(
          await api.get(
            `/v1/orgs/${orgId}/usage-records?from=${from}&to=${to}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          ),
          'GET usage-records',
        );
        seen.push(...page.body.items.map((r) => r.eventId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(EVENTS);
      expect(new Set(seen)).toEqual(new Set(events.map((e) => e.eventId)));

      // ... and every report equals the exact sum of the events sent.
      const total = ok(await report(''), 'GET expenditure');
      expect(total.body.total.count).toBe(EVENTS);
      expect(figureOf(total.body.total)).toEqual(expected.total.view());
      const rows = async (groupBy: string, key: string) => {
        const res = ok(await report(`&groupBy=${groupBy}`), `GET expenditure by ${groupBy}`);
        expect(figureOf(res.body.total)).toEqual(expected.total.view());
        return Object.fromEntries(
          (res.body.rows as Array<FigureView & Record<string, string>>).map((r) => [r[key], figureOf(r)]),
        );
      };
      expect(await rows('user', 'user')).toEqual(views(expected.user));
      expect(await rows('team', 'team')).toEqual(views(expected.team));
      expect(await rows('itemType', 'itemType')).toEqual(views(expected.itemType));
      expect(await rows('item', 'item')).toEqual(views(expected.item));
      expect(await rows('day', 'period')).toEqual(views(expected.day));

      // Nothing valid was parked on the dead-letter topic.
      if ((await admin.listTopics()).includes(`${topic}.dlq`)) {
        const dlq = await admin.fetchTopicOffsets(`${topic}.dlq`);
        expect(dlq.map((p) => p.high)).toEqual(dlq.map(() => '0'));
      }
    }, 400_000);
  },
);
