// Reads at most maxBytes of a response body (after gzip/deflate decoding), then stops: memory stays flat whatever the target sends.
import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
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
 * Drains a response up to the cap. Decoding is pull-based, so a gzip bomb is inflated only as far as
 * the cap: the decoder is destroyed once maxBytes have come out of it.
 */
export async function readCappedBody(response: IncomingMessage, options: ReadBodyOptions): Promise<CappedBody> {
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  let source: Readable = response;
  if (options.keep && (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate')) {
    const decoder = encoding === 'deflate' ? createInflate() : createGunzip();
    source = pipeline(response, decoder, () => undefined);
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  let received = 0;
  let truncated = false;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (options.keep && kept < options.maxBytes) {
      const part = chunk.subarray(0, options.maxBytes - kept);
      chunks.push(Buffer.from(part));
      kept += part.length;
    }
    if (received > options.maxBytes) {
      truncated = true;
      break; // destroys the stream (and, through the pipeline, the response and its socket)
    }
  }
  if (truncated) response.destroy();
  return { bytes: Buffer.concat(chunks, kept), received, truncated };
}
