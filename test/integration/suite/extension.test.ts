import assert from 'node:assert/strict';
import { describe, it, before } from 'mocha';
import * as vscode from 'vscode';
import type { GlassboxApi } from '../../../src/extension';

const EXTENSION_ID = 'glassbox.glassbox';

describe('Glassbox in VS Code', () => {
  let api: GlassboxApi;
  before(async () => {
    const ext = vscode.extensions.getExtension<GlassboxApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
  });

  it('registers every command the manifest declares', async () => {
    const all = await vscode.commands.getCommands(true);
    const declared = (
      vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string }[]
    ).map((c) => c.command);
    for (const c of [
      'explainSelection',
      'toggleCompletions',
      'triggerCompletion',
      'selectModel',
      'showArchitecture',
      'showAttention',
      'showCosts',
    ]) {
      assert.ok(declared.includes(`glassbox.${c}`), `${c} is declared`);
    }
    for (const c of declared) assert.ok(all.includes(c), `${c} is registered`);
  });

  it('does not load the model at activation', () => {
    assert.equal(api.engine.state.kind, 'idle');
  });

  it('offers an inline completion in a Python file', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'def add(a, b):\n    return ' });
    const editor = await vscode.window.showTextDocument(doc);
    const pos = doc.lineAt(1).range.end;
    editor.selection = new vscode.Selection(pos, pos);
    const items = await api.provider.provideInlineCompletionItems(
      doc,
      pos,
      { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
      new vscode.CancellationTokenSource().token,
    );
    assert.ok(items && items.length === 1 && typeof items[0].insertText === 'string' && items[0].insertText.length > 0);
    assert.equal(api.engine.state.kind, 'ready');
  });

  it('offers nothing in a disabled language', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'hello ' });
    const items = await api.provider.provideInlineCompletionItems(
      doc,
      doc.lineAt(0).range.end,
      { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
      new vscode.CancellationTokenSource().token,
    );
    assert.equal(items, undefined);
  });

  it('toggles completions off and on through the setting', async () => {
    const before = vscode.workspace.getConfiguration('glassbox').get<boolean>('enable');
    await vscode.commands.executeCommand('glassbox.toggleCompletions');
    assert.equal(vscode.workspace.getConfiguration('glassbox').get<boolean>('enable'), !before);
    await vscode.commands.executeCommand('glassbox.toggleCompletions');
    assert.equal(vscode.workspace.getConfiguration('glassbox').get<boolean>('enable'), before);
  });

  it('explains a selection in a panel', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'python',
      content: 'def add(a, b):\n    return a + b\n',
    });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 1, 16);
    let served = 0;
    const sub = api.engine.onDidServe((r) => r.kind === 'explain' && served++);
    await vscode.commands.executeCommand('glassbox.explainSelection');
    sub.dispose();
    assert.equal(served, 1);
  });
});
