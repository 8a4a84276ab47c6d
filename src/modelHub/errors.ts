/** Errors of the model download path; each says what happened and what the user can do. */
import { CodedError } from '../net/codedError';

type DownloadErrorCode =
  | 'INSECURE_URL' // a hub URL that is not HTTPS (loopback excepted)
  | 'HUB_UNREACHABLE' // DNS, refused connection, proxy failure, timeout
  | 'HUB_HTTP' // an HTTP status the client does not handle
  | 'NOT_FOUND' // 404: repository, revision or file
  | 'UNAUTHORIZED' // 401/403: gated or private repository
  | 'FILES_CHANGED' // the hub's sizes differ from what the plan expected
  | 'CHECKSUM' // sha256 (or git blob id) mismatch
  | 'DISK_FULL'
  | 'READ_ONLY'
  | 'LOCKED' // another download of the same model is running
  | 'CANCELLED'
  | 'INVALID';

export class DownloadError extends CodedError<DownloadErrorCode> {
  override name = 'DownloadError';
}

export function isDownloadCancel(err: unknown): boolean {
  return err instanceof DownloadError && err.code === 'CANCELLED';
}

/** Binary units the way file managers show them: "486 MB", "1.2 GB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}
