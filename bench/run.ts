import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, platform, arch, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Suite, SuiteContext } from './lib/suite';
import { round, stopwatch } from './lib/timing';
import { SUITES } from './suites';

/**
 * npm run bench [-- --only a,b] [--scale 0.05]
 * Runs the suites in sequence, each in a fresh temporary directory, and prints one JSON document on stdout.
 * Progress goes to stderr. Exit code 1 when a suite crashed (a missed target is reported, not a crash); 2 on bad usage.
 */

interface Options {
  only: Suite[];
  scale: number;
}

const USAGE = `usage: node dist/bench/run.js [--only ${SUITES.map((s) => s.name).join(',')}] [--scale X]
  --only   comma-separated suites to run (default: all)
  --scale  multiplies every count, e.g. 0.05 for a quick run (default: 1)`;

function parseArgs(argv: string[]): Options {
  let only: Suite[] = [...SUITES];
  let scale = 1;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
        if (unknown.length) throw new UsageError(`unknown suite(s): ${unknown.join(', ')}`);
        only = SUITES.filter((s) => names.includes(s.name));
        break;
      }
      case '--scale': {
        const raw = value();
        scale = Number(raw);
        if (!Number.isFinite(scale) || scale <= 0)
          throw new UsageError(`--scale must be a positive number, not ${raw}`);
        break;
      }
      case '--help':
      case '-h':
        console.error(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${argv[i]}`);
    }
  }
  return { only, scale };
}

class UsageError extends Error {}

let currentDir: string | null = null;

function removeCurrentDir(): void {
  if (currentDir) rmSync(currentDir, { recursive: true, force: true });
  currentDir = null;
}

async function runSuite(suite: Suite, scale: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `purser-bench-${suite.name}-`));
  currentDir = dir;
  const ctx: SuiteContext = {
    scale,
    dir,
    count: (fullScale, min = 1) => Math.max(min, Math.round(fullScale * scale)),
    log: (message) => console.error(`[bench] ${message}`),
  };
  ctx.log(`${suite.name}: ${suite.description}`);
  const elapsed = stopwatch();
  try {
    const { figures, targets } = await suite.run(ctx);
    const pass = Object.values(targets).every((t) => t.pass);
    ctx.log(`${suite.name}: ${pass ? 'pass' : 'MISSED A TARGET'} in ${Math.round(elapsed() / 1000)} s`);
    return { ...figures, elapsedMs: round(elapsed(), 1), targets, pass };
  } catch (err) {
    process.exitCode = 1;
    ctx.log(`${suite.name}: FAILED: ${(err as Error).stack ?? String(err)}`);
    return { error: (err as Error).message, elapsedMs: round(elapsed(), 1), targets: {}, pass: false };
  } finally {
    removeCurrentDir();
  }
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeCurrentDir();
      process.exit(130);
    });
  }
  const cpuList = cpus();
  const report = {
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      memoryGb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${platform()}-${arch()}`,
    },
    scale: options.scale,
    startedAt: new Date().toISOString(),
    suites: {} as Record<string, unknown>,
  };
  for (const suite of options.only) report.suites[suite.name] = await runSuite(suite, options.scale);
  console.log(JSON.stringify(report, null, 2));
}

main().catch((err) => {
  removeCurrentDir();
  console.error(err);
  process.exit(1);
});
