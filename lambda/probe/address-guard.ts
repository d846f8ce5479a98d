// SSRF guard: which resolved addresses a probe may connect to. Pure functions over address strings.
import { isIP } from 'node:net';

/** What kind of address a probe was about to reach. */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'carrier-grade-nat'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

/** Kinds that `probing.allowPrivateAddresses: true` opens (private platforms, local mode). */
const OPENED_BY_ALLOW_PRIVATE: ReadonlySet<AddressKind> = new Set(['loopback', 'private', 'carrier-grade-nat']);

/** The config key that opens loopback, private and carrier-grade NAT addresses for the hosts the config names. */
export const ALLOW_PRIVATE_KEY = 'probing.allowPrivateAddresses';

/** Whether `probing.allowPrivateAddresses` opens addresses of this kind (for the hosts the config names). */
export function opensWithAllowPrivate(kind: AddressKind): boolean {
  return OPENED_BY_ALLOW_PRIVATE.has(kind);
}

export interface AddressVerdict {
  allowed: boolean;
  kind: AddressKind;
}

/**
 * May a probe connect to `address` (an IP literal, v4 or v6, brackets and zone ids tolerated)?
 * Public addresses always; loopback, private and carrier-grade NAT only with `allowPrivate`;
 * link-local (with the cloud metadata addresses), unspecified, multicast and reserved never.
 */
export function checkAddress(address: string, allowPrivate: boolean): AddressVerdict {
  const kind = classifyAddress(address);
  return { kind, allowed: kind === 'public' || (allowPrivate && OPENED_BY_ALLOW_PRIVATE.has(kind)) };
}

/**
 * What would make the guard allow an address of `kind`, as the end of a sentence about a refusal; undefined when it is
 * allowed already. `configuredHost`: the host is one the config names (a redirect's host usually is not).
 * Metadata, link-local, unspecified, multicast and reserved addresses are refused whatever the config says.
 */
export function refusalFix(kind: AddressKind, allowPrivate: boolean, configuredHost: boolean): string | undefined {
  if (kind === 'public') return undefined;
  if (kind === 'metadata') return `no setting allows a metadata address (the cloud's instance metadata service), not even ${ALLOW_PRIVATE_KEY}`;
  if (!OPENED_BY_ALLOW_PRIVATE.has(kind)) return `no setting allows ${kind === 'invalid' ? 'an invalid' : `a ${kind}`} address, not even ${ALLOW_PRIVATE_KEY}`;
  if (!configuredHost) return `${ALLOW_PRIVATE_KEY} opens private addresses only for the hosts the config names`;
  return allowPrivate ? undefined : `set ${ALLOW_PRIVATE_KEY} to true to probe it`;
}

/**
 * The kind of address a configured host is before any lookup: an IP literal (brackets and zone ids tolerated) by the
 * guard's own classification, and `localhost` or a name under `.localhost` as loopback (RFC 6761: resolvers answer
 * them with loopback); undefined for any other name, whose addresses are known only when a probe resolves it.
 */
export function literalAddressKind(host: string): AddressKind | undefined {
  const bare = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return 'loopback';
  if (isIP(bare.replace(/%.*$/, '')) === 0) return undefined;
  return classifyAddress(bare);
}

export function classifyAddress(raw: string): AddressKind {
  // Brackets and zone ids are rare: skip the two regex passes for the plain literal every request carries.
  const address = raw.includes('[') || raw.includes(']') || raw.includes('%') ? raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '') : raw;
  const family = isIP(address);
  if (family === 4) {
    const v4 = parseIPv4(address);
    return v4 === undefined ? 'invalid' : classifyIPv4(v4);
  }
  if (family === 6) {
    const groups = parseIPv6(address);
    return groups === undefined ? 'invalid' : classifyIPv6(groups);
  }
  return 'invalid';
}

function parseIPv4(address: string): number | undefined {
  // A plain scan, not split/map/reduce: every check of every round classifies its address (a few µs each that way).
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= address.length; i++) {
    const code = i < address.length ? address.charCodeAt(i) : 46; // a '.' after the last part ends it
    if (code >= 48 && code <= 57) {
      part = part * 10 + (code - 48);
      digits++;
      if (digits > 3 || part > 255) return undefined;
    } else if (code === 46) {
      if (digits === 0) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      if (i < address.length) dots++;
    } else return undefined;
  }
  return dots === 3 ? value : undefined;
}

/** A v4 range as [first, size]; parsed once at module load. */
function v4Range(prefix: string, bits: number): [number, number] {
  const size = 2 ** (32 - bits);
  return [Math.floor((parseIPv4(prefix) ?? 0) / size) * size, size];
}

/** First match wins: the metadata addresses are named before the link-local range that holds them. */
const V4_RANGES: readonly [AddressKind, [number, number][]][] = [
  ['metadata', [v4Range('169.254.169.254', 32), v4Range('169.254.170.2', 32), v4Range('169.254.169.253', 32)]],
  ['unspecified', [v4Range('0.0.0.0', 8)]],
  ['loopback', [v4Range('127.0.0.0', 8)]],
  ['private', [v4Range('10.0.0.0', 8), v4Range('172.16.0.0', 12), v4Range('192.168.0.0', 16)]],
  ['carrier-grade-nat', [v4Range('100.64.0.0', 10)]],
  ['link-local', [v4Range('169.254.0.0', 16)]],
  ['multicast', [v4Range('224.0.0.0', 4)]],
  // 240/4 (with broadcast), IETF protocol assignments, benchmarking.
  ['reserved', [v4Range('240.0.0.0', 4), v4Range('192.0.0.0', 24), v4Range('198.18.0.0', 15)]],
];

