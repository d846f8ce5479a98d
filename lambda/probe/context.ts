// What a check needs from the outside world, passed in so tests, local mode and the Lambda wire their own.
import type { SecureContext } from 'node:tls';
import type { RegionwatchConfig } from '../config/schema';

/** Structured log sink; a Powertools Logger fits, so does a console wrapper. */
export interface ProbeLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Hostname to addresses (the system resolver by default). Must reject with an error carrying a DNS `code` when it fails. */
export type HostLookup = (hostname: string, signal: AbortSignal) => Promise<ResolvedAddress[]>;

export type ProbingSettings = RegionwatchConfig['probing'];

/** Everything a single check reads; built once per round by the round runner. */
export interface CheckContext {
  probeRegion: string;
  probing: ProbingSettings;
  /** Headers sent with every HTTP probe (User-Agent, x-regionwatch-probe-region). */
  probeHeaders: Readonly<Record<string, string>>;
  lookup: HostLookup;
  logger: ProbeLogger;
  /** TLS trust: the system roots, plus extra roots when the caller gave some (tests, private CAs in local mode). */
  secureContext?: SecureContext;
  /** Epoch ms, for certificate days-left; the wall clock of the round. */
  now: () => number;
  /** Aborted at the round deadline. */
  roundSignal: AbortSignal;
  /**
   * The hosts the config names (lowercase, IPv6 without brackets): the only ones `allowPrivateAddresses` opens
   * private and loopback addresses for. A redirect to any other host gets the default rules.
   */
  configuredHosts: ReadonlySet<string>;
}

export const silentLogger: ProbeLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
