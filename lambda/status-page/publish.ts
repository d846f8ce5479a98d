// Publishing the rendered files to the hosted page's bucket: only files whose content changed since this container
// last wrote them (a cold start writes all), each with its content type and cache lifetime. Pure over a `put`.
import { createHash } from 'node:crypto';
import type { StatusFile } from './files';

/** Object keys the infrastructure names (the distribution's root object, the renderer's one read). */
export const STATUS_OBJECT_KEYS = { index: 'index.html', status: 'status.json' } as const;

export interface PutFile {
  (file: StatusFile): Promise<void>;
}

export interface PublishOutcome {
  written: string[];
  unchanged: string[];
}

/** Remembers what a container wrote, by key and content hash. */
export class PublishedFiles {
  private readonly hashes = new Map<string, string>();

  async publish(files: readonly StatusFile[], put: PutFile): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { written: [], unchanged: [] };
    // index.html last: a reader who gets the new page finds the JSON and badges it links to already there.
    const ordered = [...files.filter((f) => f.path !== STATUS_OBJECT_KEYS.index), ...files.filter((f) => f.path === STATUS_OBJECT_KEYS.index)];
    for (const file of ordered) {
      const hash = createHash('sha256').update(file.contentType).update('\0').update(file.body).digest('hex');
      if (this.hashes.get(file.path) === hash) {
        outcome.unchanged.push(file.path);
        continue;
      }
      await put(file);
      this.hashes.set(file.path, hash);
      outcome.written.push(file.path);
    }
    return outcome;
  }
}

/** When the hosted page began watching, from the previous status.json (null when there is none or it does not say). */
export function watchedSinceOf(previousStatusJson: string | undefined): number | null {
  if (previousStatusJson === undefined) return null;
  try {
    const since = (JSON.parse(previousStatusJson) as { watchedSince?: unknown }).watchedSince;
    const ms = typeof since === 'string' ? Date.parse(since) : Number.NaN;
    return Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}
