/** Content checks for downloaded files: sha256 for LFS files, the git blob id for small git files. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { DownloadError } from './errors';
import type { HubFile } from './hubClient';

interface FileDigest {
  size: number;
  sha256: string;
  /** sha1 over "blob <size>\0" + content: what git (and the hub's `oid`) calls the file. */
  gitOid: string;
}

/** Reads the file once and computes both digests. */
async function digestFile(file: string, signal?: AbortSignal): Promise<FileDigest> {
  const size = (await fs.promises.stat(file)).size;
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, signal })) {
    sha256.update(chunk as Buffer);
    sha1.update(chunk as Buffer);
  }
  return { size, sha256: sha256.digest('hex'), gitOid: sha1.digest('hex') };
}

/**
 * Checks a downloaded file against the hub's listing; on a mismatch removes it and throws
 * CHECKSUM naming the file, the expected and the actual digest. Returns the digest.
 */
export async function verifyFile(file: string, expected: HubFile, signal?: AbortSignal): Promise<FileDigest> {
  let d: FileDigest;
  try {
    d = await digestFile(file, signal);
  } catch (err) {
    if (signal?.aborted) throw new DownloadError('CANCELLED', 'The download was cancelled.');
    throw err;
  }
  const problem =
    d.size !== expected.size
      ? `size ${d.size}, expected ${expected.size}`
      : expected.sha256 && d.sha256 !== expected.sha256
        ? `sha256 ${d.sha256}, expected ${expected.sha256}`
        : expected.gitOid && d.gitOid !== expected.gitOid
          ? `git blob id ${d.gitOid}, expected ${expected.gitOid}`
          : !expected.sha256 && !expected.gitOid
            ? 'the hub gave no hash to check it against'
            : undefined;
  if (problem) {
    await fs.promises.rm(file, { force: true });
    throw new DownloadError(
      'CHECKSUM',
      `${expected.path} failed verification (${problem}); the file was removed.`,
      'Download it again; if it fails again, the hub or a proxy is serving different content.',
    );
  }
  return d;
}
