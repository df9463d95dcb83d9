import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Policy, type PolicyEntry, type Direction, parseRule, policyFromObject } from '../../src/policy/index.ts';

const entry = (action: 'allow' | 'deny', directions: Direction[], rule: string): PolicyEntry => ({
  action,
  directions,
  rule: parseRule(rule),
  source: `${action} ${rule}`,
});
const OUT: Direction[] = ['connect', 'send', 'receive'];
const pinned =
  (table: Record<string, string[]>) =>
  (address: string): readonly string[] =>
    table[address] ?? [];

test('deny by default', () => {
  const p = Policy.denyAll();
  assert.deepEqual(p.decide({ direction: 'connect', address: '1.1.1.1', port: 443 }), { allow: false, rule: 'default deny' });
  assert.deepEqual(p.decide({ direction: 'lookup', name: 'a.com' }), { allow: false, rule: 'default deny' });
  const all = Policy.allowAll();
  assert.equal(all.decide({ direction: 'bind', address: '0.0.0.0', port: 80 }).allow, true);
  assert.equal(all.decide({ direction: 'lookup', name: 'a.com' }).allow, true);
});

test('IP, CIDR and port matching', () => {
  const p = new Policy([entry('allow', OUT, '10.0.0.0/8:8000-8999'), entry('allow', OUT, '[2001:db8::1]:443')]);
  assert.equal(p.decide({ direction: 'connect', address: '10.2.3.4', port: 8080 }).rule, 'allow 10.0.0.0/8:8000-8999');
  assert.equal(p.decide({ direction: 'connect', address: '10.2.3.4', port: 9000 }).allow, false);
  assert.equal(p.decide({ direction: 'connect', address: '10.2.3.4' }).allow, false, 'no port: only any-port rules');
  assert.equal(p.decide({ direction: 'connect', address: '11.0.0.1', port: 8080 }).allow, false);
  assert.equal(p.decide({ direction: 'connect', address: '2001:0db8:0:0::1', port: 443 }).allow, true);
  assert.equal(p.decide({ direction: 'bind', address: '10.2.3.4', port: 8080 }).allow, false, 'direction must be granted');
});

test('request addresses are normalised: IPv4-mapped matches IPv4 rules', () => {
  const p = new Policy([entry('allow', OUT, '10.0.0.1:80')]);
  assert.equal(p.decide({ direction: 'connect', address: '::ffff:10.0.0.1', port: 80 }).allow, true);
  assert.equal(p.decide({ direction: 'connect', address: '::ffff:a00:1', port: 80 }).allow, true);
  assert.equal(p.decide({ direction: 'connect', address: 'not-an-ip', port: 80 }).allow, false);
});

test('unspecified connect targets are judged as loopback', () => {
  const p = new Policy([entry('allow', OUT, '127.0.0.1:8080'), entry('allow', OUT, '[::1]:9090')]);
  assert.equal(p.decide({ direction: 'connect', address: '0.0.0.0', port: 8080 }).allow, true);
  assert.equal(p.decide({ direction: 'send', address: '::', port: 9090 }).allow, true);
  assert.equal(p.decide({ direction: 'connect', address: '::', port: 8080 }).allow, false, ':: is ::1, not 127.0.0.1');
  const denyLo = new Policy([entry('allow', OUT, '*'), entry('deny', OUT, '127.0.0.0/8')]);
  assert.equal(denyLo.decide({ direction: 'connect', address: '0.0.0.0', port: 1 }).allow, false);
});

test('binding all interfaces needs a grant for exactly that', () => {
  const lo = new Policy([entry('allow', ['bind', 'listen'], '127.0.0.1:8080'), entry('allow', ['bind'], '0.0.0.0/8')]);
  assert.equal(lo.decide({ direction: 'bind', address: '127.0.0.1', port: 8080 }).allow, true);
  assert.equal(lo.decide({ direction: 'bind', address: '0.0.0.0', port: 8080 }).allow, false);
  assert.equal(lo.decide({ direction: 'listen', address: '0.0.0.0', port: 8080 }).allow, false);
  for (const rule of ['*:8080', '0.0.0.0:8080', '0.0.0.0/0:8080']) {
    const p = new Policy([entry('allow', ['bind'], rule)]);
    assert.equal(p.decide({ direction: 'bind', address: '0.0.0.0', port: 8080 }).allow, true, rule);
    assert.equal(p.decide({ direction: 'bind', address: '0.0.0.0', port: 8081 }).allow, false, rule);
  }
  const v6 = new Policy([entry('allow', ['bind'], '[::]:80')]);
  assert.equal(v6.decide({ direction: 'bind', address: '::', port: 80 }).allow, true);
  assert.equal(v6.decide({ direction: 'bind', address: '0.0.0.0', port: 80 }).allow, false);
  // Host-name rules never grant all interfaces, even with a pin.
  const named = new Policy([entry('allow', ['bind'], 'localhost:80')]);
  assert.equal(named.decide({ direction: 'bind', address: '0.0.0.0', port: 80 }, pinned({ '0.0.0.0': ['localhost'] })).allow, false);
});

