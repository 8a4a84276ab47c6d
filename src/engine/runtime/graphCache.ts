/**
 * A per-machine cache of optimized decoder graphs. Creating an ONNX Runtime session spends most of
 * its time in graph optimization (constant folding, fusions), and Glassbox first rewrites the graph
 * for last-position logits. Both give the same result every time for the same file, runtime and
 * CPU, so the first load asks ONNX Runtime to save the graph it ends up with, and later loads
 * create the session from that file with optimizations off. bench/README.md has the before/after.
 *
 * One entry per (model file, optimization level): `<id>.onnx` and `<id>.json`. The JSON is written
 * last and names what the graph was made from (path, size, mtime, ONNX Runtime version, CPU); an
 * entry that does not match is rebuilt in place, so the folder never holds more than one graph per
 * model. Every failure here falls back to the normal load: the cache can only make loading faster.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ortVersion } from './ort';

/**
 * Bumped when the rewrite before optimization changes, so older cached graphs are replaced
 * (2: the logits summary outputs; 3: the logits-to-keep input; 4: the appended KV cache).
 */
const FORMAT = 4;

/** What a cached graph was made from; any difference means the entry is stale. */
interface GraphCacheKey {
  format: number;
  source: string;
  bytes: number;
  mtimeMs: number;
  optimization: string;
  ort: string;
  cpu: string;
}

/** The sidecar: the key plus what the loader needs to know about the cached graph. */
interface GraphCacheMeta {
  key: GraphCacheKey;
  graphBytes: number;
  /** Whether the cached graph's logits are the last position's only. */
  lastPositionOnly: boolean;
}

export type GraphCacheState = 'off' | 'hit' | 'written' | 'failed';

export class GraphCacheEntry {
  readonly graphPath: string;
  private readonly metaPath: string;

  private constructor(
    readonly dir: string,
    readonly key: GraphCacheKey,
  ) {
    const id = createHash('sha256').update(`${key.source}\0${key.optimization}`).digest('hex').slice(0, 16);
    this.graphPath = path.join(dir, `${id}.onnx`);
    this.metaPath = path.join(dir, `${id}.json`);
  }

  /** The entry for `onnxPath` (whose stat the loader already has) in `dir`. */
  static for(dir: string, onnxPath: string, st: fs.Stats, optimization: string): GraphCacheEntry {
    const key: GraphCacheKey = {
      format: FORMAT,
      source: path.resolve(onnxPath),
      bytes: st.size,
      mtimeMs: st.mtimeMs,
      optimization,
      ort: ortVersion(),
      cpu: `${os.platform()}-${os.arch()} ${os.cpus()[0]?.model ?? 'unknown'}`,
    };
    return new GraphCacheEntry(dir, key);
  }

  /** The cached graph's facts when the entry is complete and matches the key, else undefined. */
  lookup(): { lastPositionOnly: boolean } | undefined {
    try {
      const meta = JSON.parse(fs.readFileSync(this.metaPath, 'utf8')) as GraphCacheMeta;
      if (JSON.stringify(meta.key) !== JSON.stringify(this.key)) return undefined;
      if (fs.statSync(this.graphPath).size !== meta.graphBytes) return undefined;
      return { lastPositionOnly: meta.lastPositionOnly === true };
    } catch {
      return undefined;
    }
  }

  /** A unique scratch path for ONNX Runtime to save the optimized graph to (two windows may load at once). */
  scratchPath(): string | undefined {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      return `${this.graphPath}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    } catch {
      return undefined;
    }
  }

  /** Moves a saved graph into place, then writes the sidecar that makes it valid. False on failure. */
  commit(scratch: string, lastPositionOnly: boolean): boolean {
    try {
      fs.renameSync(scratch, this.graphPath);
      const meta: GraphCacheMeta = { key: this.key, graphBytes: fs.statSync(this.graphPath).size, lastPositionOnly };
      const tmp = `${this.metaPath}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(meta, null, 2));
      fs.renameSync(tmp, this.metaPath);
      return true;
    } catch {
      this.discard(scratch);
      return false;
    }
  }

  /** Removes the entry (a cached graph ONNX Runtime refused), or a scratch file. */
  discard(scratch?: string): void {
    for (const f of scratch ? [scratch] : [this.metaPath, this.graphPath]) {
      try {
        fs.rmSync(f, { force: true });
      } catch {
        // a read-only cache folder: the entry stays stale and is never used
      }
    }
  }
}
