/**
 * Which documents inline completions are offered in: the ones a user writes. A `{ pattern: '**' }`
 * selector also matches the Output panel (`output`), the old side of a diff (`git`), the commit
 * message box (`vscode-scm`), comment threads (`comment`) and notebook outputs, where ghost text
 * is noise or worse. Plain Node (the type import is erased), so a unit test reads the list.
 */
import type * as vscode from 'vscode';

/** The scheme of a notebook cell's document (its path is the notebook's, its fragment the cell's). */
export const NOTEBOOK_CELL_SCHEME = 'vscode-notebook-cell';

export const COMPLETION_SCHEMES = [
  'file', // files on disk (also in a remote window, where the extension runs beside them)
  'untitled', // new files not saved yet
  NOTEBOOK_CELL_SCHEME, // a notebook's cells: each cell is a document of this scheme
  'vscode-interactive-input', // the Interactive Window's input box (Jupyter), where code is typed
  'vscode-remote', // a remote machine's files seen from an extension host on this side
] as const;

/*
 * Left out on purpose: `vscode-userdata` (settings.json, keybindings.json: a code model invents
 * setting names that silently do nothing), `output`, `git`, `vscode-scm`, `comment`,
 * `vscode-notebook-cell-output`, `vscode-vfs` (virtual workspaces, not supported).
 */

/** The inline completion provider's document selector. */
export function completionSelector(): vscode.DocumentFilter[] {
  return COMPLETION_SCHEMES.map((scheme) => ({ scheme }));
}
