// The SSRF guard's address rules, one row per range, with and without allowPrivateAddresses.
import { describe, expect, it } from 'vitest';
import { checkAddress, classifyAddress } from '../../lambda/probe/address-guard';

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
