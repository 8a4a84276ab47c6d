// @vscode/webview-ui-toolkit, archived upstream, is imported by one file only (issue 31, item 10):
// webview/shared/toolkit.ts is the seam a replacement goes through (CONTRIBUTING.md, "The toolkit seam").
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const SEAM = 'webview/shared/toolkit.ts';

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|js|mjs)$/.test(e.name) ? [rel] : [];
  });
}

describe('toolkit seam', () => {
  it(`only ${SEAM} imports @vscode/webview-ui-toolkit`, () => {
    const importers = [...sources('webview'), ...sources('src')].filter((f) =>
      /from\s+['"]@vscode\/webview-ui-toolkit|require\(['"]@vscode\/webview-ui-toolkit/.test(
        fs.readFileSync(path.join(ROOT, f), 'utf8'),
      ),
    );
    assert.deepEqual(importers, [SEAM]);
  });
});
