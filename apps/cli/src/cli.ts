import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyMaterial, SETUP_TOKEN_FILE } from '@purser/access';
import { verifyChain } from '@purser/audit';

/** Where the CLI reads and writes: injected so that tests drive it without a terminal. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  /** The password, when it is neither in the environment nor on stdin (a terminal prompt). */
  readSecret(prompt: string): Promise<string>;
}

const USAGE = `purser <command> [options]

Commands:
  setup        Set a fresh instance up: the first org and its owner (the instance administrator), once.
               --url URL (default http://localhost:3000)  --data-dir DIR (default ./data, to read setup-token)
               --token TOKEN (instead of <data dir>/setup-token)
               --org NAME  --base-currency CODE (USD)  --time-zone ZONE (UTC)
               --username NAME  --email ADDRESS
               The owner's password comes from PURSER_OWNER_PASSWORD, or stdin, or a prompt.
               Prints the answer of POST /v1/setup as JSON (orgId, userId, accessToken, refreshToken).
  keys init    Create the instance's key material (pepper, sealing key, a signing key) in a folder, e.g. to
               store it as a Kubernetes Secret shared by every org server: --keys-dir DIR
  keys rotate  Add a signing key for access tokens (the newest signs; older ones keep verifying).
               --keys-dir DIR (default <data dir>/keys, or PURSER_KEYS_DIR)  --keep N (3)
  audit verify Check an audit export (GET /v1/orgs/:orgId/audit?format=jsonl, unfiltered): every entry must follow
               the one before it. --file FILE. Prints {ok, entries, firstBadSeq?, problem?} (altered, missing,
               reordered); exits 0 when the chain holds, 1 when it does not.
  help         This text.`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, sub] = argv;
  try {
    if (command === 'setup') return await setup(argv.slice(1), io);
    if (command === 'keys' && sub === 'rotate') return rotate(argv.slice(2), io);
    if (command === 'keys' && sub === 'init') return init(argv.slice(2), io);
    if (command === 'audit' && sub === 'verify') return auditVerify(argv.slice(2), io);
    if (command === undefined || command === 'help' || command === '--help') {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    io.err(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (err) {
    io.err(`purser: ${(err as Error).message}`);
    return 1;
  }
}

async function setup(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      'data-dir': { type: 'string', default: io.env.PURSER_DATA_DIR ?? './data' },
      token: { type: 'string' },
      org: { type: 'string' },
      'base-currency': { type: 'string' },
      'time-zone': { type: 'string' },
      username: { type: 'string' },
      email: { type: 'string' },
    },
    strict: true,
  });
  const missing = ['org', 'username', 'email'].filter((k) => !values[k as keyof typeof values]);
  if (missing.length) {
    io.err(`setup needs --${missing.join(', --')}\n\n${USAGE}`);
    return 2;
  }
  const token =
    values.token ??
    readFileSync(join(resolve(values['data-dir'] as string), SETUP_TOKEN_FILE), 'utf8').trim();
  const password = io.env.PURSER_OWNER_PASSWORD ?? (await io.readSecret(`password for ${values.username}: `));
  const res = await fetch(`${values.url}/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      org: {
        name: values.org,
        ...(values['base-currency'] ? { baseCurrency: values['base-currency'] } : {}),
        ...(values['time-zone'] ? { timeZone: values['time-zone'] } : {}),
      },
      owner: { username: values.username, email: values.email, password },
    }),
  });
  const body = await res.text();
  if (res.status !== 201) {
    io.err(`setup refused (${res.status}): ${body}`);
    return 1;
  }
  io.out(body);
  return 0;
}

function keysDirOf(value: string | undefined, io: CliIo): string {
  return resolve(value ?? io.env.PURSER_KEYS_DIR ?? join(io.env.PURSER_DATA_DIR ?? './data', 'keys'));
}

function init(args: string[], io: CliIo): number {
  const { values } = parseArgs({ args, options: { 'keys-dir': { type: 'string' } }, strict: true });
  const dir = keysDirOf(values['keys-dir'], io);
  const keys = KeyMaterial.open(dir);
  io.out(JSON.stringify({ keysDir: dir, kid: keys.currentSigningKey().kid }));
  return 0;
}

function rotate(args: string[], io: CliIo): number {
  const { values } = parseArgs({
    args,
    options: { 'keys-dir': { type: 'string' }, keep: { type: 'string', default: '3' } },
    strict: true,
  });
  const dir = keysDirOf(values['keys-dir'], io);
  const keep = Number(values.keep);
  if (!Number.isInteger(keep) || keep < 2 || keep > 20) {
    io.err('--keep must be an integer from 2 to 20');
    return 2;
  }
  const kid = KeyMaterial.rotate(dir, keep);
  io.out(JSON.stringify({ kid, keysDir: dir, note: 'servers sign with it within a minute' }));
  return 0;
}

function auditVerify(args: string[], io: CliIo): number {
  const { values } = parseArgs({ args, options: { file: { type: 'string' } }, strict: true });
  if (!values.file) {
    io.err(`audit verify needs --file\n\n${USAGE}`);
    return 2;
  }
  const report = verifyChain(readFileSync(resolve(values.file), 'utf8').split('\n'));
  io.out(JSON.stringify(report));
  if (!report.ok) io.err(`audit chain broken at seq ${report.firstBadSeq}: ${report.problem}`);
  return report.ok ? 0 : 1;
}
