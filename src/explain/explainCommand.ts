/**
 * "Glassbox: Explain": the selection, or else the function around the cursor (from the
 * language's document symbols, falling back to the indentation block).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { BackendRouter } from '../backends/router';
import { enclosingBlock } from './enclosingBlock';
import { ExplainPanel, type ExplainJob } from './explainPanel';

const BLOCK_KINDS = new Set([
  vscode.SymbolKind.Function,
  vscode.SymbolKind.Method,
  vscode.SymbolKind.Constructor,
  vscode.SymbolKind.Class,
  vscode.SymbolKind.Interface,
  vscode.SymbolKind.Enum,
]);

export async function explainCommand(extensionUri: vscode.Uri, host: BackendRouter, config: Config): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Glassbox: open a file and select code to explain.'));
    return;
  }
  const range = editor.selection.isEmpty
    ? await enclosingRange(editor.document, editor.selection.active)
    : editor.selection;
  const code = range ? editor.document.getText(range) : '';
  if (!range || code.trim() === '') {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Glassbox: nothing to explain here. Select some code, or put the cursor inside a function.'),
    );
    return;
  }
  const job: ExplainJob = {
    code,
    language: editor.document.languageId,
    source: `${path.basename(editor.document.fileName)}:${range.start.line + 1}–${range.end.line + 1}`,
    context: editor.document.getText(
      new vscode.Range(new vscode.Position(Math.max(0, range.start.line - 80), 0), range.start),
    ),
  };
  const panel = ExplainPanel.createOrShow(extensionUri, host);
  await panel.explain(job, {
    maxNewTokens: config.explainMaxTokens,
    template: config.explainTemplate,
    temperature: config.temperature,
  });
}

async function enclosingRange(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Range | undefined> {
  const symbols = await Promise.resolve(
    vscode.commands.executeCommand<vscode.DocumentSymbol[] | undefined>(
      'vscode.executeDocumentSymbolProvider',
      doc.uri,
    ),
  ).catch(() => undefined);
  const innermost = symbols ? innermostBlock(symbols, pos) : undefined;
  if (innermost) return innermost.range;
  const lines = Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text);
  const block = enclosingBlock(lines, pos.line);
  return block ? new vscode.Range(block.start, 0, block.end, lines[block.end].length) : undefined;
}

function innermostBlock(
  symbols: readonly vscode.DocumentSymbol[],
  pos: vscode.Position,
): vscode.DocumentSymbol | undefined {
  for (const s of symbols) {
    if (!s.range.contains(pos)) continue;
    const inner = innermostBlock(s.children ?? [], pos);
    if (inner) return inner;
    if (BLOCK_KINDS.has(s.kind)) return s;
  }
  return undefined;
}
