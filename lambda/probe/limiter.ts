// Concurrency caps: a global one per prober and one per host, so a round can never flood a platform.
export type Release = () => void;

/**
 * A counting semaphore for one round. Waiters are refused when the round's signal aborts; one listener
 * serves them all (an EventTarget listener per waiter costs O(n) to remove, O(n²) over a 1,000-target round).
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: { grant: (release: Release) => void; refuse: () => void }[] = [];
  private head = 0;

  constructor(
    readonly capacity: number,
    private readonly signal: AbortSignal,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!signal.aborted) signal.addEventListener('abort', () => this.refuseAll(), { once: true });
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length - this.head;
  }

  /** Resolves with a release function once a slot is free; rejects with QueueAbortedError if the round ends first. */
  acquire(): Promise<Release> {
    if (this.signal.aborted) return Promise.reject(new QueueAbortedError());
    if (this.active < this.capacity) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      this.waiters.push({ grant: resolve, refuse: () => reject(new QueueAbortedError()) });
    });
  }

  private next(): { grant: (release: Release) => void } | undefined {
    if (this.head >= this.waiters.length) return undefined;
    const waiter = this.waiters[this.head];
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
    return waiter;
  }

  private refuseAll(): void {
    const waiting = this.waiters.splice(this.head);
    this.waiters.length = 0;
    this.head = 0;
    waiting.forEach((w) => w.refuse());
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.next();
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}

/** One semaphore per key (host), created on first use, all ending with the same round. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(
    readonly capacityPerKey: number,
    private readonly signal: AbortSignal,
  ) {}

  acquire(key: string): Promise<Release> {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.capacityPerKey, this.signal);
      this.byKey.set(key, semaphore);
    }
    return semaphore.acquire();
  }
}

/** What a check may ask of its concurrency slots: a redirect to another host moves it to that host's slot. */
export interface HostSlot {
  /** Resolves once the check holds a slot of `host` (at once if it already does); rejects if the round ends first. */
  moveTo(host: string): Promise<void>;
}

/**
 * The slots one check holds: one of its host's, then a global one. A redirect to another host gives both up
 * and takes the new host's, then a global one, in that order again: a check never waits for a slot while holding
 * one, so two checks redirecting into each other's hosts cannot deadlock, and a busy host never holds global slots.
 */
export class CheckSlots implements HostSlot {
  private host: string | undefined;
  private releaseHost: Release | undefined;
  private releaseGlobal: Release | undefined;
  private closed = false;

  constructor(
    private readonly perHost: KeyedSemaphore,
    private readonly global: Semaphore,
  ) {}

  async moveTo(host: string): Promise<void> {
    if (this.closed) throw new QueueAbortedError();
    if (host === this.host && this.releaseGlobal !== undefined) return;
    this.release();
    this.host = host;
    this.releaseHost = this.keep(await this.perHost.acquire(host));
    this.releaseGlobal = this.keep(await this.global.acquire());
  }

  /** Gives back every slot; a slot granted later (the check was given up on while it waited) goes straight back. */
  close(): void {
    this.closed = true;
    this.release();
  }

  private keep(release: Release): Release {
    if (!this.closed) return release;
    release();
    throw new QueueAbortedError();
  }

  private release(): void {
    this.releaseGlobal?.();
    this.releaseHost?.();
    this.releaseGlobal = undefined;
    this.releaseHost = undefined;
    this.host = undefined;
  }
}

export class QueueAbortedError extends Error {
  override readonly name = 'QueueAbortedError';
  constructor() {
    super('deadline passed while waiting for a concurrency slot');
  }
}
