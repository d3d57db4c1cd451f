// The registry alone (type-only imports), not the kit's index: unit suites must not load the platform for this.
import { registerTestServer } from '../libs/testkit/src/server-registry';

/**
 * Every suite's startTestServer() starts the org server (the test kit is a library and imports no app). Loaded on
 * first use, so unit suites do not pay for the app.
 */
registerTestServer(async (config) => (await import('../apps/org-server/src/server')).startOrgServer(config));
