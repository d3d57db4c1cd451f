#!/usr/bin/env node
/**
 * Builds dist/ only when a source changed since the last build, and says which: `npm start`, `npm run start:worker`,
 * `npm run replay` and `npm run bench` run this first.
 *
 *   node scripts/build-if-stale.js           build if stale (type-check and emit, then tsc-alias)
 *   node scripts/build-if-stale.js --force   build anyway
 *
 * Stale means: no stamp, or the stamp's fingerprint (path, size and mtime of every compiled source and of the
 * tsconfig/package files) differs, or an entry point is missing. A rebuild is incremental (dist/.tsbuildinfo), so
 * after a small change it re-emits only what changed; tsc-alias always runs after it. Messages go to stderr, so
 * the output of `npm run replay -- --list` stays clean.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp');
const SOURCE_DIRS = ['apps', 'libs', 'bench'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const ENTRY_POINTS = [
  'apps/org-server/src/main.js',
  'apps/worker/src/main.js',
  'apps/worker/src/replay.js',
  'bench/run.js',
];

const say = (line) => process.stderr.write(`purser: ${line}\n`);

/** The files tsconfig.build.json compiles (same exclusions: specs and testing helpers), plus the config files. */
function sources() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'testing') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const file of CONFIG_FILES) if (existsSync(join(root, file))) files.push(join(root, file));
  return files.sort();
}

function fingerprint(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    const s = statSync(file);
    hash.update(`${relative(root, file)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** Why a build is needed, or null when dist/ is up to date. */
function staleness(files, print) {
  if (!existsSync(stampFile)) return 'no build yet';
  const missing = ENTRY_POINTS.find((p) => !existsSync(join(dist, p)));
  if (missing) return `dist/${missing} is missing`;
  if (readFileSync(stampFile, 'utf8').trim() !== print) {
    const built = statSync(stampFile).mtimeMs;
    const newer = files.filter((f) => statSync(f).mtimeMs > built);
    return newer.length
      ? `${relative(root, newer[0])}${newer.length > 1 ? ` and ${newer.length - 1} more` : ''} changed`
      : 'sources were added or removed';
  }
  return null;
}

function run(bin, args) {
  const r = spawnSync(join(root, 'node_modules', '.bin', bin), args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function main() {
  const force = process.argv.includes('--force');
  const files = sources();
  const print = fingerprint(files);
  const why = force ? 'asked to' : staleness(files, print);
  if (why === null) {
    say('build up to date (dist/), starting');
    return 0;
  }
  const first = !existsSync(join(dist, '.tsbuildinfo'));
  say(`building (${why}; ${first ? 'the first build takes ~20 s' : 'only what changed is recompiled'})…`);
  const started = Date.now();
  const tsc = run('tsc', [
    '-p',
    'tsconfig.build.json',
    '--incremental',
    '--tsBuildInfoFile',
    'dist/.tsbuildinfo',
  ]);
  if (tsc !== 0) {
    say('build failed (type errors above); nothing was started');
    return tsc;
  }
  const alias = run('tsc-alias', ['-p', 'tsconfig.build.json']);
  if (alias !== 0) {
    say('tsc-alias failed; nothing was started');
    return alias;
  }
  mkdirSync(dist, { recursive: true });
  writeFileSync(stampFile, `${print}\n`);
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = main();