test('deny wins over every allow, whatever the order', () => {
  const p = new Policy([entry('allow', OUT, '*'), entry('deny', OUT, '10.0.0.0/8')]);
  assert.deepEqual(p.decide({ direction: 'connect', address: '10.1.1.1', port: 1 }), { allow: false, rule: 'deny 10.0.0.0/8' });
  assert.deepEqual(p.decide({ direction: 'connect', address: '8.8.8.8', port: 1 }), { allow: true, rule: 'allow *' });

  const names = new Policy([entry('allow', [...OUT, 'lookup'], '*.example.com'), entry('deny', [...OUT, 'lookup'], 'bad.example.com')]);
  assert.equal(names.decide({ direction: 'lookup', name: 'good.example.com' }).allow, true);
  assert.deepEqual(names.decide({ direction: 'lookup', name: 'BAD.example.com.' }), { allow: false, rule: 'deny bad.example.com' });
  // The deny also covers the addresses pinned for that name.
  const pins = pinned({ '192.0.2.1': ['bad.example.com'], '192.0.2.2': ['good.example.com'] });
  assert.deepEqual(names.decide({ direction: 'connect', address: '192.0.2.1', port: 443 }, pins), {
    allow: false,
    rule: 'deny bad.example.com',
    name: 'bad.example.com',
  });
  assert.deepEqual(names.decide({ direction: 'connect', address: '192.0.2.2', port: 443 }, pins), {
    allow: true,
    rule: 'allow *.example.com',
    name: 'good.example.com',
  });
});

test('first matching allow decides', () => {
  const p = new Policy([entry('allow', OUT, '10.0.0.0/8'), entry('allow', OUT, '10.0.0.1')]);
  assert.equal(p.decide({ direction: 'connect', address: '10.0.0.1', port: 1 }).rule, 'allow 10.0.0.0/8');
});

test('wildcards match names strictly below the suffix', () => {
  const p = new Policy([entry('allow', ['lookup'], '*.example.com')]);
  assert.equal(p.decide({ direction: 'lookup', name: 'a.example.com' }).allow, true);
  assert.equal(p.decide({ direction: 'lookup', name: 'a.b.example.com' }).allow, true);
  assert.equal(p.decide({ direction: 'lookup', name: 'example.com' }).allow, false);
  assert.equal(p.decide({ direction: 'lookup', name: 'badexample.com' }).allow, false);
  assert.equal(p.decide({ direction: 'lookup', name: '.example.com' }).allow, false);
});

test('host-name rules match an address only through its pinned names', () => {
  const p = new Policy([entry('allow', OUT, 'example.com:443')]);
  const req = { direction: 'connect' as const, address: '93.184.216.34', port: 443 };
  assert.deepEqual(p.decide(req), { allow: false, rule: 'default deny' });
  assert.deepEqual(p.decide(req, pinned({ '93.184.216.34': ['other.com', 'example.com'] })), {
    allow: true,
    rule: 'allow example.com:443',
    name: 'example.com',
  });
  assert.equal(p.decide({ ...req, port: 80 }, pinned({ '93.184.216.34': ['example.com'] })).allow, false);
  // namesFor is asked with the normalised address.
  const asked: string[] = [];
  p.decide({ ...req, address: '::ffff:5db8:d822' }, (a) => (asked.push(a), []));
  assert.deepEqual(asked, ['93.184.216.34']);
});

test('lookups: name rules only, port ignored, host-name grants imply lookup', () => {
  const p = new Policy([
    entry('allow', ['connect'], 'example.com:443'),
    entry('allow', [...OUT, 'lookup'], '10.0.0.0/8'),
    entry('allow', ['bind'], '*:80'),
  ]);
  assert.deepEqual(p.decide({ direction: 'lookup', name: 'Example.com.' }), { allow: true, rule: 'allow example.com:443' });
  assert.equal(p.decide({ direction: 'lookup', name: '10.1.2.3' }).allow, false, 'IP rules never match lookups');
  assert.equal(p.decide({ direction: 'lookup', name: 'other.com' }).allow, false, '* in a bind grant is not a lookup grant');
});

test('allow-lookup grants lookup but not connect', () => {
  const p = policyFromObject({ 'allow-lookup': ['example.com'] }, 'cfg');
  assert.deepEqual(p.decide({ direction: 'lookup', name: 'example.com' }), { allow: true, rule: 'cfg allow-lookup[0]' });
  assert.equal(p.decide({ direction: 'connect', address: '1.2.3.4', port: 443 }, () => ['example.com']).allow, false);
});
