// Runs a Debian server binary (nginx, dnsmasq) in the foreground for a test: free loopback ports, a bounded start,
// a clean stop, and no orphan left holding a port if the test process dies first.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A binary the real-platform tests need is not installed: the message is the one line that says what to install. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(message: string) {
    super(message);
    // One line in vitest's output, not a stack into this file.
    this.stack = `${this.name}: ${message}`;
  }
}

/** Fails with one line naming the Debian package when `path` is not an executable: a missing server fails, never skips. */
export function requireBinary(path: string, debianPackage: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingBinaryError(`the real-platform tests need ${path}, which is not installed: apt-get install ${debianPackage} (.ci/run does it), then run the tests again`);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released) for a server we hand it to. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port free on 127.0.0.1 for both UDP and TCP (a DNS server listens on both). Bounded: 20 tries. */
export async function freeUdpAndTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const { port } = udp.address();
    const tcp = createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (tcpFree) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1 after 20 tries');
}

export interface Daemon {
  readonly pid: number;
  /** True once the process has exited. */
  exited(): boolean;
  /** What it wrote to stdout and stderr (the last 8 KiB). */
  output(): string;
  /** Stops it (`signal`, then SIGKILL after 3 s) and resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: it keeps its sockets but answers nothing (a hung server); `resume` is SIGCONT. */
  pause(): void;
  resume(): void;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test process that ends (or crashes) takes its daemons with it; 'exit' handlers can only do synchronous work. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export interface DaemonOptions {
  /** For messages: "nginx", "dnsmasq". */
  name: string;
  command: string;
  args: string[];
  /** Resolves true once the daemon serves; asked every 20 ms. */
  ready(): Promise<boolean>;
  /** Extra lines for a failure message (its error log). */
  diagnostics?(): string;
  /** Real milliseconds to wait for `ready`. */
  startTimeoutMs?: number;
}

/**
 * Spawns the daemon (it must stay in the foreground) and waits until `ready` says it serves. Throws with its output
 * when it exits or does not get ready in time; the caller may retry on another port when the output says the port
 * was taken.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  installExitHook();
  const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let hasExited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      output += `\n${error.message}`;
      hasExited = true;
      running.delete(child);
      resolve();
    });
  });
  const daemon: Daemon = {
    get pid() {
      return child.pid ?? -1;
    },
    exited: () => hasExited,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (hasExited) return;
      child.kill('SIGCONT');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!hasExited && Date.now() < deadline) {
    if (await options.ready().catch(() => false)) return daemon;
    await delay(20);
  }
  await daemon.stop('SIGKILL');
  const said = [output.trim(), options.diagnostics?.().trim()].filter(Boolean).join(' / ');
  throw new DaemonStartError(`${options.name} did not start${hasExited ? ` (exit code ${child.exitCode ?? 'none'})` : ' in time'}: ${said || 'no output'}`, said);
}

export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    message: string,
    /** What the daemon said, to tell a taken port from a real failure. */
    readonly said: string,
  ) {
    super(message);
  }
}

/** Whether a start failed only because another process took the port in between. */
export function portWasTaken(error: unknown): boolean {
  return error instanceof DaemonStartError && /Address already in use|EADDRINUSE|bind\(\) .*failed/i.test(error.said);
}
