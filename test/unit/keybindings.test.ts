// Glassbox's keys (package.json) follow Copilot's where they exist, fire only in an editor, and take
// no key that VS Code or the three anchors (Copilot, Continue, Tabby, llama.vscode) already use for
// something else (issue 18, item 3). The lists below are those tools' documented defaults. Where
// Copilot has no key (Explain, Toggle), Glassbox uses a Ctrl+K chord, never Ctrl+Alt+<character>:
// on Windows that is AltGr, which types €, ], @ ... on many layouts (issue 31, item 3).
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
  // Ctrl+K chords VS Code 1.99 binds (its workbench's KeyChord(Ctrl+K, Ctrl+<key>) registrations);
  // Ctrl+K Ctrl+E only inside the Keyboard Shortcuts editor, and Ctrl+K Ctrl+G not at all
  'ctrl+k ctrl+c': 'editor.action.addCommentLine',
  'ctrl+k ctrl+u': 'editor.action.removeCommentLine',
  'ctrl+k ctrl+f': 'editor.action.formatSelection',
  'ctrl+k ctrl+d': 'editor.action.moveSelectionToNextFindMatch',
  'ctrl+k ctrl+i': 'editor.action.showHover',
  'ctrl+k ctrl+k': 'editor.action.selectFromAnchorToCursor',
  'ctrl+k ctrl+x': 'editor.action.trimTrailingWhitespace',
  'ctrl+k ctrl+s': 'workbench.action.openGlobalKeybindings',
  'ctrl+k ctrl+t': 'workbench.action.selectTheme',
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

  it('no Ctrl+Alt+<character> (AltGr on Windows) and a Cmd key on macOS', () => {
    for (const k of keys) {
      for (const part of k.key.split(' ')) {
        const mods = part.split('+');
        const key = mods.pop() ?? '';
        const altGr = mods.includes('ctrl') && mods.includes('alt') && key.length === 1;
        assert.ok(!altGr, `${k.command}: ${k.key} is AltGr+${key} on Windows, which types a character there`);
      }
      if (/\bctrl\+/.test(k.key)) assert.match(k.mac ?? '', /cmd\+/, `${k.command} has a Cmd key on macOS`);
    }
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
