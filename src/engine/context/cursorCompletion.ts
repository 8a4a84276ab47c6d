/**
 * The one way a completion at a cursor is asked for, shared by the extension, the CLI and
 * `npm run eval`: the document as the editor holds it (the rest of the line not typed yet), the
 * cursor, and the workspace. Everything the request sees comes from that document and the
 * workspace's other files: the FIM window, the snippet and copy-source queries (which never reach
 * the cursor's own line), and the request built from their answers. The eval may switch parts of
 * the pipeline off (its stages); nothing else differs between the three callers.
 */
import type { CompletionRequest } from '../completion/completion';
import type { ContextSnippet } from './snippetIndex';
import { cursorQueries, type ContextQueries, type TextSource } from './cursorContext';

/** What the workspace answers for a cursor (the context worker, or an index in the same thread). */
export interface CursorWorkspace {
  query(queries: ContextQueries): Promise<ContextAnswer | null> | ContextAnswer | null;
}

export interface ContextAnswer {
  snippets: ContextSnippet[];
  copySources: ContextSnippet[];
}

export interface Cursor {
  doc: TextSource;
  /** 0-based line of the cursor. */
  line: number;
  /** Offset of the cursor in `doc`. */
  offset: number;
  /** The document's workspace-relative path (its name outside a workspace). */
  path: string;
}

/** The request's settings: the prompt budget and what the caller sets (tokens, gate, temperature, stage switches). */
export type CursorOptions = Omit<
  CompletionRequest,
  'prefix' | 'suffix' | 'path' | 'startLine' | 'snippets' | 'copySources' | 'budgetTokens'
> & {
  budgetTokens: number;
  /** The path before the file's text in the prompt (default true; the eval's "model alone" stage has none). */
  showPath?: boolean;
};

/** The cursor's window and queries, before the workspace is asked (the editor's cache looks up the window first). */
export interface CursorPlan {
  cursor: Cursor;
  window: ReturnType<typeof cursorQueries>['window'];
  queries: ContextQueries;
}

export function planAtCursor(cursor: Cursor, budgetTokens: number): CursorPlan {
  const { window, queries } = cursorQueries(cursor.doc, cursor.line, cursor.offset, cursor.path, budgetTokens);
  return { cursor, window, queries };
}

/** The engine request for a plan and the workspace's answer (null: no workspace context). */
export function requestAt(plan: CursorPlan, found: ContextAnswer | null, o: CursorOptions): CompletionRequest {
  const { showPath = true, ...rest } = o;
  return {
    ...rest,
    prefix: plan.window.prefix,
    suffix: plan.window.suffix,
    path: showPath ? plan.cursor.path : undefined,
    startLine: plan.window.startLine,
    snippets: found?.snippets,
    copySources: found?.copySources,
  };
}

/** A completion at a cursor: plan, ask the workspace, run the request. */
export async function completeAtCursor<R>(
  run: (req: CompletionRequest) => Promise<R>,
  cursor: Cursor,
  workspace: CursorWorkspace | null,
  o: CursorOptions,
): Promise<{ result: R; plan: CursorPlan; found: ContextAnswer | null }> {
  const plan = planAtCursor(cursor, o.budgetTokens);
  const found = workspace ? await workspace.query(plan.queries) : null;
  return { result: await run(requestAt(plan, found, o)), plan, found };
}
