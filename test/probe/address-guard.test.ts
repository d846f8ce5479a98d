// The SSRF guard's address rules, one row per range, with and without allowPrivateAddresses.
import { describe, expect, it } from 'vitest';
import { checkAddress, classifyAddress, literalAddressKind, refusalFix } from '../../lambda/probe/address-guard';

describe('classifyAddress', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.254', 'carrier-grade-nat'],
    ['100.128.0.1', 'public'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'invalid'],
    ['1.2.3', 'invalid'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('IPv6 forms that carry an IPv4 address are judged by that address', () => {
  // [address, form, kind]: each form with a loopback, a private or metadata, and a public IPv4 inside.
  it.each([
    ['::ffff:7f00:1', 'IPv4-mapped', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped, written out', 'loopback'],
    ['::ffff:8.8.8.8', 'IPv4-mapped', 'public'],
    ['::ffff:0:7f00:1', 'IPv4-translated (SIIT)', 'loopback'],
    ['::ffff:0:169.254.169.254', 'IPv4-translated (SIIT)', 'metadata'],
    ['::ffff:0:808:808', 'IPv4-translated (SIIT)', 'public'],
    ['::7f00:1', 'IPv4-compatible', 'loopback'],
    ['::10.0.0.1', 'IPv4-compatible', 'private'],
    ['::8.8.8.8', 'IPv4-compatible', 'public'],
    ['64:ff9b::7f00:1', 'NAT64 well-known prefix', 'loopback'],
    ['64:ff9b::10.0.0.1', 'NAT64 well-known prefix', 'private'],
    ['64:ff9b::8.8.8.8', 'NAT64 well-known prefix', 'public'],
    ['64:ff9b:1::7f00:1', 'NAT64 local-use, /96 layout', 'loopback'],
    ['64:ff9b:1::a9fe:a9fe', 'NAT64 local-use, /96 layout', 'metadata'],
    ['64:ff9b:1:abcd:0:1:808:808', 'NAT64 local-use, /96 layout under a longer prefix', 'public'],
    ['64:ff9b:1:7f00:0:100::', 'NAT64 local-use, /48 layout (u octet skipped)', 'loopback'],
    ['64:ff9b:1:a9fe:a9:fe00::', 'NAT64 local-use, /48 layout', 'metadata'],
    ['64:ff9b:1:808:8:800::', 'NAT64 local-use, /48 layout', 'public'],
    ['64:ff9b:1:ff0a:0:1::', 'NAT64 local-use, /56 layout', 'private'],
    ['64:ff9b:1:ffff:a:0:100:0', 'NAT64 local-use, /64 layout', 'private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo, client 127.0.0.1 (inverted in the last 32 bits)', 'loopback'],
    ['2001:0:a00:1:8000:63bf:3fff:fdd2', 'Teredo, server 10.0.0.1', 'private'],
    ['2001:0:a9fe:a9fe::f5ff:fffe', 'Teredo, server metadata and client private: the never-allowed one wins', 'metadata'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo, RFC 4380 example (public server and client)', 'public'],
    ['2002:7f00:1::', '6to4', 'loopback'],
    ['2002:a00:1::1', '6to4', 'private'],
    ['2002:808:808::1', '6to4', 'public'],
  ])('%s (%s) is %s', (address, _form, kind) => {
    expect(classifyAddress(address)).toBe(kind);
    expect(classifyAddress(`[${address}]`)).toBe(kind);
  });

  it('keeps the metadata service blocked through every form, even with allowPrivateAddresses', () => {
    for (const address of ['::ffff:a9fe:a9fe', '::ffff:0:a9fe:a9fe', '::a9fe:a9fe', '64:ff9b::a9fe:a9fe', '64:ff9b:1::a9fe:a9fe', '2001:0:a9fe:a9fe::1', '2002:a9fe:a9fe::']) {
      expect(checkAddress(address, true), address).toEqual({ allowed: false, kind: 'metadata' });
    }
  });
});

describe('checkAddress', () => {
  it('allows only public addresses by default', () => {
    expect(checkAddress('93.184.216.34', false).allowed).toBe(true);
    for (const address of ['127.0.0.1', '10.0.0.1', '100.64.0.1', 'fc00::1', '::ffff:192.168.0.1', '169.254.169.254', '0.0.0.0']) {
      expect(checkAddress(address, false).allowed, address).toBe(false);
    }
  });

  it('opens loopback, private and carrier-grade NAT with allowPrivateAddresses, but never metadata, link-local, unspecified or multicast', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '192.168.0.1', 'fd12::1', '100.64.0.1', '::ffff:127.0.0.1']) {
      expect(checkAddress(address, true).allowed, address).toBe(true);
    }
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '169.254.10.10', 'fe80::1', '0.0.0.0', '::', '239.1.1.1']) {
      expect(checkAddress(address, true).allowed, address).toBe(false);
    }
  });
});

describe('literalAddressKind: what a configured host is before any lookup', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['localhost', 'loopback'],
    ['LOCALHOST.', 'loopback'],
    ['api.localhost', 'loopback'],
    ['10.0.0.7', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fe80::1%eth0', 'link-local'],
    ['93.184.216.34', 'public'],
  ])('%s is %s', (host, kind) => {
    expect(literalAddressKind(host)).toBe(kind);
  });

  it.each(['api.us.acme.example', 'localhost.acme.example', 'my-localhost'])('%s is a name: judged when a probe resolves it', (host) => {
    expect(literalAddressKind(host)).toBeUndefined();
  });
});

describe('refusalFix: the end of every sentence about a refusal', () => {
  it('names the key for what it opens, the hosts the config names for a redirect, and nothing for what no setting opens', () => {
    expect(refusalFix('loopback', false, true)).toBe('set probing.allowPrivateAddresses to true to probe it');
    expect(refusalFix('private', true, true)).toBeUndefined();
    expect(refusalFix('private', true, false)).toBe('probing.allowPrivateAddresses opens private addresses only for the hosts the config names');
    expect(refusalFix('private', false, false)).toBe('probing.allowPrivateAddresses opens private addresses only for the hosts the config names');
    expect(refusalFix('metadata', true, true)).toBe("no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses");
    expect(refusalFix('link-local', true, true)).toBe('no setting allows a link-local address, not even probing.allowPrivateAddresses');
    expect(refusalFix('public', false, false)).toBeUndefined();
  });

  it('agrees with checkAddress on every kind: a fix exactly when the guard refuses a configured host', () => {
    const samples = ['8.8.8.8', '127.0.0.1', '10.1.2.3', '100.64.0.1', '169.254.169.254', '169.254.1.1', '0.0.0.0', '224.0.0.1', '240.0.0.1'];
    for (const address of samples) {
      for (const allow of [false, true]) {
        expect(refusalFix(classifyAddress(address), allow, true) !== undefined, `${address} ${allow}`).toBe(!checkAddress(address, allow).allowed);
      }
    }
  });
});
