import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PolicyBuilder, PolicyError, buildPolicy, parsePolicyFlag, policyFromObject, readPolicyFile } from '../../src/policy/index.ts';

const build = (...flags: [string, string?][]) => {
  const b = new PolicyBuilder();
  for (const [n, v] of flags) b.flag(n, v);
  return b.build();
};

test('--allow-net with no value allows everything, every direction', () => {
  const p = build(['--allow-net']);
  for (const direction of ['bind', 'listen', 'accept', 'connect', 'send', 'receive'] as const) {
    assert.deepEqual(p.decide({ direction, address: '0.0.0.0', port: 1 }), { allow: true, rule: '--allow-net' });
  }
  assert.equal(p.decide({ direction: 'lookup', name: 'x.org' }).allow, true);
});

test('--allow-net=RULES: connect/send/receive, lookup for names, one source per rule', () => {
  const p = build(['--allow-net', 'example.com:443,10.0.0.0/8']);
  assert.deepEqual(p.decide({ direction: 'lookup', name: 'example.com' }), { allow: true, rule: '--allow-net=example.com:443' });
  for (const direction of ['connect', 'send', 'receive'] as const) {
    assert.deepEqual(p.decide({ direction, address: '10.9.9.9', port: 5 }), { allow: true, rule: '--allow-net=10.0.0.0/8' });
  }
  assert.equal(p.decide({ direction: 'bind', address: '10.9.9.9', port: 5 }).allow, false);
  assert.equal(p.decide({ direction: 'accept', address: '10.9.9.9', port: 5 }).allow, false);
  assert.equal(build(['--allow-net', '*:443']).decide({ direction: 'lookup', name: 'any.org' }).allow, true);
  assert.equal(build(['--allow-net', '10.0.0.0/8']).decide({ direction: 'lookup', name: 'any.org' }).allow, false);
});

test('--allow-listen: bind+listen on its addresses, accept from anyone', () => {
  const p = build(['--allow-listen', '127.0.0.1:8080']);
  assert.equal(p.decide({ direction: 'bind', address: '127.0.0.1', port: 8080 }).allow, true);
  assert.equal(p.decide({ direction: 'listen', address: '127.0.0.1', port: 8080 }).allow, true);
  assert.equal(p.decide({ direction: 'bind', address: '0.0.0.0', port: 8080 }).allow, false);
  assert.deepEqual(p.decide({ direction: 'accept', address: '203.0.113.5', port: 51000 }), {
    allow: true,
    rule: '--allow-listen=127.0.0.1:8080',
  });
  assert.equal(p.decide({ direction: 'connect', address: '127.0.0.1', port: 8080 }).allow, false);
});

test('--allow-accept narrows accept, in either flag order', () => {
  for (const flags of [
    [['--allow-listen', '*:8080'], ['--allow-accept', '10.0.0.0/8']],
    [['--allow-accept', '10.0.0.0/8'], ['--allow-listen', '*:8080']],
  ] as [string, string][][]) {
    const p = build(...flags);
    assert.equal(p.decide({ direction: 'bind', address: '0.0.0.0', port: 8080 }).allow, true);
    assert.deepEqual(p.decide({ direction: 'accept', address: '10.1.1.1', port: 4000 }), { allow: true, rule: '--allow-accept=10.0.0.0/8' });
    assert.deepEqual(p.decide({ direction: 'accept', address: '192.0.2.1', port: 4000 }), { allow: false, rule: 'default deny' });
  }
  // --allow-accept alone grants nothing else.
  const only = build(['--allow-accept', '*']);
  assert.equal(only.decide({ direction: 'accept', address: '192.0.2.1', port: 1 }).allow, true);
  assert.equal(only.decide({ direction: 'bind', address: '127.0.0.1', port: 1 }).allow, false);
  assert.equal(only.decide({ direction: 'connect', address: '192.0.2.1', port: 1 }).allow, false);
});

test('--allow-lookup: names only, no ports', () => {
  const p = build(['--allow-lookup', '*.internal,db.example.com']);
  assert.equal(p.decide({ direction: 'lookup', name: 'a.internal' }).allow, true);
  assert.equal(p.decide({ direction: 'connect', address: '10.0.0.1', port: 5432 }, () => ['db.example.com']).allow, false);
  assert.throws(() => parsePolicyFlag('--allow-lookup', '10.0.0.1'), /invalid rule "10\.0\.0\.1" in --allow-lookup: .*not IP addresses/);
  assert.throws(() => parsePolicyFlag('--allow-lookup', 'a.com:53'), /invalid rule "a\.com:53" in --allow-lookup: .*without ports/);
});

test('--deny-net denies every direction, lookups too', () => {
  const p = build(['--allow-net'], ['--deny-net', 'evil.com,192.0.2.0/24']);
  assert.deepEqual(p.decide({ direction: 'lookup', name: 'evil.com' }), { allow: false, rule: '--deny-net=evil.com' });
  assert.deepEqual(p.decide({ direction: 'accept', address: '192.0.2.9', port: 1 }), { allow: false, rule: '--deny-net=192.0.2.0/24' });
  assert.equal(p.decide({ direction: 'lookup', name: 'fine.com' }).allow, true);
});

