import { Suite } from '../lib/suite';
import { authOverheadSuite } from './auth-overhead';
import { directorySuite } from './directory';
import { eventstoreAppendSuite } from './eventstore-append';
import { insightForecastSuite } from './insight-forecast';
import { quotaCheckSuite } from './quota-check';
import { replaySuite } from './replay';
import { usageIngestSuite } from './usage-ingest';
import { usageKafkaSuite } from './usage-kafka';
import { usageQuerySuite } from './usage-query';

/** Every bench suite, in the order `npm run bench` runs them. Add a suite: one file in bench/suites, one line here. */
export const SUITES: readonly Suite[] = [
  eventstoreAppendSuite,
  replaySuite,
  directorySuite,
  quotaCheckSuite,
  usageIngestSuite,
  usageKafkaSuite,
  usageQuerySuite,
  authOverheadSuite,
  insightForecastSuite,
];
