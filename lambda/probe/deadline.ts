// One check's hard deadline: its own timeout (a real timer: it bounds real network time) or the round's, whichever comes first.
import { timeoutFailure, type Phase, type ProbeFailure } from './errors';

export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private cause: 'request' | 'round' | undefined;
  private readonly onRoundAbort = () => this.fire('round');

  constructor(
    readonly timeoutMs: number,
    private readonly roundSignal: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.fire('request'), timeoutMs);
    if (roundSignal.aborted) this.fire('round');
    else roundSignal.addEventListener('abort', this.onRoundAbort, { once: true });
  }

  /** Aborted when the deadline passes; sockets listen to it and destroy themselves. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.cause !== undefined;
  }

  /** The failure to report when the deadline cut the check short in `phase`. */
  failure(phase: Phase): ProbeFailure {
    return timeoutFailure(phase, this.timeoutMs, this.cause ?? 'request');
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.roundSignal.removeEventListener('abort', this.onRoundAbort);
  }

  private fire(cause: 'request' | 'round'): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    clearTimeout(this.timer);
    this.controller.abort();
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

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('deadline passed');
  }
}
