/**
 * The workspace scan that feeds the snippet index (workspaceScan.ts), on real folders in the temp
 * directory: what a user's .gitignore and files.exclude keep out must stay out, nothing outside
 * the folder may be read through a link, and a huge or hostile tree must end the scan, not hang it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { isInside, readCode, scanWorkspace, type ScanOptions } from '../../src/engine/context/workspaceScan';

const temps: string[] = [];
after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-scan-'));
  temps.push(d);
  return d;
}

/** Writes files (relative path -> content) under root. */
function tree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

/** Runs a scan and collects what reached onFile. */
async function scan(opts: ScanOptions, accept: (rel: string) => boolean = () => true) {
  const seen = new Map<string, string>();
  const report = await scanWorkspace(opts, (rel, text) => {
    seen.set(rel, text);
    return accept(rel);
  });
  return { report, seen, paths: [...seen.keys()].sort() };
}

describe('workspace scan', () => {
  it('honours .gitignore at every level, files.exclude globs, and skips dependency folders', async () => {
    const root = tempDir();
    tree(root, {
      '.gitignore': 'dist/\n*.gen.ts\n!keep.gen.ts\n',
      'src/a.ts': 'export const a = 1;\n',
      'src/b.gen.ts': 'generated\n',
      'src/keep.gen.ts': 'kept by negation\n',
      'dist/out.js': 'built\n',
      'sub/.gitignore': 'local.ts\n',
      'sub/local.ts': 'ignored by sub/.gitignore\n',
      'sub/shared.ts': 'export const shared = 2;\n',
      'other/local.ts': "sub's rules do not reach here\n",
      'node_modules/pkg/index.js': 'dependency\n',
      '.git/hooks/pre-commit.sh': 'hook\n',
      'generated/g.ts': 'excluded\n',
      'deep/er/generated/h.ts': 'excluded too\n',
      'vendor/v.ts': 'excluded by folder glob\n',
    });
    const { report, paths } = await scan({ root, exclude: ['**/generated', 'vendor/**'] });
    assert.deepEqual(paths, ['other/local.ts', 'src/a.ts', 'src/keep.gen.ts', 'sub/shared.ts']);
    assert.equal(report.stopped, undefined);
    assert.equal(report.files, 4);
  });

  it('skips binary, huge and non-code files instead of indexing them', async () => {
    const root = tempDir();
    tree(root, {
      'bin.ts': Buffer.from([0x63, 0x6f, 0x00, 0x64, 0x65]),
      'big.ts': 'x'.repeat(2000),
      'README.md': '# readme\n',
      'data.json': '{}\n',
      'crlf.py': 'a = 1\r\nb = 2\r\n',
    });
    const { report, paths, seen } = await scan({ root, maxFileBytes: 1000 });
    assert.deepEqual(paths, ['crlf.py'], `texts: ${JSON.stringify([...seen])}`);
    assert.equal(seen.get('crlf.py'), 'a = 1\nb = 2\n', 'line ends normalized');
    assert.equal(report.files, 1);
    assert.equal(report.skipped.binary, 1);
    assert.equal(report.skipped.tooLarge, 1);
    assert.equal(report.skipped.notCode, 2);
  });

  it('scans a folder that has no .gitignore whatever its files are called', async () => {
    // names that are also readCode's reasons for skipping a file
    const root = tempDir();
    tree(root, { 'unreadable/a.ts': 'export const a = 1;\n', 'binary/b.ts': 'export const b = 2;\n' });
    const { paths } = await scan({ root });
    assert.deepEqual(paths, ['binary/b.ts', 'unreadable/a.ts']);
  });

  it("lets a folder's .gitignore re-include what a parent's pattern ignores, as git does", async () => {
    const root = tempDir();
    tree(root, {
      '.gitignore': '*.gen.ts\n',
      'sub/.gitignore': '!keep.gen.ts\n',
      'sub/keep.gen.ts': 'git tracks this\n',
      'sub/drop.gen.ts': 'still ignored\n',
      'top.gen.ts': 'ignored\n',
    });
    const { paths } = await scan({ root });
    assert.deepEqual(paths, ['sub/keep.gen.ts']);
  });

  it('gives relative paths with / separators and the prefix', async () => {
    const root = tempDir();
    tree(root, { 'a/b/c.ts': 'c\n', 'top.js': 't\n' });
    const { paths } = await scan({ root, prefix: 'ws/' });
    assert.deepEqual(paths, ['ws/a/b/c.ts', 'ws/top.js']);
  });

  it('never reads through a link out of the folder, never follows a linked folder, skips dangling links', async () => {
    const root = tempDir();
    const elsewhere = tempDir();
    tree(elsewhere, { 'secret.ts': 'const SECRET_OUTSIDE = "do not index";\n' });
    tree(root, { 'src/a.ts': 'export const a = 1;\n' });
    fs.symlinkSync(path.join(elsewhere, 'secret.ts'), path.join(root, 'link.ts'));
    fs.symlinkSync('..', path.join(root, 'src', 'up')); // a loop: src/up/src/up/…
    fs.symlinkSync(path.join(root, 'src'), path.join(root, 'srclink'));
    fs.symlinkSync(path.join(root, 'missing.ts'), path.join(root, 'dangling.ts'));
    fs.symlinkSync(path.join(root, 'src', 'a.ts'), path.join(root, 'alias.ts')); // inside: fine
    const { report, paths, seen } = await scan({ root });
    assert.deepEqual(paths, ['alias.ts', 'src/a.ts']);
    assert.ok(
      ![...seen.values()].some((t) => t.includes('SECRET_OUTSIDE')),
      'text from outside the folder reached the index',
    );
    assert.equal(report.skipped.outside, 4, 'link.ts, src/up, srclink, dangling.ts');
  });

  it(
    'never opens a FIFO: one named .gitignore or *.py neither hangs the scan nor pins a thread',
    { skip: process.platform === 'win32' && 'no mkfifo', timeout: 20_000 },
    async () => {
      const root = tempDir();
      tree(root, { 'src/a.py': 'a = 1\n', 'piped/b.py': 'b = 1\n' });
      execFileSync('mkfifo', [path.join(root, 'piped', '.gitignore'), path.join(root, 'pipe.py')]);
      const { report, paths } = await scan({ root });
      // the folder whose rules cannot be read is left out (its rules might have excluded b.py)
      assert.deepEqual(paths, ['src/a.py']);
      assert.equal(report.stopped, undefined);
      // read directly (as a refresh does): refused at once, not waiting for a writer
      for (let i = 0; i < 6; i++)
        assert.deepEqual(await readCode(path.join(root, 'pipe.py'), 1024), { skipped: 'unreadable' });
      // and the thread pool is free: a plain read still completes
      assert.equal(await fs.promises.readFile(path.join(root, 'src', 'a.py'), 'utf8'), 'a = 1\n');
    },
  );

  it('a .gitignore linked to a file outside the folder is not applied; a file linked out is never read', async () => {
    const root = tempDir();
    const elsewhere = tempDir();
    tree(elsewhere, { rules: '*.py\n', 'secret.py': 'SECRET_OUTSIDE = 1\n' });
    tree(root, { 'src/a.py': 'a = 1\n' });
    fs.symlinkSync(path.join(elsewhere, 'rules'), path.join(root, '.gitignore'));
    fs.symlinkSync(path.join(elsewhere, 'secret.py'), path.join(root, 'src', 'b.py'));
    const { paths } = await scan({ root });
    assert.deepEqual(paths, ['src/a.py'], 'the outside rules would have ignored src/a.py');
    // a refresh reads with the workspace folders: the link out is refused
    assert.deepEqual(await readCode(path.join(root, 'src', 'b.py'), 1024, [root]), { skipped: 'outside' });
    assert.ok('text' in (await readCode(path.join(root, 'src', 'a.py'), 1024, [root])));
  });

  it('a .gitignore that cannot be read (too big, binary) leaves its folder out; a 40,000-character pattern is skipped', async () => {
    const root = tempDir();
    tree(root, {
      'big/.gitignore': 'secret.py\n' + '#'.repeat(2 * 1024 * 1024),
      'big/secret.py': 'API_KEY = 1\n',
      'bin/.gitignore': Buffer.from([0, 1, 2, 0x73]),
      'bin/secret.py': 'API_KEY = 2\n',
      'long/.gitignore': 'a'.repeat(40_000) + '\nhidden.py\n',
      'long/hidden.py': 'h = 1\n',
      'long/kept.py': 'k = 1\n',
    });
    const { paths } = await scan({ root });
    assert.deepEqual(paths, ['long/kept.py']);
  });

  it('a files.exclude key like "!vendor" excludes nothing (it skipped the whole workspace)', async () => {
    const root = tempDir();
    tree(root, { 'src/a.ts': 'export const a = 1;\n', 'vendor/v.ts': 'export const v = 1;\n' });
    const { paths } = await scan({ root, exclude: ['!vendor', ''] });
    assert.deepEqual(paths, ['src/a.ts', 'vendor/v.ts']);
    // a setting may hold anything: non-strings and a glob too long to compile are left out
    const odd = await scan({
      root,
      exclude: [null, 5, {}, '**/'.repeat(30_000) + 'x', 'vendor/**'] as unknown as string[],
    });
    assert.deepEqual(odd.paths, ['src/a.ts']);
  });

  it('ends with stopped "full" when onFile refuses a file', async () => {
    const root = tempDir();
    tree(root, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}.ts`, `export const v${i} = ${i};\n`])));
    let calls = 0;
    const { report } = await scan({ root }, () => ++calls < 4);
    assert.equal(report.stopped, 'full');
    assert.equal(calls, 4, 'no file offered after the refusal');
    assert.equal(report.files, 3);
    assert.equal(report.skipped.refused, 1);
  });

  it('stops with "aborted" when its signal fires, before or during the scan', async () => {
    const root = tempDir();
    tree(root, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}.ts`, `v${i}\n`])));
    const early = new AbortController();
    early.abort();
    const before = await scan({ root, signal: early.signal });
    assert.equal(before.report.stopped, 'aborted');
    assert.equal(before.report.files, 0);
    const during = new AbortController();
    let calls = 0;
    const mid = await scan({ root, signal: during.signal }, () => {
      if (++calls === 3) during.abort();
      return true;
    });
    assert.equal(mid.report.stopped, 'aborted');
    assert.equal(calls, 3);
  });

  it('stops with "time" past its time budget', async () => {
    const root = tempDir();
    tree(root, { 'a.ts': 'a\n' });
    const { report, paths } = await scan({ root, timeBudgetMs: -1 });
    assert.equal(report.stopped, 'time');
    assert.deepEqual(paths, []);
  });

  it(
    'stops with "entries" on a workspace of 100,000 files, having read a bounded number',
    { timeout: 180_000 },
    async () => {
      const root = tempDir();
      for (let d = 0; d < 400; d++) {
        const dir = path.join(root, `pkg${String(d).padStart(3, '0')}`);
        fs.mkdirSync(dir);
        for (let f = 0; f < 250; f++) fs.writeFileSync(path.join(dir, `m${f}.ts`), 'x\n');
      }
      const maxEntries = 3000;
      const { report, seen } = await scan({ root, maxEntries, timeBudgetMs: 120_000 });
      assert.equal(report.stopped, 'entries');
      assert.ok(report.files <= maxEntries && report.files > 0, `files ${report.files}`);
      assert.equal(seen.size, report.files);
      assert.equal(report.entries, maxEntries + 1, 'the entry that went past the cap ended the scan');
      fs.rmSync(root, { recursive: true, force: true });
    },
  );
});

