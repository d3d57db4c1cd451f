import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, NestPinoLogger, ProjectionHost, createLogger, loadConfig } from '@purser/platform';
import { closeEngines, createEngines } from '@purser/engines';
import { WorkerModule } from './worker.module';

/**
 * npm run replay -- --projection NAME [--projection NAME2] | --all | --list
 * Rebuilds read models from zero by replaying the event store. Stop the processes that run these projections
 * first (the org server in embedded mode, or the worker), or they will keep writing while you rebuild.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const wanted: string[] = [];
  let all = false;
  let list = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--projection' && args[i + 1]) wanted.push(args[++i]);
    else if (args[i].startsWith('--projection=')) wanted.push(args[i].slice('--projection='.length));
    else if (args[i] === '--all') all = true;
    else if (args[i] === '--list') list = true;
    else return usage(`unknown argument ${args[i]}`);
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return usage(err.message);
    throw err;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { app: 'replay' });
  const engines = await createEngines(config, logger);
  const ctx = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({ config, logger, engines, http: false }),
    {
      logger: new NestPinoLogger(logger),
    },
  );
  await ctx.init();
  try {
    const runner = ctx.get(ProjectionHost).get();
    const names = runner.names();
    if (list || (!all && wanted.length === 0)) {
      console.log(`projections: ${names.join(', ')}`);
      if (!list) process.exitCode = 2;
      return;
    }
    const unknown = wanted.filter((w) => !names.includes(w));
    if (unknown.length)
      return usage(`unknown projection(s) ${unknown.join(', ')}; known: ${names.join(', ')}`);
    for (const name of all ? names : wanted) {
      const started = Date.now();
      const res = await runner.rebuild(name, ({ handled, position, head }) =>
        progress(name, handled, position, head, started),
      );
      const secs = Math.max(res.elapsedMs, 1) / 1000;
      process.stderr.write('\n');
      console.log(
        JSON.stringify({
          projection: name,
          events: res.handled,
          seconds: secs,
          eventsPerSecond: Math.round(res.handled / secs),
        }),
      );
    }
  } finally {
    await ctx.close();
    await closeEngines(engines);
  }
}

function progress(name: string, handled: number, position: bigint, head: bigint, started: number): void {
  const ratio = head > 0n ? Math.min(1, Number(position) / Number(head)) : 1;
  const width = 30;
  const filled = Math.round(ratio * width);
  const rate = Math.round(handled / Math.max((Date.now() - started) / 1000, 0.001));
  process.stderr.write(
    `\r${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${handled} events, ${rate} events/s`,
  );
}

function usage(problem: string): void {
  console.error(
    `replay: ${problem}\nusage: npm run replay -- --projection NAME [--projection NAME...] | --all | --list`,
  );
  process.exitCode = 2;
}

main().catch((err) => {
  console.error(`replay failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
