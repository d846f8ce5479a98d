// Debian's dnsmasq as a real resolver on 127.0.0.1: the records a test names, authoritative for one zone, nothing upstream.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostLookup, ResolvedAddress } from '../../lambda/probe/context';
import { freeUdpAndTcpPort, portWasTaken, requireBinary, startDaemon, type Daemon } from './daemon';

export const DNSMASQ_PATH = '/usr/sbin/dnsmasq';

export interface DnsmasqOptions {
  /**
   * The zone dnsmasq answers for on its own (`--local`): a name in it without a record is NXDOMAIN, a type a name
   * has no record of is NOERROR with no answer (NODATA). Names outside it are REFUSED: there is no upstream.
   */
  zone: string;
  /** Name → its IPv4 and IPv6 addresses (A and AAAA of exactly that name: `--host-record`, no wildcard). */
  hosts?: Record<string, string[]>;
  /** Name → mail exchangers (`--mx-host`). */
  mx?: Record<string, { exchange: string; priority: number }[]>;
  /** Name → TXT strings without commas (`--txt-record`). */
  txt?: Record<string, string[]>;
}

export interface Dnsmasq {
  /** `127.0.0.1:PORT`, the form a dns target's `resolver` takes. */
  resolver: string;
  port: number;
  /** The probers' host lookup, asked of this dnsmasq (A and AAAA, IPv4 first, as the system lookup orders them). */
  lookup: HostLookup;
  /** Questions dnsmasq logged, as `TYPE name` (`A api.us.acme.test`), oldest first. */
  queries(): string[];
  /** Stops it: nothing listens on the port any more (a resolver that is down: queries are refused at once). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same records. */
  start(): Promise<void>;
  /** SIGSTOP: the port stays bound and questions go unanswered (a hung resolver); `resume` is SIGCONT. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

function args(options: DnsmasqOptions, dir: string, port: number): string[] {
  const list = [
    '--keep-in-foreground',
    // Neither /etc/dnsmasq.conf nor /etc/hosts nor /etc/resolv.conf: only what the test says.
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--port=${port}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--log-queries',
    `--log-facility=${join(dir, 'queries.log')}`,
    `--local=/${options.zone}/`,
  ];
  // As root dnsmasq drops to the user `dnsmasq`, which a machine with only dnsmasq-base may lack.
  if (process.getuid?.() === 0) list.push('--user=nobody', '--group=nogroup');
  for (const [name, addresses] of Object.entries(options.hosts ?? {})) list.push(`--host-record=${[name, ...addresses].join(',')}`);
  for (const [name, exchanges] of Object.entries(options.mx ?? {})) for (const mx of exchanges) list.push(`--mx-host=${name},${mx.exchange},${mx.priority}`);
  for (const [name, texts] of Object.entries(options.txt ?? {})) {
    for (const text of texts) {
      // No shell: the text goes as it is, and dnsmasq would split it at a comma into several strings.
      if (text.includes(',')) throw new Error(`a TXT record for dnsmasq cannot hold a comma: ${text}`);
      list.push(`--txt-record=${name},${text}`);
    }
  }
  return list;
}

/** Any answer at all (a record, NXDOMAIN, REFUSED) means it serves; only silence or a refused port does not. */
async function answers(port: number, zone: string): Promise<boolean> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    await resolver.resolve4(`ready-check.${zone}`);
    return true;
  } catch (error: unknown) {
    const code = error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : '';
    return code !== 'ECONNREFUSED' && code !== 'ETIMEOUT';
  }
}

function lookupAt(port: number): HostLookup {
  return async (hostname, signal) => {
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    const cancel = () => resolver.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
      const found: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      if (found.length > 0) return found;
      // Both failed: the A question's error carries the DNS code the prober classifies.
      throw v4.status === 'rejected' ? v4.reason : Object.assign(new Error(`no address for ${hostname}`), { code: 'ENODATA' });
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}

/** Starts dnsmasq on a free loopback port; fails with one line naming the package when it is not installed. */
export async function startDnsmasq(options: DnsmasqOptions): Promise<Dnsmasq> {
  requireBinary(DNSMASQ_PATH, 'dnsmasq-base');
  const dir = mkdtempSync(join(tmpdir(), 'regionwatch-dnsmasq-'));
  const launch = (port: number) =>
    startDaemon({
      name: `dnsmasq on 127.0.0.1:${port}`,
      command: DNSMASQ_PATH,
      args: args(options, dir, port),
      ready: () => answers(port, options.zone),
    });
  let port = 0;
  let daemon: Daemon | undefined;
  // Another process may take the port between our probe and dnsmasq's bind: try another, twice.
  for (let attempt = 1; !daemon; attempt++) {
    port = await freeUdpAndTcpPort();
    try {
      daemon = await launch(port);
    } catch (error: unknown) {
      if (attempt < 3 && portWasTaken(error)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  let current: Daemon = daemon;
  return {
    resolver: `127.0.0.1:${port}`,
    port,
    lookup: lookupAt(port),
    queries: () => {
      let log = '';
      try {
        log = readFileSync(join(dir, 'queries.log'), 'utf8');
      } catch {
        return [];
      }
      return [...log.matchAll(/query\[([A-Z0-9]+)\] (\S+) from /g)].map((m) => `${m[1]} ${m[2]}`).filter((q) => !q.includes('ready-check.'));
    },
    stop: () => current.stop(),
    start: async () => {
      if (!current.exited()) return;
      current = await launch(port);
    },
    pause: () => current.pause(),
    resume: () => current.resume(),
    close: async () => {
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
