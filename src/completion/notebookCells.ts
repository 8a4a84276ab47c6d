/**
 * The VS Code side of notebook context: finds the notebook a cell's document belongs to and turns
 * the cells above it into the text the prompt starts with (notebookContext.ts builds it).
 */
import * as vscode from 'vscode';
import { notebookScriptPath, notebookTextAbove, type NotebookCellText } from './notebookContext';
import { NOTEBOOK_CELL_SCHEME } from './selector';

export interface NotebookContext {
  /** The cells above, ending with the separator before the cursor's cell ('' when none). */
  textAbove: string;
  /** The notebook's path as its cells are written (`analysis.ipynb` → `analysis.py`). */
  path: string;
}

/** Context from the notebook that `document` is a cell of, or undefined for any other document. */
export function notebookContext(
  document: vscode.TextDocument,
  budgetTokens: number,
  pathOf: (uri: vscode.Uri) => string | undefined,
): NotebookContext | undefined {
  if (document.uri.scheme !== NOTEBOOK_CELL_SCHEME) return undefined;
  const notebook = vscode.workspace.notebookDocuments.find((nb) => nb.getCells().some((c) => c.document === document));
  if (!notebook) return undefined;
  const cells = notebook.getCells();
  const index = cells.findIndex((c) => c.document === document);
  const above: NotebookCellText[] = cells.slice(0, index).map((c) => ({
    kind: c.kind === vscode.NotebookCellKind.Markup ? 'markup' : 'code',
    languageId: c.document.languageId,
    text: c.document.getText(),
  }));
  const notebookPath = pathOf(notebook.uri) ?? notebook.uri.path.split('/').pop() ?? '';
  return {
    // at 3 characters a token, more than the context window keeps (it trims from the top)
    textAbove: notebookTextAbove(above, document.languageId, budgetTokens * 3),
    path: notebookScriptPath(notebookPath, document.languageId),
  };
}
