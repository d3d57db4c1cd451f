import type { RunningServer } from './app';
import type { PurserConfig } from '@purser/platform';

type ServerStarter = (config: PurserConfig) => Promise<RunningServer>;
let starter: ServerStarter | null = null;

/**
 * The test kit starts whichever app registered itself (test/setup.ts registers the org server for every suite),
 * so the kit, a library, does not import an app. Type-only imports: loading this costs a unit suite nothing.
 */
export function registerTestServer(start: ServerStarter): void {
  starter = start;
}

export function registeredStarter(): ServerStarter {
  if (!starter)
    throw new Error('no test server registered: jest runs test/setup.ts, which registers the org server');
  return starter;
}
