/**
 * Where the end-to-end tests find code-server, Chromium and the Glassbox .vsix, and the skip
 * policy: when something is missing the suite prints a loud `E2E SKIPPED` banner and skips, or,
 * with GLASSBOX_E2E_REQUIRED=1 (CI), fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

/** The repository root (the folder whose package.json is Glassbox's), found from this file. */
export const repoRoot: string = findRepoRoot(__dirname);

/** Screenshots and logs go here. */
export const resultsDir: string = path.join(repoRoot, 'test-results', 'e2e');

/** code-server's launcher, as test/e2e/setup.sh installs it (override: GLASSBOX_CODE_SERVER). */
export const codeServerBin: string =
  process.env.GLASSBOX_CODE_SERVER ?? path.join(repoRoot, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');

/** Debian's Chromium (override: GLASSBOX_CHROMIUM). */
export const chromiumBin: string = process.env.GLASSBOX_CHROMIUM ?? '/usr/bin/chromium';

const SETUP = 'sudo bash test/e2e/setup.sh';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'glassbox') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Glassbox package.json above ${from}`);
  }
}

/** What is missing to run the end-to-end tests, each with the command that installs it. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(chromiumBin))
    missing.push(`Chromium (${chromiumBin}): run \`${SETUP}\` or \`apt-get install -y chromium\``);
  if (!fs.existsSync(codeServerBin)) missing.push(`code-server (${codeServerBin}): run \`${SETUP}\``);
  return missing;
}

/**
 * The newest Glassbox .vsix: GLASSBOX_VSIX if set, else the newest `glassbox-*.vsix` in the repo
 * root (what `npm run package` writes), else undefined.
 */
export function findGlassboxVsix(): string | undefined {
  const fromEnv = process.env.GLASSBOX_VSIX;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`GLASSBOX_VSIX=${fromEnv} does not exist`);
    return path.resolve(fromEnv);
  }
  const candidates = fs
    .readdirSync(repoRoot)
    .filter((f) => /^glassbox-.*\.vsix$/.test(f))
    .map((f) => path.join(repoRoot, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return candidates[0];
}

let banner: string | false | undefined;

/**
 * The `skip` option for end-to-end tests: `false` when everything is installed, else the reason.
 * When something is missing it prints an `E2E SKIPPED: …` banner once per file; with
 * GLASSBOX_E2E_REQUIRED=1 it also registers a failing test, so the run fails instead of passing.
 *
 * @example
 *   const skip = e2eSkip();
 *   test('types in the editor', { skip, timeout: 180_000 }, async () => { … });
 */
export function e2eSkip(): string | false {
  if (banner !== undefined) return banner;
  const missing = missingPrerequisites();
  if (missing.length === 0) return (banner = false);
  const reason = missing.join('; ');
  const required = process.env.GLASSBOX_E2E_REQUIRED === '1';
  const line = '='.repeat(100);
  process.stderr.write(`\n${line}\nE2E ${required ? 'FAILED' : 'SKIPPED'}: ${reason}\n${line}\n\n`);
  if (required) {
    test('end-to-end prerequisites are installed (GLASSBOX_E2E_REQUIRED=1)', () => {
      throw new Error(`E2E prerequisites missing: ${reason}`);
    });
  }
  return (banner = `E2E SKIPPED: ${reason}`);
}
