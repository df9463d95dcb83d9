import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cidrContains,
  isLoopback,
  isUnspecified,
  normalizeAddress,
  parseCidr,
  parseHostname,
  parseIP,
} from '../../src/policy/index.ts';

test('IPv4 literals: strict dotted quad', () => {
  assert.equal(normalizeAddress('192.168.1.20'), '192.168.1.20');
  assert.equal(normalizeAddress('0.0.0.0'), '0.0.0.0');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '']) {
    assert.equal(normalizeAddress(bad), null, bad);
  }
});

test('IPv6 literals: compressed, lower-case, brackets and zone stripped', () => {
  assert.equal(normalizeAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(normalizeAddress('[2001:db8::1]'), '2001:db8::1');
  assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
  assert.equal(normalizeAddress('0:0:0:0:0:0:0:0'), '::');
  assert.equal(normalizeAddress('0:0:0:0:0:0:0:1'), '::1');
  // Longest zero run is compressed; a single zero group is not.
  assert.equal(normalizeAddress('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(normalizeAddress('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
  for (const bad of ['1:2:3:4:5:6:7', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '[::1', 'fe80::1%']) {
    assert.equal(normalizeAddress(bad), null, bad);
  }
});

test('IPv4-mapped IPv6 folds to IPv4 in both spellings', () => {
  assert.equal(normalizeAddress('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(normalizeAddress('::ffff:a00:1'), '10.0.0.1');
  assert.equal(normalizeAddress('[::FFFF:0A00:0001]'), '10.0.0.1');
  assert.deepEqual(parseIP('::ffff:a00:1'), { family: 4, value: 0x0a000001n });
  // IPv4-compatible (deprecated) is not mapped and stays IPv6.
  assert.equal(normalizeAddress('::1.2.3.4'), '::102:304');
});

test('isUnspecified / isLoopback', () => {
  assert.ok(isUnspecified('0.0.0.0'));
  assert.ok(isUnspecified('::'));
  assert.ok(isUnspecified('::ffff:0.0.0.0'));
  assert.ok(!isUnspecified('0.0.0.1'));
  assert.ok(isLoopback('127.0.0.1'));
  assert.ok(isLoopback('127.255.0.9'));
  assert.ok(isLoopback('::1'));
  assert.ok(isLoopback('::ffff:127.0.0.1'));
  assert.ok(!isLoopback('128.0.0.1'));
  assert.ok(!isLoopback('::2'));
  assert.ok(!isLoopback('localhost'));
});

test('CIDR parse and match', () => {
  const net8 = parseCidr('10.0.0.0/8');
  assert.ok(cidrContains(net8, parseIP('10.255.1.2')!));
  assert.ok(!cidrContains(net8, parseIP('11.0.0.0')!));
  assert.ok(cidrContains(net8, parseIP('::ffff:10.9.9.9')!));
  const v6 = parseCidr('fd00::/8');
  assert.ok(cidrContains(v6, parseIP('fd12:3456::1')!));
  assert.ok(!cidrContains(v6, parseIP('fe80::1')!));
  assert.ok(!cidrContains(v6, parseIP('10.0.0.1')!), 'families never cross');
  const all = parseCidr('0.0.0.0/0');
  assert.ok(cidrContains(all, parseIP('8.8.8.8')!));
  const host = parseCidr('192.0.2.7/32');
  assert.ok(cidrContains(host, parseIP('192.0.2.7')!));
  assert.ok(!cidrContains(host, parseIP('192.0.2.6')!));
  // A mapped network folds to the IPv4 network it covers.
  assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), parseCidr('10.0.0.0/8'));
});

test('CIDR errors give the reason', () => {
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix length must be 0-32/);
  assert.throws(() => parseCidr('fd00::/129'), /prefix length must be 0-128/);
  assert.throws(() => parseCidr('10.0.0.0/'), /prefix length/);
  assert.throws(() => parseCidr('10.0.0.0/x'), /prefix length/);
  assert.throws(() => parseCidr('10.0.0.1/8'), /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/);
  assert.throws(() => parseCidr('10.0.0/8'), /not a valid IPv4 address/);
});

test('host names: lower-case, trailing dot, label syntax', () => {
  assert.equal(parseHostname('Example.COM.'), 'example.com');
  assert.equal(parseHostname('localhost'), 'localhost');
  assert.equal(parseHostname('_srv._tcp.example.com'), '_srv._tcp.example.com');
  assert.equal(parseHostname('bücher.example'), 'xn--bcher-kva.example');
  assert.throws(() => parseHostname('-a.com'), /bad host name label "-a"/);
  assert.throws(() => parseHostname('a..com'), /empty label/);
  assert.throws(() => parseHostname('a b.com'), /bad host name label "a b"/);
  assert.throws(() => parseHostname('x'.repeat(64) + '.com'), /bad host name label/);
  assert.throws(() => parseHostname('10.0.0.300'), /not a valid IP address or host name/);
});
