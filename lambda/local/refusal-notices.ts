// Local mode's word on a target its probers refuse to probe: one line the first time, naming the target, the address
// kind and the key that allows it, from the SSRF guard's own security log line (not one per round or probe region).
import { isIP } from 'node:net';
import type { ResolvedTarget } from '../config/resolve';
import type { RegionwatchConfig } from '../config/schema';
import { classifyAddress, refusalFix, type AddressKind } from '../probe/address-guard';
import { configuredHosts, hostOf } from '../probe/checks/index';
import type { HostLookup, ProbeLogger } from '../probe/context';
import { memoizeLookup, resolveGuarded } from '../probe/resolve-host';

/** How long the look-up at start may take before local mode goes on (the rounds look the names up again anyway). */
const START_LOOKUP_MS = 2000;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export class RefusalNotices {
  private readonly seen = new Set<string>();

  /** A probe logger that hands the guard's `ssrf-blocked` lines to `noticed` and drops the rest (local mode logs nothing else). */
  readonly logger: ProbeLogger = {
    info: () => undefined,
    warn: (_message, attributes) => this.noticed(attributes),
    error: () => undefined,
  };

  constructor(
    private readonly config: RegionwatchConfig,
    private readonly line: (text: string) => void,
  ) {}

  /**
   * At start: every name a target connects to looked up once and judged by the prober's own guard (resolveGuarded),
   * so a refused one is told before the first round, however long the interval. A failed look-up says nothing here:
   * the rounds report it as `dns`.
   */
  async atStart(targets: readonly ResolvedTarget[], lookup: HostLookup): Promise<void> {
    const signal = AbortSignal.timeout(START_LOOKUP_MS);
    const ctx = {
      probeRegion: 'local',
      probing: this.config.probing,
      probeHeaders: {},
      lookup: memoizeLookup(lookup, signal),
      logger: this.logger,
      now: () => Date.now(),
      roundSignal: signal,
      configuredHosts: configuredHosts(targets),
    };
    const connecting = targets.filter((t) => t.type !== 'dns');
    await Promise.all(connecting.map((t) => resolveGuarded(hostOf(t), ctx, signal, { region: t.region, target: t.name, hop: 0 }).catch(() => undefined)));
  }

  /** Writes the line for a refusal the first time its target is refused this way; a refusal already told is not. */
  noticed(attributes: Record<string, unknown> | undefined): void {
    if (attributes?.event !== 'ssrf-blocked') return;
    const region = text(attributes.region);
    const target = text(attributes.target);
    const hop = typeof attributes.hop === 'number' ? attributes.hop : 0;
    const host = text(attributes.hostname);
    const kind = (text(attributes.addressKind) || classifyAddress(text(attributes.address))) as AddressKind;
    const key = `${region}/${target}/${hop > 0 ? 'redirect' : 'direct'}/${kind}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const where =
      attributes.resolver === true ? 'its resolver is' : `${hop > 0 ? `its redirect ${hop} to ` : ''}${host || 'its host'} ${host && isIP(host) === 0 ? 'resolves to' : 'is'}`;
    const fix = refusalFix(kind, this.config.probing.allowPrivateAddresses, attributes.configuredHost === true) ?? 'it is refused';
    this.line(`${target} of ${region} is not probed: ${where} a ${kind} address, which probers refuse; ${fix}. A checker alert follows, not a platform page.`);
  }
}
