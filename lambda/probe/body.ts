// Reads at most maxBytes of a response body (after gzip/deflate decoding), then stops: memory stays flat whatever the target sends.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';

export interface CappedBody {
  /** The first maxBytes of the (decoded) body; empty when the caller did not need the bytes. */
  bytes: Buffer;
  /** Bytes seen before stopping (decoded when decoding). */
  received: number;
  /** The body was longer than maxBytes and was cut off. */
  truncated: boolean;
}

export interface ReadBodyOptions {
  maxBytes: number;
  /** Keep (and decode) the bytes: only when an assertion needs them. Otherwise raw bytes are counted and dropped. */
  keep: boolean;
}

/**
 * Drains a response up to the cap, then destroys it (and its socket). When the bytes are kept, gzip/deflate is
 * decoded and the cap applies to the decoded bytes: a gzip bomb is inflated only as far as the cap, because the
 * decoder is destroyed the moment maxBytes have come out of it. Rejects if the response errors or is destroyed
 * (a reset, or the deadline) before it ends.
 */
export function readCappedBody(response: IncomingMessage, options: ReadBodyOptions): Promise<CappedBody> {
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decode = options.keep && (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate');
  const decoder = decode ? (encoding === 'deflate' ? createInflate() : createGunzip()) : undefined;
  const source: Readable = decoder ?? response;
  const chunks: Buffer[] = [];
  let kept = 0;
  let received = 0;
  return new Promise<CappedBody>((resolve, reject) => {
    let settled = false;
    const finish = (truncated: boolean) => {
      if (settled) return;
      settled = true;
      if (truncated) {
        decoder?.destroy();
        response.destroy();
      }
      resolve({ bytes: Buffer.concat(chunks, kept), received, truncated });
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      decoder?.destroy();
      response.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (options.keep && kept < options.maxBytes) {
        const part = chunk.length <= options.maxBytes - kept ? chunk : chunk.subarray(0, options.maxBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (received > options.maxBytes) finish(true);
    });
    source.once('end', () => finish(false));
    source.once('error', fail);
    if (decoder) {
      response.once('error', fail);
      response.once('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      response.pipe(decoder);
    }
    // A response destroyed before its end (reset, deadline) closes without 'end'.
    response.once('close', () => {
      if (!response.complete && !settled) fail(Object.assign(new Error('response closed before its end'), { code: 'ECONNRESET' }));
    });
  });
}