function classifyIPv4(v: number): AddressKind {
  for (const [kind, ranges] of V4_RANGES) {
    if (ranges.some(([first, size]) => v >= first && v < first + size)) return kind;
  }
  return 'public';
}

/** Eight 16-bit groups, or undefined for what is not an IPv6 literal. */
function parseIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  // A trailing dotted quad (::ffff:127.0.0.1) is two groups written the IPv4 way.
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    const v4 = parseIPv4(dotted);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = toGroups(halves[0]);
  const tail = toGroups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 && missing < 1) return undefined;
  const groups = halves.length === 2 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : head;
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g))) return undefined;
  return groups;
}

function classifyIPv6(g: number[]): AddressKind {
  const at = (i: number) => g[i] ?? 0;
  const embeddedV4 = () => at(6) * 65536 + at(7);
  const zeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUntil(8)) return 'unspecified';
  if (zeroUntil(7) && at(7) === 1) return 'loopback';
  // Forms that carry an IPv4 address reach that address (through the host's stack or a translator on the way),
  // so they are judged by it: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT),
  // IPv4-compatible (::a.b.c.d) and NAT64's well-known prefix (64:ff9b::a.b.c.d).
  if (zeroUntil(5) && at(5) === 0xffff) return classifyIPv4(embeddedV4());
  if (zeroUntil(4) && at(4) === 0xffff && at(5) === 0) return classifyIPv4(embeddedV4());
  if (zeroUntil(6)) return classifyIPv4(embeddedV4());
  if (at(0) === 0x64 && at(1) === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIPv4(embeddedV4());
  // NAT64's local-use prefix (64:ff9b:1::/48, RFC 8215): the operator picks a prefix of /48 to /96 inside it, so
  // the IPv4 address may sit at any RFC 6052 position: judged by every position the address is consistent with.
  if (at(0) === 0x64 && at(1) === 0xff9b && at(2) === 0x0001) return worstOf(localUseNat64Candidates(g));
  // Teredo (2001:0::/32): the server's IPv4 in bits 32-63, the client's in the last 32 bits, inverted.
  if (at(0) === 0x2001 && at(1) === 0) return worstOf([at(2) * 65536 + at(3), (embeddedV4() ^ 0xffffffff) >>> 0]);
  // 6to4 (2002:a.b.c.d::/48) carries one too.
  if (at(0) === 0x2002) return classifyIPv4(at(1) * 65536 + at(2));
  // AWS's instance metadata, DNS and time service live in fd00:ec2::/32.
  if (at(0) === 0xfd00 && at(1) === 0x0ec2) return 'metadata';
  if ((at(0) & 0xffc0) === 0xfe80) return 'link-local';
  if ((at(0) & 0xffc0) === 0xfec0) return 'private';
  if ((at(0) & 0xfe00) === 0xfc00) return 'private';
  if ((at(0) & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

/**
 * The most forbidden kind among the IPv4 addresses one address carries: a kind that is never opened (metadata,
 * link-local …) before one that allowPrivateAddresses opens, before public. So a Teredo address whose client is
 * private and whose server is the metadata service is metadata, blocked with or without the flag.
 */
function worstOf(v4s: readonly number[]): AddressKind {
  let worst: AddressKind = 'public';
  for (const v4 of v4s) {
    const kind = classifyIPv4(v4);
    if (kind === 'public') continue;
    if (!OPENED_BY_ALLOW_PRIVATE.has(kind)) return kind;
    worst = kind;
  }
  return worst;
}

/**
 * The IPv4 addresses an address under 64:ff9b:1::/48 may carry, one per RFC 6052 layout it is consistent with.
 * /48, /56 and /64 skip byte 8 (the "u" octet, always zero) and leave a zero suffix; /96 fits any address.
 */
function localUseNat64Candidates(g: readonly number[]): number[] {
  const bytes = g.flatMap((group) => [group >> 8, group & 0xff]);
  const v4 = (...at: number[]) => at.reduce((acc, i) => acc * 256 + (bytes[i] ?? 0), 0);
  const zeroFrom = (i: number) => bytes.slice(i).every((b) => b === 0);
  const candidates: number[] = [];
  if (bytes[8] === 0) {
    if (zeroFrom(11)) candidates.push(v4(6, 7, 9, 10));
    if (zeroFrom(12)) candidates.push(v4(7, 9, 10, 11));
    if (zeroFrom(13)) candidates.push(v4(9, 10, 11, 12));
  }
  candidates.push(v4(12, 13, 14, 15));
  // A layout that reads into 0.0.0.0/8 ("this network", never a translator's destination) is the zero padding of
  // another layout, not an address; it counts only if every layout reads that way.
  const carried = candidates.filter((v) => v >= 2 ** 24);
  return carried.length > 0 ? carried : candidates;
}
