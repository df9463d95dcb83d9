import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import {
  type Decision,
  type Request,
  Checker,
  FileAuditLog,
  MemoryAuditLog,
  PolicyBuilder,
} from '../../src/policy/index.ts';

const policy = () => new PolicyBuilder().flag('--allow-net', 'example.com:443').flag('--deny-net', 'blocked.example.com').build();

test('pins grant host-name rules to looked-up addresses until they expire', () => {
  let now = 1_000_000;
  const c = new Checker(policy(), { guest: 'g', now: () => now });
  const req: Request = { direction: 'connect', transport: 'tcp', address: '93.184.216.34', port: 443 };
  assert.deepEqual(c.check(req), { allow: false, rule: 'default deny' });
  c.pin('Example.COM.', ['93.184.216.34', '::FFFF:5db8:d823', 'garbage'], 30_000);
  assert.deepEqual(c.check(req), { allow: true, rule: '--allow-net=example.com:443', name: 'example.com' });
  assert.equal(c.check({ ...req, address: '93.184.216.35' }).allow, true, 'mapped pin address folded');
  assert.equal(c.check({ ...req, address: '93.184.216.36' }).allow, false, 'unpinned address');
  now += 29_999;
  assert.equal(c.check(req).allow, true);
  now += 1;
  assert.deepEqual(c.check(req), { allow: false, rule: 'default deny' });
  // A fresh lookup pins it again.
  c.pin('example.com', ['93.184.216.34'], 1000);
  assert.equal(c.check(req).allow, true);
});

test('a denied name denies its pinned addresses', () => {
  const c = new Checker(policy(), { guest: 'g', now: () => 0 });
  c.pin('blocked.example.com', ['198.51.100.1'], 1000);
  c.pin('example.com', ['198.51.100.1'], 1000);
  assert.deepEqual(c.check({ direction: 'connect', address: '198.51.100.1', port: 443 }), {
    allow: false,
    rule: '--deny-net=blocked.example.com',
    name: 'blocked.example.com',
  });
});

test('onDeny is called for denials only', () => {
  const denied: [Request, Decision][] = [];
  const c = new Checker(policy(), { guest: 'g', onDeny: (r, d) => denied.push([r, d]) });
  c.check({ direction: 'lookup', name: 'example.com' });
  const req: Request = { direction: 'connect', address: '1.1.1.1', port: 443 };
  c.check(req);
  assert.equal(denied.length, 1);
  assert.equal(denied[0]![0], req);
  assert.deepEqual(denied[0]![1], { allow: false, rule: 'default deny' });
});

test('memory audit: one event per decision with the deciding rule', () => {
  const audit = new MemoryAuditLog();
  const c = new Checker(policy(), { guest: 'web-1', audit, now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });
  c.check({ direction: 'lookup', name: 'Example.com.' });
  c.pin('example.com', ['93.184.216.34'], 1000);
  c.check({ direction: 'connect', transport: 'tcp', address: '::ffff:93.184.216.34', port: 443 });
  c.check({ direction: 'send', transport: 'udp', address: '8.8.8.8', port: 53 });
  assert.deepEqual(audit.events, [
    { time: '2025-01-02T03:04:05.000Z', guest: 'web-1', op: 'lookup', name: 'example.com', decision: 'allow', rule: '--allow-net=example.com:443' },
    {
      time: '2025-01-02T03:04:05.000Z',
      guest: 'web-1',
      op: 'connect',
      transport: 'tcp',
      address: '93.184.216.34',
      port: 443,
      name: 'example.com',
      decision: 'allow',
      rule: '--allow-net=example.com:443',
    },
    // datagram lines are summed up (see the test below); the first of a kind stands for one
    { time: '2025-01-02T03:04:05.000Z', guest: 'web-1', op: 'send', transport: 'udp', address: '8.8.8.8', port: 53, decision: 'deny', rule: 'default deny', count: 1 },
  ]);
});

