import { ConfigError, PurserConfig, loadConfig } from './config';
import { PurserLogger } from './logger';

/** An entry point's configuration: a bad setting ends the process with exit code 2 and one line naming it. */
export function configOrExit(program: string): PurserConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${program}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

/** Stops once on SIGINT or SIGTERM: logs it, runs `stop`, exits 0 (or 1 when stopping fails). */
export function stopOnSignals(logger: PurserLogger, message: string, stop: () => Promise<unknown>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, message);
      stop().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err: (err as Error).message }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/** Runs an entry point's main; a failure to start is printed with its stack and exits 1. */
export function runMain(program: string, main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(`${program}: failed to start: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
