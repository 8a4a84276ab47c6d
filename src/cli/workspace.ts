/**
 * `glassbox complete` with the extension's pipeline: the window around the cursor, the workspace
 * (the file's git root unless --workspace names another folder) scanned into a snippet index,
 * prompt snippets and copy sources, then the engine with its guards and confidence gate.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_MIN_CONFIDENCE,
  type CompletionRequest,
  type CompletionResult,
  answerQueries,
  stringSource,
  completeAtCursor,
  SnippetIndex,
  isInside,
  scanWorkspace,
  type ScanReport,
  type Engine,
  GlassboxError,
} from '../engine';
import { offsetOf } from './textFile';

export interface WorkspaceContextInfo {
  workspace: string | null;
  path: string;
  scan?: Pick<ScanReport, 'files' | 'entries' | 'stopped'> & { ms: number };
  snippets: { path: string; startLine: number; endLine: number; score: number }[];
  copySources: { path: string; startLine: number }[];
}

/** The prompt budget, as the extension's default glassbox.contextTokens. */
const CONTEXT_TOKENS = 1024;

interface CompleteOptions {
  /** Folder to use as the workspace; undefined: the file's git root or folder; null: none. */
  workspace: string | null | undefined;
  maxNewTokens: number;
  minConfidence?: number;
}

export async function completeInWorkspace(
  engine: Engine,
  file: string,
  text: string,
  line: number,
  column: number,
  o: CompleteOptions,
): Promise<CompletionResult & { context: WorkspaceContextInfo; request: CompletionRequest }> {
  text = text.replace(/\r\n?/g, '\n');
  const at = offsetOf(text, line, column);
  // `--file -` is the document on stdin: the workspace is the current folder's repository then
  const stdin = file === '-';
  const root =
    o.workspace === null
      ? null
      : path.resolve(o.workspace ?? gitRoot(stdin ? process.cwd() : path.dirname(path.resolve(file))));
  if (root && !isFolder(root))
    throw new GlassboxError(
      'WORKSPACE_NOT_FOUND',
      `The workspace folder ${root} does not exist or is not a folder.`,
      'Give an existing folder with --workspace, or --no-workspace for no workspace context.',
    );
  const abs = stdin ? null : fs.realpathSync(path.resolve(file));
  const rel =
    abs && root && isInside(fs.realpathSync(root), abs)
      ? path.relative(fs.realpathSync(root), abs).split(path.sep).join('/')
      : stdin
        ? 'stdin'
        : path.basename(file);
  const index = new SnippetIndex();
  let scan: ScanReport | undefined;
  if (root) scan = await scanWorkspace({ root }, (p, t) => index.setFile(p, t));
  index.setFile(rel, text); // the document as passed, even if the scan skipped it or read it otherwise
  let request!: CompletionRequest; // `glassbox depend` scores the completion again from it
  const { result: r, found } = await completeAtCursor(
    (req) => engine.complete((request = req)),
    { doc: stringSource(text), line: line - 1, offset: at, path: rel },
    { query: (q) => answerQueries(index, q) },
    {
      budgetTokens: CONTEXT_TOKENS,
      maxNewTokens: o.maxNewTokens,
      minConfidence: o.minConfidence ?? DEFAULT_MIN_CONFIDENCE,
    },
  );
  const context = found ?? { snippets: [], copySources: [] };
  return {
    ...r,
    request,
    context: {
      workspace: root,
      path: rel,
      scan: scan && { files: scan.files, entries: scan.entries, stopped: scan.stopped, ms: Math.round(scan.ms) },
      snippets: context.snippets.map((s) => ({
        path: s.path,
        startLine: s.startLine,
        endLine: s.endLine,
        score: Math.round(s.score * 1000) / 1000,
      })),
      copySources: context.copySources.map((s) => ({ path: s.path, startLine: s.startLine })),
    },
  };
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest folder at or above `dir` that holds a .git, else `dir`. */
function gitRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return dir;
  }
}
