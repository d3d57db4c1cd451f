import { apiSpec } from '@purser/testkit';
import { TestServer, startTestServer } from '@purser/testkit';
import { world } from '@purser/testkit';

const embedded = { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined };

describe('usage API, given seeded streams', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: embedded });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  const usage = (over: Record<string, unknown> = {}) => ({
    eventId: `ev-${Math.random().toString(36).slice(2)}`,
    orgId: 'g-acme',
    userId: 'g-ada',
    itemType: 'Agent',
    itemId: 'research',
    amount: '0.25',
    currency: 'EUR',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...over,
  });

  it('given an org, a team tree and a member, when she records usage, then one UsageRecorded carries the team path', async () => {
    await apiSpec(server)
      .given(
        world.org('g-acme'),
        world.teams('g-acme', [{ teamId: 'g-eng' }, { teamId: 'g-plat', parentTeamId: 'g-eng' }]),
        world.user('g-acme', 'g-ada', ['g-plat']),
      )
      .when((api) => api.post('/v1/usage', usage({ eventId: 'g-1' })))
      .then({ status: 201, body: expect.objectContaining({ eventId: 'g-1', status: 'recorded' }) }, [
        {
          type: 'UsageRecorded',
          data: expect.objectContaining({
            usageId: 'g-1',
            teamId: 'g-plat',
            teamPath: ['g-plat', 'g-eng'],
            amount: '0.25',
            currency: 'EUR',
            baseCurrency: 'EUR',
          }),
        },
      ]);
  });

  it('given an org without that user, when usage names him, then 422 and nothing is appended', async () => {
    await apiSpec(server)
      .given(world.org('g-other'))
      .when((api) => api.post('/v1/usage', usage({ orgId: 'g-other', userId: 'g-nobody' })))
      .then({ status: 422, body: expect.objectContaining({ statusCode: 422 }) }, []);
  });

  it('given a recorded usage, when the same event is sent again, then it is not appended twice', async () => {
    const again = usage({ eventId: 'g-twice' });
    await apiSpec(server)
      .given(world.org('g-acme2'), world.user('g-acme2', 'g-bob'))
      .when((api) => api.post('/v1/usage', { ...again, orgId: 'g-acme2', userId: 'g-bob' }))
      .then({ status: 201 }, [{ type: 'UsageRecorded' }]);
    await apiSpec(server)
      .given()
      .when((api) => api.post('/v1/usage', { ...again, orgId: 'g-acme2', userId: 'g-bob' }))
      .then(
        {
          status: expect.any(Number) as unknown as number,
          body: expect.objectContaining({ status: 'duplicate' }),
        },
        [],
      );
  });
});
