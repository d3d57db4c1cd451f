import { EVENT_STORE, EventStore } from '@purser/core';
import { SignedIn, TestServer, setUpInstance, signedInOrg, startTestServer } from '@purser/testkit';
import { AccessStreams } from '../streams';

describe('access refusals are audited events (embedded engines)', () => {
  let server: TestServer;
  let root: SignedIn;
  let member: SignedIn;
  let other: SignedIn;

  beforeAll(async () => {
    server = await startTestServer();
    root = await setUpInstance(server, { orgName: 'Acme' });
    member = await signedInOrg(server, root.api, { orgId: root.orgId, username: 'mia' });
    other = await signedInOrg(server, root.api, { orgName: 'Other' });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const refusals = async (orgId: string) => {
    const store = server.app.get<EventStore>(EVENT_STORE);
    const deadline = Date.now() + 3000;
    for (;;) {
      const events = await store.readStream(AccessStreams.refusals(orgId));
      if (events.length || Date.now() > deadline)
        return events.map((e) => ({ data: e.data as any, actor: e.metadata.actor }));
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("given a member without team.manage, when creating a team twice, then 403 both times and one AccessRefused in the member's org, with its actor", async () => {
    for (let i = 0; i < 2; i++)
      expect((await member.api.post(`/v1/orgs/${root.orgId}/teams`, { name: 'Nope' })).status).toBe(403);
    const events = await refusals(root.orgId);
    expect(events).toEqual([
      {
        data: {
          orgId: root.orgId,
          principal: { type: 'user', id: member.userId },
          via: 'session',
          permission: 'team.manage',
          target: { orgId: root.orgId, teamId: null },
          status: 403,
        },
        actor: { type: 'user', id: member.userId, orgId: root.orgId },
      },
    ]);
  });

  it("given a caller of another org, when reaching into Acme, then 404, recorded in the caller's org only and without Acme's id", async () => {
    expect((await other.api.get(`/v1/orgs/${root.orgId}/teams`)).status).toBe(404);
    const events = await refusals(other.orgId);
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({
        orgId: other.orgId,
        permission: 'team.read',
        target: 'another org',
        status: 404,
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(root.orgId);
    expect((await refusals(root.orgId)).map((e) => e.data.principal.id)).not.toContain(other.userId);
  });
});