test('flag errors', () => {
  assert.throws(() => parsePolicyFlag('--allow-listen', undefined), /--allow-listen needs a value/);
  assert.throws(() => parsePolicyFlag('--deny-net', undefined), /--deny-net needs a value/);
  assert.throws(() => parsePolicyFlag('--allow-net', ''), /invalid rule "" in --allow-net: empty rule/);
  assert.throws(() => parsePolicyFlag('--allow-nett', 'x'), (e) => e instanceof PolicyError && /unknown policy flag "--allow-nett"/.test(e.message));
  assert.throws(() => parsePolicyFlag('--allow-net', 'a.com:1,10.0.0.0/33'), /invalid rule "10\.0\.0\.0\/33" in --allow-net: prefix length must be 0-32/);
});

const dir = mkdtempSync(join(tmpdir(), 'wasinet-policy-'));
const writePolicy = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};

test('policy file: all keys, sources name file, key and index', () => {
  const path = writePolicy('ok.json', {
    'allow-net': ['example.com:443', '10.0.0.0/8'],
    'allow-listen': ['127.0.0.1:8080'],
    'allow-lookup': ['*.corp'],
    'deny-net': ['10.6.6.6'],
    rules: [{ action: 'allow', directions: ['send', 'receive'], rules: ['[fd00::/8]:53'] }],
  });
  const p = buildPolicy(readPolicyFile(path));
  assert.deepEqual(p.decide({ direction: 'connect', address: '10.1.1.1', port: 1 }), { allow: true, rule: `${path} allow-net[1]` });
  assert.deepEqual(p.decide({ direction: 'connect', address: '10.6.6.6', port: 1 }), { allow: false, rule: `${path} deny-net[0]` });
  assert.deepEqual(p.decide({ direction: 'send', address: 'fd00::5', port: 53 }), { allow: true, rule: `${path} rules[0].rules[0]` });
  assert.equal(p.decide({ direction: 'connect', address: 'fd00::5', port: 53 }).allow, false);
  assert.equal(p.decide({ direction: 'accept', address: '1.2.3.4', port: 1 }).rule, `${path} allow-listen`);
  assert.equal(p.decide({ direction: 'lookup', name: 'x.corp' }).allow, true);
  // --policy FILE through the flag path gives the same entries.
  assert.deepEqual(parsePolicyFlag('--policy', path), readPolicyFile(path));
});

test('policy file: allow-net true/false, rules group with accept narrows', () => {
  assert.equal(policyFromObject({ 'allow-net': true }).decide({ direction: 'bind', address: '::', port: 1 }).allow, true);
  assert.equal(policyFromObject({ 'allow-net': false }).decide({ direction: 'connect', address: '1.1.1.1', port: 1 }).allow, false);
  const p = policyFromObject({ 'allow-listen': ['*:80'], rules: [{ action: 'allow', directions: ['accept'], rules: ['10.0.0.0/8'] }] });
  assert.equal(p.decide({ direction: 'accept', address: '192.0.2.1', port: 1 }).allow, false);
  assert.equal(p.decide({ direction: 'accept', address: '10.0.0.2', port: 1 }).allow, true);
});

test('policy file errors name the file, the key and the token', () => {
  const cases: [unknown, RegExp][] = [
    [{ 'allow-nett': [] }, /: unknown key "allow-nett" \(expected allow-net, /],
    [{ 'allow-net': 'example.com' }, / allow-net: expected true, false or a list of rule strings, got string/],
    [{ 'allow-listen': true }, / allow-listen: expected a list of rule strings, got boolean/],
    [{ 'allow-accept': [] }, / allow-accept: empty list/],
    [{ 'deny-net': ['ok.com', 5] }, / deny-net\[1\]: expected a rule string, got number/],
    [{ 'allow-net': ['ok.com', '10.0.0.0/33'] }, /invalid rule "10\.0\.0\.0\/33" in \S+ allow-net\[1\]: prefix length must be 0-32/],
    [{ rules: [{ action: 'allow', directions: ['sned'], rules: ['a.com'] }] }, / rules\[0\]\.directions\[0\]: unknown direction "sned" \(expected one of bind, /],
    [{ rules: [{ action: 'permit', directions: ['send'], rules: ['a.com'] }] }, / rules\[0\]\.action: expected "allow" or "deny", got "permit"/],
    [{ rules: [{ action: 'deny', directions: [], rules: ['a.com'] }] }, / rules\[0\]\.directions: expected a non-empty list/],
    [{ rules: [{ action: 'deny', directions: ['send'], rule: ['a.com'] }] }, / rules\[0\]: unknown key "rule"/],
    [{ rules: {} }, / rules: expected a list/],
    [['allow-net'], /expected a JSON object/],
  ];
  cases.forEach(([body, re], i) => {
    const path = writePolicy(`bad${i}.json`, body);
    assert.throws(
      () => readPolicyFile(path),
      (e: unknown) => e instanceof PolicyError && e.message.includes(path) && re.test(e.message),
      `case ${i}: ${JSON.stringify(body)}`,
    );
  });
  const broken = writePolicy('broken.json', '{"allow-net": [');
  assert.throws(() => readPolicyFile(broken), (e: unknown) => e instanceof PolicyError && e.message.startsWith(`${broken}: invalid JSON`));
  assert.throws(() => readPolicyFile(join(dir, 'missing.json')), /missing\.json: cannot read policy file/);
});
