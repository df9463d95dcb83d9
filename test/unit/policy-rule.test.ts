import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyError, parseRule, parseRules } from '../../src/policy/index.ts';

test('IPv4 host, default ports are any', () => {
  const r = parseRule('10.0.0.1');
  assert.deepEqual(r, { text: '10.0.0.1', host: { kind: 'ip', ip: { family: 4, value: 0x0a000001n } }, ports: null });
});

test('bracketed IPv6 with port; IPv4-mapped folds', () => {
  const r = parseRule('[2001:DB8::1]:443');
  assert.deepEqual(r.host, { kind: 'ip', ip: { family: 6, value: 0x20010db8000000000000000000000001n } });
  assert.deepEqual(r.ports, { lo: 443, hi: 443 });
  assert.deepEqual(parseRule('[::ffff:10.0.0.1]').host, parseRule('10.0.0.1').host);
});

test('CIDR v4 and v6 (both bracket spellings)', () => {
  const v4 = parseRule('10.0.0.0/8:80');
  assert.equal(v4.host.kind, 'cidr');
  assert.deepEqual(v4.host.kind === 'cidr' && v4.host.cidr.prefix, 8);
  const a = parseRule('[fd00::/8]:53');
  const b = parseRule('[fd00::]/8:53');
  assert.deepEqual(a.host, b.host);
  assert.deepEqual(a.ports, { lo: 53, hi: 53 });
  assert.ok(a.host.kind === 'cidr' && a.host.cidr.family === 6 && a.host.cidr.prefix === 8);
});

test('host names, wildcards and *', () => {
  assert.deepEqual(parseRule('API.Example.com.:443').host, { kind: 'name', name: 'api.example.com' });
  assert.deepEqual(parseRule('*.example.com').host, { kind: 'wildcard', suffix: '.example.com' });
  assert.deepEqual(parseRule('*'), { text: '*', host: { kind: 'any' }, ports: null });
  assert.deepEqual(parseRule('*:53').ports, { lo: 53, hi: 53 });
});

test('ports: single, range, *, 0 and 65535', () => {
  assert.deepEqual(parseRule('a.com:8000-8999').ports, { lo: 8000, hi: 8999 });
  assert.equal(parseRule('a.com:*').ports, null);
  assert.deepEqual(parseRule('a.com:0').ports, { lo: 0, hi: 0 });
  assert.deepEqual(parseRule('a.com:65535').ports, { lo: 65535, hi: 65535 });
  assert.deepEqual(parseRule('a.com:7-7').ports, { lo: 7, hi: 7 });
});

test('lists split on commas and trim', () => {
  const rs = parseRules('a.com:443, 10.0.0.0/8 ,[::1]');
  assert.deepEqual(rs.map((r) => r.text), ['a.com:443', '10.0.0.0/8', '[::1]']);
});

function rejects(token: string, reason: RegExp) {
  assert.throws(
    () => parseRule(token, '--allow-net'),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError, `PolicyError for ${token}`);
      assert.ok(e.message.startsWith(`invalid rule "${token.trim()}" in --allow-net: `), e.message);
      assert.match(e.message, reason);
      return true;
    },
  );
}

test('errors quote the token and say what was expected', () => {
  rejects('10.0.0.0/33', /prefix length must be 0-32$/);
  rejects('[fd00::/200]', /prefix length must be 0-128/);
  rejects('a.com:65536', /port must be 0-65535/);
  rejects('a.com:http', /bad port "http" \(expected a port, a range like 8000-8999, or \*\)/);
  rejects('a.com:', /missing port/);
  rejects('a.com:9000-8000', /reversed/);
  rejects('fd00::1', /IPv6 addresses must be in brackets/);
  rejects('::1:443', /IPv6 addresses must be in brackets/);
  rejects('', /empty rule/);
  rejects('   ', /empty rule/);
  rejects('exa$mple.com', /bad host name label "exa\$mple"/);
  rejects('foo.*.com', /"\*" is only allowed/);
  rejects('*example.com', /"\*" is only allowed/);
  rejects('1.2.3.256', /not a valid IPv4 address/);
  rejects('[10.0.0.1]', /brackets are only for IPv6/);
  rejects('[fe80::1%eth0]', /zone IDs/);
  rejects('[::1', /missing "\]"/);
  rejects('[::1]443', /expected ":ports" after "\]"/);
  rejects(':443', /missing host/);
  rejects('10.0.0.1/8', /host bits are set/);
});

test('an error in a list names the bad token, not the list', () => {
  assert.throws(() => parseRules('a.com,,b.com', '--allow-net'), /^PolicyError: invalid rule "" in --allow-net: empty rule/);
  assert.throws(() => parseRules('a.com,b.com:99999', '--allow-net'), /invalid rule "b\.com:99999"/);
});
