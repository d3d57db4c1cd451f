import { registerTestServer } from '@purser/testkit';

/**
 * Every suite's startTestServer() starts the org server (the test kit is a library and imports no app). Loaded on
 * first use, so unit suites do not pay for the app.
 */
registerTestServer(async (config) => (await import('../apps/org-server/src/server')).startOrgServer(config));
