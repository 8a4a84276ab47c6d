/**
 * Checks a catalogue entry against the hub's real file listing: which files exist, their sizes
 * and hashes, and whether they still match what the catalogue expects. The download request is
 * built from the hub's listing, never from the catalogue's numbers.
 */
import { SIZE_TOLERANCE, type CatalogueEntry, type CatalogueVariant } from './catalogue';
import type { DownloadRequest } from './download';
import type { HubFile } from './hubClient';
import { estimateMemory, isExternalDataOf, kvBytesForFile, type MemoryEstimate } from './memory';

export interface ResolvedVariant {
  entry: CatalogueEntry;
  variant: CatalogueVariant;
  /** Files to fetch, with the hub's sizes and hashes (repository paths). */
  files: HubFile[];
  /** Decoder plus external data on the hub, bytes. */
  weightBytes: number;
  totalBytes: number;
  /** Required files the hub does not have. */
  missing: string[];
  /** Files whose hub size is off from the catalogue's by more than SIZE_TOLERANCE. */
  changed: { path: string; expected: number; actual: number }[];
  /** Other decoders the repository offers (to mention when the expected one is missing). */
  otherOnnx: string[];
}

const join = (sub: string | undefined, p: string) => (sub ? `${sub}/${p}` : p);

/** Matches one variant against the listing. */
export function resolveVariant(
  entry: CatalogueEntry,
  variant: CatalogueVariant,
  listing: readonly HubFile[],
): ResolvedVariant {
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const files: HubFile[] = [];
  const missing: string[] = [];
  for (const spec of entry.files) {
    const optional = spec.endsWith('?');
    const p = join(entry.subfolder, optional ? spec.slice(0, -1) : spec);
    const hit = byPath.get(p);
    if (hit) files.push(hit);
    else if (!optional) missing.push(p);
  }
  const onnxPath = join(entry.subfolder, variant.onnx);
  const onnx = byPath.get(onnxPath);
  let weightBytes = 0;
  if (onnx) {
    const data = listing.filter((f) => isExternalDataOf(onnxPath, f.path));
    files.push(onnx, ...data);
    weightBytes = onnx.size + data.reduce((s, f) => s + f.size, 0);
  } else {
    missing.push(onnxPath);
  }
  const changed =
    onnx && Math.abs(weightBytes - variant.approxBytes) > SIZE_TOLERANCE * variant.approxBytes
      ? [{ path: onnxPath, expected: variant.approxBytes, actual: weightBytes }]
      : [];
  const dir = entry.subfolder ? `${entry.subfolder}/` : '';
  const otherOnnx = listing
    .filter((f) => f.path.endsWith('.onnx') && f.path !== onnxPath && f.path.startsWith(dir))
    .map((f) => f.path);
  return {
    entry,
    variant,
    files,
    weightBytes,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
    missing,
    changed,
    otherOnnx,
  };
}

/** Memory to run a variant at `contextTokens`; from the hub's sizes when known, else the catalogue's. */
export function variantMemory(
  entry: CatalogueEntry,
  variant: CatalogueVariant,
  contextTokens: number,
  weightBytes?: number,
): MemoryEstimate {
  const t = Math.min(contextTokens, entry.arch.contextLength);
  return estimateMemory(weightBytes ?? variant.approxBytes, entry.arch, t, kvBytesForFile(variant.onnx));
}

/** The download request for a resolved variant (files relative to the subfolder once installed). */
export function downloadRequest(r: ResolvedVariant, commit: string): DownloadRequest {
  return {
    repo: r.entry.repo,
    revision: r.entry.revision,
    commit,
    variant: r.variant.id,
    title: r.entry.title,
    onnxFile: r.variant.onnx,
    subfolder: r.entry.subfolder,
    files: r.files,
  };
}
