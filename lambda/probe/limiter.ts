// Concurrency caps: a global one per prober and one per host, so a round can never flood a platform.
export type Release = () => void;

/** A counting semaphore whose waiters give up when their signal aborts. */
export class Semaphore {
  private active = 0;
  private readonly waiters: { grant: (release: Release) => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  acquire(signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(new QueueAbortedError());
    if (this.active < this.capacity) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter = {
        grant: (release: Release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new QueueAbortedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}

/** One semaphore per key (host), created on first use. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(readonly capacityPerKey: number) {}

  acquire(key: string, signal: AbortSignal): Promise<Release> {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.capacityPerKey);
      this.byKey.set(key, semaphore);
    }
    return semaphore.acquire(signal);
  }
}

export class QueueAbortedError extends Error {
  override readonly name = 'QueueAbortedError';
  constructor() {
    super('deadline passed while waiting for a concurrency slot');
  }
}
