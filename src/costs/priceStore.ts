/**
 * The prices in effect: the bundled table, replaced by the last "Update Prices" download when
 * there is one, with the user's override file applied on top. A layer that cannot be read is
 * skipped with its error (the layers under it stay in effect) and shown in the panel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PriceLayer } from '../../webview/costs/protocol';
import { fetchLiteLlmPrices, type FetchOptions, type UpdateResult } from './litellm';
import { applyOverride, parsePriceFile, validatePriceFile, type PriceFile } from './priceFile';
import bundledJson from './prices.json';

/** Written by "Update Prices" into the extension's global storage. */
export const UPDATED_PRICES_FILE = 'prices-litellm.json';

export interface PriceSet {
  prices: PriceFile;
  layers: PriceLayer[];
  /** Layers that failed, as messages for a notification. */
  errors: string[];
}

/** The bundled table (validated once; a broken bundled file is a build error, caught by the tests). */
export function bundledPrices(): PriceFile {
  return validatePriceFile(bundledJson, 'bundled prices.json');
}

/** Largest price file read, bytes (LiteLLM's whole table is about 1 MB). */
export const MAX_PRICE_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A price file's text: only a regular file, opened without waiting (a FIFO never blocks the host)
 * and no larger than MAX_PRICE_FILE_BYTES (`/dev/zero` aborted the process with bad_alloc).
 */
function readPriceText(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file (a price file must be a JSON file)');
    if (stat.size > MAX_PRICE_FILE_BYTES)
      throw new Error(
        `${(stat.size / 2 ** 20).toFixed(0)} MB, over the ${MAX_PRICE_FILE_BYTES / 2 ** 20} MB a price file may have`,
      );
    return fs.readFileSync(fd, 'utf8').replace(/^\uFEFF/, ''); // an editor's byte-order mark is not JSON's concern
  } finally {
    fs.closeSync(fd);
  }
}

export function loadPriceSet(opts: { updatedFile?: string; overrideFile?: string }): PriceSet {
  let prices = bundledPrices();
  const layers: PriceLayer[] = [
    { name: 'Bundled table', status: 'ok', detail: `${prices.version}: ${prices.models.length} models` },
  ];
  const errors: string[] = [];
  const layer = (name: string, file: string | undefined, load: (text: string, file: string) => PriceFile) => {
    if (!file) {
      layers.push({ name, status: 'off', detail: 'none' });
      return;
    }
    let text: string;
    try {
      text = readPriceText(file);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (missing && name === 'Downloaded prices')
        layers.push({ name, status: 'off', detail: 'not downloaded ("Glassbox: Update Prices")' });
      else {
        const message = `${file}: ${missing ? 'file not found' : (err as Error).message}`;
        layers.push({ name, status: 'error', detail: `${message}; not applied` });
        errors.push(message);
      }
      return;
    }
    try {
      prices = load(text, file);
      layers.push({ name, status: 'ok', detail: `${file} (${prices.version})` });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      layers.push({ name, status: 'error', detail: `${message}; not applied` });
      errors.push(message);
    }
  };
  // A download holds the models of the table it was mapped onto; models bundled since keep their bundled prices.
  layer('Downloaded prices', opts.updatedFile, (text, file) => {
    const downloaded = parsePriceFile(text, file);
    const byId = new Map([...prices.models, ...downloaded.models].map((m) => [m.id, m]));
    return { ...downloaded, models: [...byId.values()] };
  });
  const base = prices;
  layer('Your override file', opts.overrideFile, (text, file) => applyOverride(base, text, file));
  return { prices, layers, errors };
}

/**
 * Downloads LiteLLM's prices, maps them onto the bundled table and writes them to `file`
 * (atomically). On any failure it throws and leaves `file` as it was, so the prices in effect stay.
 */
export async function updatePricesFile(url: string, file: string, opts: FetchOptions = {}): Promise<UpdateResult> {
  const result = await fetchLiteLlmPrices(url, bundledPrices(), opts);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, JSON.stringify(result.prices, null, 1) + '\n', 'utf8');
  await fs.promises.rename(tmp, file);
  return result;
}
