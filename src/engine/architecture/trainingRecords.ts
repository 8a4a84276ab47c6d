/**
 * The training and scaling records a model folder may carry beside its weights (Glassbox's own
 * model does; downloaded models usually don't):
 *   training_log.json   loss curves: records like {"step", "train_loss", "val_loss", …}, as a list,
 *                       under a key (`log`, `steps`, `history`, …), per phase ({"pretrain": [...],
 *                       "lora": [...]}), or as columns ({"step": [...], "loss": [...]})
 *   scaling.json        points {"params", "tokens", "flops", "val_loss"} and the fit
 *                       {"a", "alpha", "c"} of L(N) = a·N^(−α) + c (fitted here when absent)
 *   quantization.json   one record per variant (size, tokens/s, perplexity); else the model card's
 *                       markdown table that mentions perplexity
 * Each loader reads what it recognises and otherwise says why, never throws.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScalingPoint, Series, TrainingInfo } from '../../common/architectureTypes';

type Json = unknown;
const MAX_POINTS = 2000;

function readJsonFile(file: string, notes: string[]): Json | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    notes.push(`${path.basename(file)} is not valid JSON (${(err as Error).message}).`);
    return undefined;
  }
}

const isRecord = (x: Json): x is Record<string, Json> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: Json): x is number => typeof x === 'number' && Number.isFinite(x);

function pick(r: Record<string, Json>, keys: string[]): number | undefined {
  for (const k of keys) if (isNum(r[k])) return r[k];
  return undefined;
}

const X_KEYS = ['step', 'steps', 'iter', 'iteration', 'global_step', 'tokens', 'tokens_seen', 'epoch'];

function downsample<T>(xs: T[]): T[] {
  if (xs.length <= MAX_POINTS) return xs;
  const stride = xs.length / MAX_POINTS;
  return Array.from({ length: MAX_POINTS }, (_, i) => xs[Math.floor(i * stride)]);
}

/** Series from a list of records: one per numeric key that names a loss or perplexity. */
function seriesFromRecords(records: Json[], prefix: string): { xKey: string; series: Series[] } {
  const rows = records.filter(isRecord);
  const xKey = X_KEYS.find((k) => rows.some((r) => isNum(r[k]))) ?? '';
  const keys = new Set<string>();
  for (const r of rows)
    for (const [k, v] of Object.entries(r)) if (isNum(v) && /loss|ppl|perplexity/i.test(k)) keys.add(k);
  const series = [...keys].map((k) => ({
    name: prefix ? `${prefix} ${k}` : k,
    points: downsample(
      rows
        .map((r, i) => ({ x: xKey ? (r[xKey] as number) : i, y: r[k] }))
        .filter((p): p is { x: number; y: number } => isNum(p.x) && isNum(p.y)),
    ),
  }));
  return { xKey: xKey || 'record', series: series.filter((s) => s.points.length > 0) };
}

/** Loss curves from training_log.json in any of the shapes the module doc lists. */
export function parseLossLog(json: Json): { xLabel: string; series: Series[] } | null {
  const found: { xKey: string; series: Series[] }[] = [];
  const visit = (x: Json, prefix: string, depth: number) => {
    if (depth > 3) return;
    if (Array.isArray(x)) {
      if (x.some(isRecord)) found.push(seriesFromRecords(x, prefix));
      return;
    }
    if (!isRecord(x)) return;
    // columns: {"step": [...], "train_loss": [...]}
    const cols = Object.entries(x).filter(([, v]) => Array.isArray(v) && v.length > 0 && v.every(isNum)) as [
      string,
      number[],
    ][];
    if (cols.length >= 2) {
      const rows = cols[0][1].map((_, i) => Object.fromEntries(cols.map(([k, v]) => [k, v[i]])));
      found.push(seriesFromRecords(rows, prefix));
    }
    for (const [k, v] of Object.entries(x)) {
      if (Array.isArray(v) && v.every(isNum)) continue;
      const generic = /^(log|logs|records|steps|history|entries|data|metrics|points)$/.test(k);
      visit(v, generic ? prefix : [prefix, k].filter(Boolean).join(' '), depth + 1);
    }
  };
  visit(json, '', 0);
  const series = found.flatMap((f) => f.series);
  if (series.length === 0) return null;
  return { xLabel: found.find((f) => f.series.length)!.xKey, series };
}