describe('reading one file', () => {
  it('tells text from binary, too large and unreadable', async () => {
    const dir = tempDir();
    tree(dir, {
      'ok.ts': 'é = 1\r\n',
      'nul.ts': Buffer.from('ab\0cd'),
      'latin1.ts': Buffer.from([0x61, 0xe9, 0x62]),
      'big.ts': 'y'.repeat(101),
    });
    assert.deepEqual(await readCode(path.join(dir, 'ok.ts'), 100), { text: 'é = 1\n' });
    assert.deepEqual(await readCode(path.join(dir, 'nul.ts'), 100), { skipped: 'binary' });
    assert.deepEqual(await readCode(path.join(dir, 'latin1.ts'), 100), { skipped: 'binary' }, 'not UTF-8');
    assert.deepEqual(await readCode(path.join(dir, 'big.ts'), 100), { skipped: 'tooLarge' });
    assert.deepEqual(await readCode(path.join(dir, 'none.ts'), 100), { skipped: 'unreadable' });
    assert.deepEqual(await readCode(dir, 100), { skipped: 'unreadable' }, 'a folder');
  });

  it('isInside accepts only paths strictly below the root', () => {
    const root = path.resolve('/work/ws');
    assert.equal(isInside(root, path.join(root, 'src', 'a.ts')), true);
    assert.equal(isInside(root, root), false);
    assert.equal(isInside(root, path.resolve('/work/ws2/a.ts')), false);
    assert.equal(isInside(root, path.resolve('/work/other.ts')), false);
    assert.equal(isInside(root, path.join(root, '..config', 'a.ts')), true, 'a folder named "..config" is inside');
  });
});
