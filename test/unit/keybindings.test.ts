// Glassbox's keys (package.json) follow Copilot's where they exist, fire only in an editor, and take
// no key that VS Code or the three anchors (Copilot, Continue, Tabby, llama.vscode) already use for
// something else (issue 18, item 3). The lists below are those tools' documented defaults.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

interface Keybinding {
  command: string;
  key: string;
  mac?: string;
  when?: string;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { keybindings: Keybinding[] };
};
const keys = pkg.contributes.keybindings;

/** Keys other tools bind, and to what (the same action is not a clash). */
const TAKEN: Record<string, string> = {
  // VS Code (Linux/Windows defaults around the editor)
  'ctrl+right': 'editor.action.inlineSuggest.acceptNextWord',
  'alt+]': 'editor.action.inlineSuggest.showNext',
  'alt+[': 'editor.action.inlineSuggest.showPrevious',
  'alt+\\': 'editor.action.inlineSuggest.trigger',
  'ctrl+alt+right': 'workbench.action.moveEditorToNextGroup',
  'ctrl+alt+left': 'workbench.action.moveEditorToPreviousGroup',
  'ctrl+alt+down': 'editor.action.insertCursorBelow',
  'ctrl+alt+up': 'editor.action.insertCursorAbove',
  'alt+shift+right': 'editor.action.smartSelect.expand',
  'alt+shift+left': 'editor.action.smartSelect.shrink',
  'ctrl+shift+right': 'cursorWordEndRightSelect',
  'ctrl+enter': 'editor.action.insertLineAfter',
  'ctrl+i': 'inlineChat.start',
  'ctrl+l': 'expandLineSelection',
  // Continue
  'ctrl+alt+space': 'continue: trigger completion',
  'ctrl+shift+l': 'continue: add to chat',
  // Copilot's own (besides VS Code's inline-suggestion keys above)
  'alt+enter': 'github.copilot: open completions',
};

describe('keybindings', () => {
  it("trigger on Alt+\\ (Copilot's and VS Code's key for it) and accept-next-line has a key", () => {
    assert.equal(keys.find((k) => k.command === 'glassbox.triggerCompletion')?.key, 'alt+\\');
    assert.ok(keys.some((k) => k.command === 'editor.action.inlineSuggest.acceptNextLine'));
  });

  it('no key fires outside an editor', () => {
    for (const k of keys) assert.match(k.when ?? '', /editorTextFocus/, `${k.command} (${k.key}) has when: ${k.when}`);
  });

  it('no key another tool uses for something else', () => {
    const triggers = new Set(['glassbox.triggerCompletion', 'editor.action.inlineSuggest.trigger']);
    for (const k of keys) {
      const taken = TAKEN[k.key];
      if (!taken) continue;
      const same = taken === k.command || (triggers.has(k.command) && triggers.has(taken));
      assert.ok(same, `${k.key} for ${k.command} clashes with ${taken}`);
    }
  });
});