test('file audit: one parseable JSON line per decision, appended', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wasinet-audit-')), 'audit.jsonl');
  const first = new FileAuditLog(path);
  const c = new Checker(policy(), { guest: 'g1', audit: first });
  c.check({ direction: 'lookup', name: 'example.com' });
  c.check({ direction: 'connect', address: '1.2.3.4', port: 80 });
  // Written synchronously: visible before close.
  assert.equal(readFileSync(path, 'utf8').split('\n').length, 3);
  first.close();
  assert.throws(() => first.record({ time: '', guest: '', op: 'send', decision: 'deny', rule: '' }), /closed/);
  const second = new FileAuditLog(path);
  new Checker(policy(), { guest: 'g2', audit: second }).check({ direction: 'lookup', name: 'blocked.example.com' });
  second.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  const events = lines.map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => [e.guest, e.op, e.decision, e.rule]),
    [
      ['g1', 'lookup', 'allow', '--allow-net=example.com:443'],
      ['g1', 'connect', 'deny', 'default deny'],
      ['g2', 'lookup', 'deny', '--deny-net=blocked.example.com'],
    ],
  );
  for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.time)));
});

test('drops: the first of a kind is written at once, the rest summed up once a second; flush() writes what is held', () => {
  mock.timers.enable({ apis: ['setTimeout'], now: 0 });
  try {
    const audit = new MemoryAuditLog();
    let now = 0;
    const c = new Checker(policy(), { guest: 'g', audit, now: () => now });
    const udp = (port: number): Request => ({ direction: 'receive', transport: 'udp', address: '127.0.0.1', port });
    c.dropped(udp(1), 'receive queue full (100 bytes)');
    c.dropped({ direction: 'accept', transport: 'tcp', address: '127.0.0.2', port: 9 }, 'accept queue full (1024)');
    for (let i = 2; i <= 5; i++) c.dropped(udp(i), 'receive queue full (100 bytes)');
    const brief = () => audit.events.map((e) => [e.op, e.port, e.decision, e.rule, e.count]);
    assert.deepEqual(brief(), [
      ['receive', 1, 'drop', 'receive queue full (100 bytes)', 1],
      ['accept', 9, 'drop', 'accept queue full (1024)', 1],
    ]);
    now = 1000;
    mock.timers.tick(1000);
    // the four held back, as one line with the last one's address
    assert.deepEqual(brief().slice(2), [['receive', 5, 'drop', 'receive queue full (100 bytes)', 4]]);
    now = 1500;
    c.dropped(udp(6), 'receive queue full (100 bytes)');
    assert.equal(audit.events.length, 3, 'within a second of the last line: held');
    c.flush();
    assert.deepEqual(brief().slice(3), [['receive', 6, 'drop', 'receive queue full (100 bytes)', 1]]);
    now = 5000;
    c.dropped(udp(7), 'receive queue full (100 bytes)');
    assert.deepEqual(brief().slice(4), [['receive', 7, 'drop', 'receive queue full (100 bytes)', 1]], 'a quiet second later: at once again');
  } finally {
    mock.timers.reset();
  }
});

test('UDP datagram decisions are summed up per peer, decision and rule; other decisions are written one by one', () => {
  mock.timers.enable({ apis: ['setTimeout'], now: 0 });
  try {
    const audit = new MemoryAuditLog();
    let now = 0;
    const p = new PolicyBuilder().flag('--allow-net', '127.0.0.1:53').build();
    const c = new Checker(p, { guest: 'g', audit, now: () => now });
    const dgram = (direction: 'send' | 'receive', address: string): Request => ({ direction, transport: 'udp', address, port: 53 });
    for (let i = 0; i < 100; i++) {
      assert.equal(c.check(dgram('send', '127.0.0.1')).allow, true);
      assert.equal(c.check(dgram('receive', '127.0.0.1')).allow, true);
      assert.equal(c.check(dgram('receive', '127.0.0.9')).allow, false, 'each datagram is still judged');
      c.check({ direction: 'connect', transport: 'tcp', address: '127.0.0.1', port: 53 });
    }
    const brief = () => audit.events.map((e) => `${e.op} ${e.transport} ${e.address} ${e.decision} ${e.count ?? '-'}`);
    assert.equal(audit.events.filter((e) => e.op === 'connect').length, 100, 'TCP decisions: one line each');
    assert.deepEqual(brief().filter((l) => !l.startsWith('connect')), [
      'send udp 127.0.0.1 allow 1', 'receive udp 127.0.0.1 allow 1', 'receive udp 127.0.0.9 deny 1',
    ]);
    now = 1000;
    mock.timers.tick(1000);
    assert.deepEqual(brief().filter((l) => !l.startsWith('connect')).slice(3).sort(), [
      'receive udp 127.0.0.1 allow 99', 'receive udp 127.0.0.9 deny 99', 'send udp 127.0.0.1 allow 99',
    ]);
  } finally {
    mock.timers.reset();
  }
});
