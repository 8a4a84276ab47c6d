/**
 * The context worker: the workspace's snippet index lives here, so scanning thousands of files and
 * ranking chunks never blocks the extension host. Open editors' texts arrive from the host and
 * take precedence over what the scan read from disk.
 */
import { parentPort } from 'node:worker_threads';
import { answerQueries } from '../cursorContext';
import { SnippetIndex } from '../snippetIndex';
import { readCode, scanWorkspace } from '../workspaceScan';
import { isHostToContext, type ContextToHost, type HostToContext, type ScanRoot } from './protocol';

const port = parentPort;
if (!port) throw new Error('contextWorker.js must run in a worker thread');

const index = new SnippetIndex();
/** Paths whose text came from an open editor: a scan does not overwrite them (a refresh does). */
const fromEditor = new Set<string>();
let scan: AbortController | null = null;
/** The workspace folders of the last scan: a refreshed file must lie inside one (links followed). */
let folders: string[] = [];
const MAX_FILE_BYTES = 512 * 1024;

function post(msg: ContextToHost): void {
  port!.postMessage(msg);
}

async function runScan(roots: ScanRoot[]): Promise<void> {
  scan?.abort();
  const controller = new AbortController();
  scan = controller;
  for (const r of roots) {
    const report = await scanWorkspace(
      { root: r.root, prefix: r.prefix, exclude: r.exclude, signal: controller.signal },
      (path, text) => fromEditor.has(path) || index.setFile(path, text),
    ).catch(() => null);
    if (controller.signal.aborted) return;
    if (report) post({ type: 'scanned', report, files: index.fileCount, chars: index.charCount });
  }
}

function handle(msg: HostToContext): void {
  switch (msg.type) {
    case 'scan':
      folders = msg.roots.map((r) => r.root);
      void runScan(msg.roots);
      return;
    case 'setFile':
      fromEditor.add(msg.path);
      index.setFile(msg.path, msg.text);
      return;
    case 'refresh':
      for (const f of msg.files) {
        fromEditor.delete(f.path); // saved, closed, or changed on disk: the file's text is the truth again
        void readCode(f.file, MAX_FILE_BYTES, folders).then((r) =>
          'text' in r ? index.setFile(f.path, r.text) : index.deleteFile(f.path),
        );
      }
      return;
    case 'deleteFile':
      fromEditor.delete(msg.path);
      index.deleteFile(msg.path);
      return;
    case 'query':
      try {
        post({ type: 'answer', id: msg.id, ...answerQueries(index, msg.queries) });
      } catch (err) {
        post({
          type: 'answer',
          id: msg.id,
          snippets: [],
          copySources: [],
          error: err instanceof Error ? err.message : String(err),
        });
      }
      return;
  }
}

port.on('message', (raw: unknown) => {
  if (isHostToContext(raw)) handle(raw);
});
post({ type: 'ready' });