const PARAM_KEYS = ['params', 'n_params', 'num_params', 'parameters', 'N', 'non_embedding_params', 'n'];
const LOSS_KEYS = ['val_loss', 'final_val_loss', 'validation_loss', 'eval_loss', 'loss', 'L', 'test_loss'];

/** Scaling points and fit from scaling.json. */
export function parseScaling(json: Json): TrainingInfo['scaling'] {
  let list: Json[] | undefined;
  if (Array.isArray(json)) list = json;
  else if (isRecord(json)) {
    for (const k of ['points', 'runs', 'models', 'sizes', 'results', 'data']) {
      if (Array.isArray(json[k])) {
        list = json[k] as Json[];
        break;
      }
    }
  }
  const points: ScalingPoint[] = (list ?? []).filter(isRecord).flatMap((r) => {
    const params = pick(r, PARAM_KEYS);
    const loss = pick(r, LOSS_KEYS);
    if (params === undefined || loss === undefined) return [];
    const label = ['name', 'label', 'size', 'id'].map((k) => r[k]).find((v) => typeof v === 'string') as
      string | undefined;
    return [
      {
        params,
        loss,
        tokens: pick(r, ['tokens', 'n_tokens', 'D', 'train_tokens']),
        flops: pick(r, ['flops', 'FLOPs', 'compute', 'C', 'train_flops']),
        label,
      },
    ];
  });
  if (points.length === 0) return null;
  points.sort((a, b) => a.params - b.params);
  let fit: NonNullable<TrainingInfo['scaling']>['fit'] = null;
  const f = isRecord(json)
    ? (['fit', 'law', 'power_law', 'scaling_law'].map((k) => json[k]).find(isRecord) as
        Record<string, Json> | undefined)
    : undefined;
  if (f) {
    const a = pick(f, ['a', 'A']),
      alpha = pick(f, ['alpha', 'α', 'b', 'exponent']),
      c = pick(f, ['c', 'E', 'L_inf', 'irreducible']);
    if (a !== undefined && alpha !== undefined) fit = { a, alpha, c: c ?? 0, source: 'scaling.json' };
  }
  if (!fit && points.length >= 3) {
    const own = fitPowerLaw(points);
    if (own) fit = { ...own, source: 'fitted by Glassbox (least squares)' };
  }
  const law = f && typeof f.law === 'string' ? f.law : null;
  const counted = isRecord(json) && typeof json.params_counted === 'string' ? json.params_counted : null;
  return { points, fit, source: 'scaling.json', note: [law, counted].filter(Boolean).join('; ') || null };
}

/** Least-squares fit of L(N) = a·N^(−α) + c: a grid over c, linear regression of log(L − c) on log N. */
export function fitPowerLaw(points: ScalingPoint[]): { a: number; alpha: number; c: number } | null {
  const minLoss = Math.min(...points.map((p) => p.loss));
  let best: { a: number; alpha: number; c: number; sse: number } | null = null;
  for (let i = 0; i < 400; i++) {
    const c = (minLoss * 0.999 * i) / 400;
    const xs = points.map((p) => Math.log(p.params));
    const ys = points.map((p) => Math.log(p.loss - c));
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    if (sxx === 0) return null;
    const slope = xs.reduce((a, x, k) => a + (x - mx) * (ys[k] - my), 0) / sxx;
    const a = Math.exp(my - slope * mx);
    const alpha = -slope;
    const sse = points.reduce((acc, p) => acc + (a * p.params ** -alpha + c - p.loss) ** 2, 0);
    if (!best || sse < best.sse) best = { a, alpha, c, sse };
  }
  return best && best.alpha > 0 ? { a: best.a, alpha: best.alpha, c: best.c } : null;
}

