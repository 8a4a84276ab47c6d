/** Where the model that ships inside Glassbox lives, found from wherever this code was built to. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The embedded model's folder name under models/. */
export const EMBEDDED_MODEL = 'glassbox-code';

/** Finds models/<EMBEDDED_MODEL> by walking up from `from` (dist/, out/src/..., or src/...). */
export function embeddedModelDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'models', EMBEDDED_MODEL);
    if (fs.existsSync(path.join(candidate, 'tokenizer.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(from, 'models', EMBEDDED_MODEL); // not found: the loader will say so
    dir = parent;
  }
}
