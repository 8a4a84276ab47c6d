/**
 * File paths that come from a hub's listing are untrusted: a hostile or broken listing could name
 * `onnx/model.onnx_data\..\..\evil.bat`, `/etc/passwd` or `C:\x`, and a download that joins such a
 * path onto its staging folder would write outside it (on Windows `\` separates folders too).
 * Only plain relative paths with `/` separators and ordinary segments are accepted.
 */
import * as path from 'node:path';

/** Why a listed path is unsafe, or undefined when it is a plain relative path. */
export function unsafeRepoPath(p: string): string | undefined {
  if (p === '') return 'it is empty';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is absolute';
  if (/^[A-Za-z]:/.test(p)) return 'it starts with a drive letter';
  if (p.includes(':')) return 'it contains a colon';
  if ([...p].some((ch) => ch.charCodeAt(0) < 0x20)) return 'it contains a control character';
  if (p.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'))
    return 'it has an empty, "." or ".." segment';
  return undefined;
}

/** `root` joined with a relative path, checked to stay inside `root` (under either path flavour). */
export function insideFolder(root: string, relative: string, flavour: path.PlatformPath = path): string {
  const target = flavour.resolve(root, relative);
  const rel = flavour.relative(flavour.resolve(root), target);
  if (rel === '' || rel.split(flavour.sep)[0] === '..' || flavour.isAbsolute(rel))
    throw new Error(`${relative} would be written outside ${root}`);
  return target;
}
