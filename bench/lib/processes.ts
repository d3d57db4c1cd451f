import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv } from './auth';

/**
 * The org server and the worker as separate processes, started from the built entry points (dist/apps/<app>/src/
 * main.js) the way they run in production, so the load generator, the API and the projections each have their own
 * event loop (on this 2-core machine a single process would measure one core).
 */

export type AppName = 'org-server' | 'worker';

export interface AppProcess {
  app: AppName;
  url: string;
  child: ChildProcess;
  /** The last lines the process wrote (it logs at warn level by default). */
  log: string[];
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

const entry = (app: AppName) => join(__dirname, '..', '..', 'apps', app, 'src', 'main.js');

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** CPU µs per event between two cpuMs readings (null when /proc is not there). */
export function cpuMicrosPer(before: number | null, after: number | null, events: number): number | null {
  return before === null || after === null ? null : Math.round(((after - before) * 10_000) / events) / 10;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

/** Settings a bench run passes on to the apps it starts: PURSER_SQLITE_CHECKPOINT, to compare checkpoint modes. */
export function passedThrough(): Record<string, string> {
  const mode = process.env.PURSER_SQLITE_CHECKPOINT;
  return mode ? { PURSER_SQLITE_CHECKPOINT: mode } : {};
}

/**
 * Young-generation (semi-space) size per app, as package.json and deploy/ start them. The org server answers quota
 * checks: a smaller young generation means shorter scavenges (quota p99 at 1,000/s: 44 ms with 64 MB, 8-16 ms with
 * 16 MB). The worker folds projections in batches of 1,000 events: a larger one means fewer scavenges.
 */
export const SEMI_SPACE_MB: Record<AppName, number> = { 'org-server': 16, worker: 64 };

/** Starts one app with `env` on top of a quiet default environment and waits until it answers /livez. */
export async function startApp(app: AppName, env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...passedThrough(),
    ...adminEnv(),
    HOST: '127.0.0.1',
    ...env,
    [app === 'worker' ? 'WORKER_PORT' : 'PORT']: String(port),
  };
  // BENCH_CHILD_NODE_FLAGS reaches the children's command line, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  // The young-generation size each app runs with under npm start and in the image (package.json, deploy/).
  const flags = [
    `--max-semi-space-size=${SEMI_SPACE_MB[app]}`,
    ...(process.env.BENCH_CHILD_NODE_FLAGS ?? '').split(' ').filter(Boolean),
  ];
  const child = spawn(process.execPath, [...flags, entry(app)], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 100) log.splice(0, log.length - 100);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const proc: AppProcess = {
    app,
    url,
    child,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${app} exited before serving /livez:\n${log.slice(-20).join('\n')}`);
    const ok = await fetch(`${url}/livez`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${app} did not serve /livez within 60 s:\n${log.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An API process and a worker process on the same embedded data directory (PURSER_PROJECTIONS=worker). */
export async function startApiAndWorker(
  dataDir: string,
  env: Record<string, string> = {},
  workerEnv: Record<string, string> = {},
): Promise<{ api: AppProcess; worker: AppProcess; stop(): Promise<void> }> {
  const common = {
    PURSER_DATA_DIR: dataDir,
    PURSER_PROJECTIONS: 'worker',
    ...(process.env.BENCH_INGEST_MAX_LAG ? { PURSER_INGEST_MAX_LAG: process.env.BENCH_INGEST_MAX_LAG } : {}),
    ...env,
  };
  const worker = await startApp('worker', { ...common, ...workerEnv });
  let api: AppProcess;
  try {
    api = await startApp('org-server', { PURSER_MIN_POSITION_TIMEOUT_MS: '30000', ...common });
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return {
    api,
    worker,
    async stop() {
      await api.stop();
      await worker.stop();
    },
  };
}
