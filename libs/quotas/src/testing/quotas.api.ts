import { TestServer } from '@purser/testkit';
import { quotaFixture } from './quotas.fixture';
import { quotaChecksSpec } from './quotas.checks.api';
import { quotaAlertsSpec } from './quotas.alerts.api';
import { quotaConcurrencySpec } from './quotas.concurrency.api';
import { quotaInputSpec } from './quotas.input.api';

/** Quotas through the API: given a directory and quotas, when agents check and spend, then limits hold and alerts fire once. */
export function quotasApiSpec(
  start: (dataDir?: string, env?: Record<string, string>) => Promise<TestServer>,
) {
  const f = quotaFixture(start);
  quotaChecksSpec(f);
  quotaAlertsSpec(f);
  quotaConcurrencySpec(f);
  quotaInputSpec(f);
}