/** The quantization table: quantization.json records, or the model card's table with a perplexity column. */
export function parseQuantization(json: Json, card: string | undefined): TrainingInfo['quantization'] {
  let list: Json[] | undefined;
  if (Array.isArray(json)) list = json;
  else if (isRecord(json))
    list =
      (['variants', 'rows', 'results', 'models'].map((k) => json[k]).find(Array.isArray) as Json[] | undefined) ??
      (Object.values(json).every(isRecord)
        ? Object.entries(json).map(([k, v]) => ({ variant: k, ...(v as object) }))
        : undefined);
  const rows = (list ?? []).filter(isRecord);
  if (rows.length) {
    const columns: string[] = [];
    const cell = (v: Json): v is string | number | boolean =>
      typeof v === 'string' || typeof v === 'boolean' || isNum(v);
    for (const r of rows)
      for (const [k, v] of Object.entries(r)) if (!columns.includes(k) && (cell(v) || v === null)) columns.push(k);
    return {
      columns,
      rows: rows.map((r) => columns.map((c) => (cell(r[c]) ? r[c] : null))),
      source: 'quantization.json',
    };
  }
  return card ? tableFromCard(card) : null;
}

function tableFromCard(card: string): TrainingInfo['quantization'] {
  const lines = card.split(/\r?\n/);
  for (let i = 0; i + 1 < lines.length; i++) {
    const header = lines[i];
    if (!/^\s*\|/.test(header) || !/perplexity|ppl/i.test(header) || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1]))
      continue;
    const cells = (l: string) =>
      l
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim());
    const columns = cells(header);
    const rows: string[][] = [];
    for (let j = i + 2; j < lines.length && /^\s*\|/.test(lines[j]); j++) rows.push(cells(lines[j]));
    return { columns, rows, source: 'README.md (model card)' };
  }
  return null;
}

/** Reads whichever of the three records the folder has; `notes` says what is missing or unreadable. */
export function readTrainingInfo(dir: string): TrainingInfo {
  const notes: string[] = [];
  const card = fs.existsSync(path.join(dir, 'README.md'))
    ? fs.readFileSync(path.join(dir, 'README.md'), 'utf8')
    : undefined;
  const logJson = readJsonFile(path.join(dir, 'training_log.json'), notes);
  const parsedLog = logJson === undefined ? null : parseLossLog(logJson);
  if (logJson !== undefined && !parsedLog) notes.push('training_log.json holds no loss records Glassbox recognises.');
  const scalingJson = readJsonFile(path.join(dir, 'scaling.json'), notes);
  const scaling = scalingJson === undefined ? null : parseScaling(scalingJson);
  if (scalingJson !== undefined && !scaling)
    notes.push('scaling.json holds no (params, loss) points Glassbox recognises.');
  const quantJson = readJsonFile(path.join(dir, 'quantization.json'), notes);
  const quantization = parseQuantization(quantJson, card);
  return {
    loss: parsedLog ? { ...parsedLog, source: 'training_log.json' } : null,
    scaling,
    quantization,
    notes,
  };
}

/** The total parameter count a model card states (`| Parameters | 6,912,000 |` or `125,248 parameters`). */
export function cardParameterCount(dir: string): number | null {
  const file = path.join(dir, 'README.md');
  if (!fs.existsSync(file)) return null;
  const text = fs.readFileSync(file, 'utf8');
  const table = /^\s*\|\s*(?:total\s+)?param(?:eter)?s?(?:\s*\(total\))?\s*\|\s*([\d,._ ]+)\s*\|/im.exec(text);
  const prose = /\b(\d{1,3}(?:,\d{3})+|\d+)\s+parameters\b/i.exec(text);
  const m = table ?? prose;
  if (!m) return null;
  const n = Number(m[1].replace(/[,_ ]/g, ''));
  return Number.isFinite(n) && n > 0 ? n : null;
}
