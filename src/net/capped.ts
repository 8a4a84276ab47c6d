/**
 * Response bodies read under a byte cap, whatever Content-Length said or if it said nothing: a
 * misconfigured server or a hostile one cannot fill the extension host's memory. The caller says
 * which error an oversized body is (each path words it for its user).
 */

/** The body's chunks; throws `tooLarge()` (and destroys the body) once more than `maxBytes` came. */
export async function* cappedChunks(
  body: AsyncIterable<unknown> & { destroy(): void },
  maxBytes: number,
  tooLarge: () => Error,
): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    if (bytes > maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    yield buf;
  }
}

/** The whole body, at most `maxBytes`. */
export async function readCapped(
  body: AsyncIterable<unknown> & { destroy(): void },
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of cappedChunks(body, maxBytes, tooLarge)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
