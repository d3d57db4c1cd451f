import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The lint rule that keeps contexts to each other's public face (eslint.config.mjs, publicFaceOnly). */
describe('architecture: contexts import each other only through their index', () => {
  const root = join(__dirname, '../../..');
  // ESLint in its own process: its flat config is an ES module, which Jest's CommonJS runtime cannot import.
  const lint = async (code: string): Promise<string[]> => {
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/eslint/bin/eslint.js'),
        '--stdin',
        '--stdin-filename',
        'libs/usage/src/fixture.ts',
        '-f',
        'json',
      ],
      { cwd: root, input: code, encoding: 'utf8' },
    );
    const [result] = JSON.parse(run.stdout);
    return result.messages
      .filter((m: { ruleId: string }) => m.ruleId === 'no-restricted-imports')
      .map((m: { message: string }) => m.message);
  };

  it("given a usage file, when it imports the directory's decider by a deep path, then lint fails", async () => {
    expect(
      await lint("import { userDecider } from '@purser/directory/user.decider';\nuserDecider;\n"),
    ).toEqual([expect.stringContaining('through its index')]);
  });

  it('given a usage file, when it imports the directory by a relative path, then lint fails', async () => {
    expect(
      await lint("import { userDecider } from '../../directory/src/user.decider';\nuserDecider;\n"),
    ).toEqual([expect.stringContaining('relative path')]);
  });

  it("given a usage file, when it imports the directory's index, then lint passes", async () => {
    expect(await lint("import { DirectoryLookup } from '@purser/directory';\nDirectoryLookup;\n")).toEqual(
      [],
    );
  });
});
