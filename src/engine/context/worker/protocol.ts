/**
 * The typed protocol between the extension host and the context worker, which holds the workspace's
 * snippet index off the host's event loop (scanning, re-reading changed files, answering queries).
 */
import type { ContextQueries } from '../cursorContext';
import type { ContextSnippet } from '../snippetIndex';
import { isRecord } from '../../../common/isRecord';
import type { ScanReport } from '../workspaceScan';

export interface ScanRoot {
  /** Absolute folder path. */
  root: string;
  /** Prefix of its files' index paths ('' for a single folder, 'name/' in a multi-root workspace). */
  prefix: string;
  /** `files.exclude` globs relative to the folder. */
  exclude: string[];
}

export type HostToContext =
  | { type: 'scan'; roots: ScanRoot[] }
  /** An open editor's text (it may be unsaved): replaces what the scan read. */
  | { type: 'setFile'; path: string; text: string }
  /** Files changed, created or closed: read again from disk (absolute path, index path). */
  | { type: 'refresh'; files: { file: string; path: string }[] }
  | { type: 'deleteFile'; path: string }
  | { type: 'query'; id: number; queries: ContextQueries };

export type ContextToHost =
  | { type: 'ready' }
  | { type: 'answer'; id: number; snippets: ContextSnippet[]; copySources: ContextSnippet[]; error?: string }
  | { type: 'scanned'; report: ScanReport; files: number; chars: number };

export function isHostToContext(x: unknown): x is HostToContext {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'scan':
      return (
        Array.isArray(x.roots) &&
        x.roots.every(
          (r) => isRecord(r) && typeof r.root === 'string' && typeof r.prefix === 'string' && Array.isArray(r.exclude),
        )
      );
    case 'setFile':
      return typeof x.path === 'string' && typeof x.text === 'string';
    case 'refresh':
      return (
        Array.isArray(x.files) &&
        x.files.every((f) => isRecord(f) && typeof f.file === 'string' && typeof f.path === 'string')
      );
    case 'deleteFile':
      return typeof x.path === 'string';
    case 'query':
      return (
        typeof x.id === 'number' && isRecord(x.queries) && isRecord(x.queries.snippets) && isRecord(x.queries.copies)
      );
    default:
      return false;
  }
}

export function isContextToHost(x: unknown): x is ContextToHost {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'answer':
      return typeof x.id === 'number' && Array.isArray(x.snippets) && Array.isArray(x.copySources);
    case 'scanned':
      return isRecord(x.report);
    default:
      return false;
  }
}
