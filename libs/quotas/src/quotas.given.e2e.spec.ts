import { SeedStream, TestServer, apiSpec, startTestServer, world } from '@purser/testkit';
import { QuotaDefinition, QuotaStreams } from './events';

const embedded = { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined };

// Quotas without a period ('none') keep one ledger, `quotaledger-<quotaId>-all`: the streams a check appends to do not
// depend on the day the spec runs.
const PERIOD = 'all';

describe('quotas API, given seeded streams', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: embedded });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  /** An org (USD) with a team tree eng > plat and a user in plat; ids prefixed per test (one server for all). */
  function directory(p: string): SeedStream[] {
    return [
      world.org(`${p}-org`, { baseCurrency: 'USD' }),
      world.teams(`${p}-org`, [{ teamId: `${p}-eng` }, { teamId: `${p}-plat`, parentTeamId: `${p}-eng` }]),
      world.user(`${p}-org`, `${p}-ada`, [`${p}-plat`]),
      world.user(`${p}-org`, `${p}-bob`),
    ];
  }

  /** The org's quota book with these cost quotas (limit 10 USD, hard, no period). */
  function book(org: string, quotas: Array<Pick<QuotaDefinition, 'quotaId' | 'entityType' | 'entityId'>>) {
    return {
      streamId: QuotaStreams.book(org),
      events: quotas.map((q) => ({
        type: 'QuotaDefined',
        data: {
          orgId: org,
          itemType: null,
          itemId: null,
          metric: 'cost',
          currency: 'USD',
          limit: '10',
          period: 'none',
          enforcement: 'hard',
          thresholds: [50, 80, 90],
          ...q,
        } satisfies QuotaDefinition,
      })),
    };
  }

  /** A ledger holding one live reservation (expiring in an hour). */
  function ledger(org: string, quotaId: string, reservationId: string, amount: string, userId: string) {
    return {
      streamId: QuotaStreams.ledger(quotaId, PERIOD),
      events: [
        {
          type: 'QuotaReserved',
          data: {
            quotaId,
            orgId: org,
            period: PERIOD,
            reservationId,
            amount,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            requester: { userId, teamId: null, itemType: 'Agent', itemId: 'a1' },
          },
        },
      ],
    };
  }

  const check = (userId: string, amount: string) => ({
    userId,
    itemType: 'Agent',
    itemId: 'a1',
    estimate: { amount, currency: 'USD' },
  });

  it("given quotas on the org, the user's parent team and another user, when the user checks, then 200 and exactly one QuotaReserved on each covering ledger", async () => {
    const p = 'qg1';
    const org = `${p}-org`;
    const { response } = await apiSpec(server)
      .given(
        ...directory(p),
        book(org, [
          { quotaId: `${p}-q1`, entityType: 'Org', entityId: org },
          { quotaId: `${p}-q2`, entityType: 'Team', entityId: `${p}-eng` },
          { quotaId: `${p}-q3`, entityType: 'User', entityId: `${p}-bob` },
        ]),
      )
      .when((api) => api.post(`/v1/orgs/${org}/quota-checks`, check(`${p}-ada`, '4')))
      .then(
        {
          status: 200,
          body: expect.objectContaining({
            allowed: true,
            reservationId: expect.any(String),
            refusedBy: null,
            quotas: [
              expect.objectContaining({ quotaId: `${p}-q1`, used: '0', reserved: '4', remaining: '6' }),
              expect.objectContaining({ quotaId: `${p}-q2`, used: '0', reserved: '4', remaining: '6' }),
            ],
          }),
        },
        [`${p}-q1`, `${p}-q2`].map((quotaId) => ({
          type: 'QuotaReserved',
          streamId: QuotaStreams.ledger(quotaId, PERIOD),
          data: expect.objectContaining({
            quotaId,
            amount: '4',
            requester: { userId: `${p}-ada`, teamId: `${p}-plat`, itemType: 'Agent', itemId: 'a1' },
          }),
        })),
      );
    for (const e of response.body.quotas)
      expect(e.currentPeriod).toEqual({ key: 'all', start: null, end: null });
  });

  it('given a team quota with 6 of 10 reserved, when the user checks 5, then 429 naming the quota and exactly one QuotaCheckRefused', async () => {
    const p = 'qg2';
    const org = `${p}-org`;
    const quotaId = `${p}-q1`;
    await apiSpec(server)
      .given(
        ...directory(p),
        book(org, [{ quotaId, entityType: 'Team', entityId: `${p}-eng` }]),
        ledger(org, quotaId, `${p}-r0`, '6', `${p}-ada`),
      )
      .when((api) => api.post(`/v1/orgs/${org}/quota-checks`, check(`${p}-ada`, '5')))
      .then(
        {
          status: 429,
          body: expect.objectContaining({
            statusCode: 429,
            allowed: false,
            reservationId: null,
            refusedBy: expect.objectContaining({ quotaId, entityType: 'Team', entityId: `${p}-eng` }),
            message: expect.stringMatching(/refuses 5 USD: 0 USD used and 6 USD reserved of 10 USD/),
          }),
        },
        [
          {
            type: 'QuotaCheckRefused',
            streamId: QuotaStreams.ledger(quotaId, PERIOD),
            data: expect.objectContaining({ quotaId, requested: '5', used: '0', reserved: '6', limit: '10' }),
          },
        ],
      );
  });

  it('given a reservation of 4, when usage carrying it is recorded for 2.5, then UsageRecorded and exactly one ReservationSettled', async () => {
    const p = 'qg3';
    const org = `${p}-org`;
    const quotaId = `${p}-q1`;
    const reservationId = `${p}-r1`;
    await apiSpec(server)
      .given(
        ...directory(p),
        book(org, [{ quotaId, entityType: 'User', entityId: `${p}-ada` }]),
        ledger(org, quotaId, reservationId, '4', `${p}-ada`),
      )
      .when(async (api) => {
        const res = await api.post('/v1/usage', {
          eventId: `${p}-u1`,
          orgId: org,
          userId: `${p}-ada`,
          itemType: 'Agent',
          itemId: 'a1',
          amount: '2.5',
          currency: 'USD',
          occurredAt: new Date(Date.now() - 1000).toISOString(),
          reservationId,
        });
        // The usage reactor settles the reservation after the answer: read the quota once it has counted the usage.
        const quota = await api.get(`/v1/orgs/${org}/quotas/${quotaId}?minPosition=${res.body.position}`);
        expect(quota.body).toMatchObject({ used: '2.5', reserved: '0', remaining: '7.5' });
        return res;
      })
      .then({ status: 201, body: expect.objectContaining({ status: 'recorded' }) }, [
        { type: 'UsageRecorded', data: expect.objectContaining({ usageId: `${p}-u1`, reservationId }) },
        {
          type: 'ReservationSettled',
          streamId: QuotaStreams.ledger(quotaId, PERIOD),
          data: expect.objectContaining({ quotaId, reservationId, estimate: '4', actual: '2.5' }),
        },
      ]);
  });

  it('given a user of another org and a user not in the team named, when they check, then 404 and 422 and nothing is appended', async () => {
    const p = 'qg4';
    const org = `${p}-org`;
    const quotas = book(org, [{ quotaId: `${p}-q1`, entityType: 'Org', entityId: org }]);
    await apiSpec(server)
      .given(...directory(p), quotas, world.org(`${p}-other`), world.user(`${p}-other`, `${p}-eve`))
      .when((api) => api.post(`/v1/orgs/${org}/quota-checks`, check(`${p}-eve`, '1')))
      .then(
        {
          status: 404,
          body: expect.objectContaining({ details: [{ field: 'userId', problem: 'unknown' }] }),
        },
        [],
      );
    await apiSpec(server)
      .given()
      .when((api) =>
        api.post(`/v1/orgs/${org}/quota-checks`, { ...check(`${p}-bob`, '1'), teamId: `${p}-plat` }),
      )
      .then(
        {
          status: 422,
          body: expect.objectContaining({ details: [{ field: 'teamId', problem: 'not a member' }] }),
        },
        [],
      );
  });
});
