/**
 * The settings that price local generation: extra watts while generating (by device class unless
 * set), electricity price, and the share of a machine's price attributed to Glassbox. Values out
 * of range are rejected (the default is used) and named, so the panel and a notification can say so.
 */

type DeviceClass = 'laptop' | 'desktop' | 'gpuWorkstation' | 'server';

/** Extra watts drawn while the model generates, above idle (CPU package or GPU under load). */
const DEFAULT_WATTS: Record<DeviceClass, number> = { laptop: 20, desktop: 65, gpuWorkstation: 250, server: 450 };

export interface CostSettings {
  deviceClass: DeviceClass;
  /** Extra watts while generating; the device class default unless set. */
  watts: number;
  wattsFromDeviceClass: boolean;
  /** USD per kWh. */
  electricityPrice: number;
  /** USD. */
  hardwarePrice: number;
  hardwareLifetimeMonths: number;
  /** α: the share of the machine attributed to Glassbox, 0..1 (0: it is already owned). */
  hardwareShare: number;
  /** USD per hour of the team's own model server (a GPU machine, rented or owned); 0: none. */
  serverHourlyPrice: number;
  /** A price file that overrides the bundled prices (same schema); empty for none. */
  priceFile: string;
  /** Where "Update Prices" downloads LiteLLM's price file from (https). */
  pricesUrl: string;
}

const LITELLM_PRICES_URL =
  'https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json';

export interface RejectedSetting {
  key: string;
  value: unknown;
  /** What the value should be, e.g. "a number from 0 to 5000". */
  expected: string;
}

interface Bound {
  key: keyof CostSettings;
  fallback: number;
  min: number;
  max: number;
  unit: string;
}

const BOUNDS: Bound[] = [
  { key: 'electricityPrice', fallback: 0.17, min: 0, max: 5, unit: 'USD per kWh' },
  { key: 'hardwarePrice', fallback: 1500, min: 0, max: 10_000_000, unit: 'USD' },
  { key: 'hardwareLifetimeMonths', fallback: 36, min: 1, max: 240, unit: 'months' },
  { key: 'hardwareShare', fallback: 0, min: 0, max: 1, unit: 'share of the machine' },
  { key: 'serverHourlyPrice', fallback: 0, min: 0, max: 10_000, unit: 'USD per hour' },
];
const MAX_WATTS = 5000;

/** Reads `glassbox.costs.*` through `get` (key without the prefix), rejecting what is out of range. */
export function readCostSettings(get: (key: string) => unknown): {
  settings: CostSettings;
  rejected: RejectedSetting[];
} {
  const rejected: RejectedSetting[] = [];
  const reject = (key: string, value: unknown, expected: string) => rejected.push({ key, value, expected });

  let deviceClass = get('deviceClass') as DeviceClass;
  if (!(typeof deviceClass === 'string' && deviceClass in DEFAULT_WATTS)) {
    if (deviceClass !== undefined && deviceClass !== null)
      reject('deviceClass', deviceClass, `one of ${Object.keys(DEFAULT_WATTS).join(', ')}`);
    deviceClass = 'laptop';
  }
  const rawWatts = get('watts');
  let watts = DEFAULT_WATTS[deviceClass];
  let wattsFromDeviceClass = true;
  if (rawWatts !== undefined && rawWatts !== null) {
    if (typeof rawWatts === 'number' && Number.isFinite(rawWatts) && rawWatts >= 0 && rawWatts <= MAX_WATTS) {
      watts = rawWatts;
      wattsFromDeviceClass = false;
    } else reject('watts', rawWatts, `watts from 0 to ${MAX_WATTS}, or empty for the device class default`);
  }
  const nums: Record<string, number> = {};
  for (const b of BOUNDS) {
    const v = get(b.key);
    nums[b.key] = b.fallback;
    if (v === undefined || v === null) continue;
    if (typeof v === 'number' && Number.isFinite(v) && v >= b.min && v <= b.max) nums[b.key] = v;
    else reject(b.key, v, `a number from ${b.min} to ${b.max.toLocaleString('en-US')} (${b.unit})`);
  }
  const str = (key: string, fallback: string) => {
    const v = get(key);
    if (typeof v === 'string') return v.trim() || fallback;
    if (v !== undefined && v !== null) reject(key, v, 'a string');
    return fallback;
  };
  const pricesUrl = str('pricesUrl', LITELLM_PRICES_URL);
  return {
    settings: {
      deviceClass,
      watts,
      wattsFromDeviceClass,
      electricityPrice: nums.electricityPrice,
      hardwarePrice: nums.hardwarePrice,
      hardwareLifetimeMonths: nums.hardwareLifetimeMonths,
      hardwareShare: nums.hardwareShare,
      serverHourlyPrice: nums.serverHourlyPrice,
      priceFile: str('priceFile', ''),
      pricesUrl,
    },
    rejected,
  };
}
