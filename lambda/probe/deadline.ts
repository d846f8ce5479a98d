// One check's hard deadline: its own timeout (a real timer: it bounds real network waits) or the round's, whichever comes first.
import { timeoutFailure, type Phase, type ProbeFailure } from './errors';

/** One abort listener per round signal, however many checks run: EventTarget listeners are not free at 1,000 checks. */
const byRound = new WeakMap<AbortSignal, Set<Deadline>>();

function register(roundSignal: AbortSignal, deadline: Deadline): void {
  let set = byRound.get(roundSignal);
  if (!set) {
    const members = new Set<Deadline>();
    set = members;
    byRound.set(roundSignal, members);
    roundSignal.addEventListener('abort', () => [...members].forEach((d) => d.expireForRound()), { once: true });
  }
  set.add(deadline);
}

export class Deadline {
  private readonly timer: NodeJS.Timeout;
  private cause: 'request' | 'round' | undefined;
  private readonly listeners = new Set<() => void>();
  private controller: AbortController | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly roundSignal: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.fire('request'), timeoutMs);
    if (roundSignal.aborted) this.fire('round');
    else register(roundSignal, this);
  }

  /** An AbortSignal for APIs that take one (lookups); created on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.expired) this.controller.abort();
    }
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.cause !== undefined;
  }

  /** Calls `fn` when the deadline passes (at once if it has); returns the unsubscribe. */
  onExpire(fn: () => void): () => void {
    if (this.expired) {
      fn();
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The failure to report when the deadline cut the check short in `phase`. */
  failure(phase: Phase): ProbeFailure {
    return timeoutFailure(phase, this.timeoutMs, this.cause ?? 'request');
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.listeners.clear();
    byRound.get(this.roundSignal)?.delete(this);
  }

  /** @internal called by the round signal's one listener. */
  expireForRound(): void {
    this.fire('round');
  }

  private fire(cause: 'request' | 'round'): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    clearTimeout(this.timer);
    const listeners = [...this.listeners];
    this.listeners.clear();
    listeners.forEach((fn) => fn());
    this.controller?.abort();
  }
}

/** Resolves or rejects with `work`, or rejects as soon as `signal` aborts (the work's own cleanup is the caller's). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new AbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(new AbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Like raceAbort, against a Deadline, without creating an AbortSignal. */
export function raceDeadline<T>(work: Promise<T>, deadline: Deadline): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = deadline.onExpire(() => {
      work.catch(() => undefined);
      reject(new AbortedError());
    });
    work.then(
      (value) => {
        off();
        resolve(value);
      },
      (error: unknown) => {
        off();
        reject(error);
      },
    );
  });
}

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('deadline passed');
  }
}
