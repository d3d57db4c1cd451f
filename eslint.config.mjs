import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';

/**
 * Bounded contexts talk through each other's public face (the package index: module, events, DTO types, lookup
 * ports), never through internals: no deep `@purser/<lib>/...` path (the engines' adapter entry points aside, for
 * the apps and their specs), and no relative path into another lib. core, platform, engines and testkit are shared.
 */
const LIBS = readdirSync(new URL('./libs', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const ENGINE_ENTRY_POINTS =
  'engines/(kafka/kafka-bus|mongo/mongo-read-store|esdb/esdb-event-store|memory/memory-read-store)';
const publicFaceOnly = (lib) => ({
  files: [`libs/${lib}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^@purser/(?!${ENGINE_ENTRY_POINTS}$)[^/]+/`,
            message: "Import another context through its index ('@purser/<context>'), not its internals.",
          },
          {
            regex: `^(\\.\\./)+(libs/)?(${LIBS.filter((l) => l !== lib).join('|')})/src(/|$)`,
            message: "Import another lib through '@purser/<lib>', not a relative path into it.",
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['bench/**/*.ts', 'apps/worker/src/replay.ts'], rules: { 'no-console': 'off' } },
  ...LIBS.map(publicFaceOnly),
);
