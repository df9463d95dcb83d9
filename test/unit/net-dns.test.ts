// Name resolution through the network core, and the address normalisation the policy relies on.
import { describe, it, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import type { PolicyChecker, Request } from '../../src/policy/types.ts';
import { FakeChecker } from '../support/fake-checker.ts';
import { DEFAULT_DNS_TTL_MS, NetError, NetworkCore, normalizeIp, normalizeName } from '../../src/net/index.ts';


const cores: NetworkCore[] = [];
function makeCore(checker: PolicyChecker): NetworkCore {
  const core = new NetworkCore({ guest: 'test', checker });
  cores.push(core);
  return core;
}
after(() => { for (const c of cores) c.close(); });

const isCode = (code: string) => (e: unknown): boolean => e instanceof NetError && e.code === code;

describe('lookup', () => {
  it('resolves localhost when allowed, asks first, pins the answers', async () => {
    const checker = new FakeChecker();
    const core = makeCore(checker);
    const addrs = await core.lookup('LocalHost.');
    assert.ok(addrs.includes('127.0.0.1') || addrs.includes('::1'), `got ${addrs}`);
    assert.deepEqual(checker.requests, [{ direction: 'lookup', name: 'localhost' }]);
    assert.equal(checker.pins.length, 1);
    assert.equal(checker.pins[0]!.name, 'localhost');
    assert.deepEqual(checker.pins[0]!.addresses, addrs);
    assert.equal(checker.pins[0]!.ttlMs, DEFAULT_DNS_TTL_MS);
  });

  it('honours the family', async () => {
    const core = makeCore(new FakeChecker());
    const v4 = await core.lookup('localhost', 4);
    assert.ok(v4.length > 0 && v4.every((a) => !a.includes(':')), `got ${v4}`);
  });

  it('EACCES when denied: counted, not resolved, not pinned', async () => {
    const checker = new FakeChecker((r) => r.direction === 'lookup');
    const core = makeCore(checker);
    const spy = mock.method(dns.promises, 'lookup');
    try {
      await assert.rejects(core.lookup('localhost'), isCode('EACCES'));
      assert.equal(spy.mock.callCount(), 0);
    } finally {
      spy.mock.restore();
    }
    assert.equal(core.accounting.connectionsRefused, 1);
    assert.equal(checker.pins.length, 0);
  });

  it('IP literals answer themselves, normalised, without asking anyone', async () => {
    const checker = new FakeChecker(() => true);
    const core = makeCore(checker);
    assert.deepEqual(await core.lookup('127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(await core.lookup('0:0:0:0:0:0:0:1'), ['::1']);
    assert.deepEqual(await core.lookup('[::1]', 6), ['::1']);
    await assert.rejects(core.lookup('127.0.0.1', 6), isCode('ENOENT'));
    assert.equal(checker.requests.length, 0);
    assert.equal(checker.pins.length, 0);
  });

  it('ENOENT for an unknown name, EIO for a resolver failure, EINVAL for garbage', async () => {
    const core = makeCore(new FakeChecker());
    const fail = (code: string) => mock.method(dns.promises, 'lookup', async () => {
      throw Object.assign(new Error(code), { code });
    });
    let m = fail('ENOTFOUND');
    try {
      await assert.rejects(core.lookup('nonexistent.invalid'), isCode('ENOENT'));
      assert.equal(m.mock.callCount(), 1);
    } finally {
      m.mock.restore();
    }
    m = fail('EAI_AGAIN');
    try {
      await assert.rejects(core.lookup('example.test'), isCode('EIO'));
    } finally {
      m.mock.restore();
    }
    await assert.rejects(core.lookup(''), isCode('EINVAL'));
    await assert.rejects(core.lookup('a b'), isCode('EINVAL'));
  });

  it('deduplicates and normalises resolver answers', async () => {
    const checker = new FakeChecker();
    const core = makeCore(checker);
    const m = mock.method(dns.promises, 'lookup', async () => [
      { address: '10.0.0.1', family: 4 }, { address: '2001:DB8:0:0:0:0:0:1', family: 6 }, { address: '10.0.0.1', family: 4 },
    ]);
    try {
      assert.deepEqual(await core.lookup('multi.test'), ['10.0.0.1', '2001:db8::1']);
    } finally {
      m.mock.restore();
    }
    assert.deepEqual(checker.pins[0]!.addresses, ['10.0.0.1', '2001:db8::1']);
  });
});

describe('normalisation', () => {
  it('normalizeIp', () => {
    assert.equal(normalizeIp('127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeIp('::FFFF:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeIp('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(normalizeIp('::ffff:127.0.0.1', false), '::ffff:127.0.0.1');
    assert.equal(normalizeIp('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
    assert.equal(normalizeIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(normalizeIp('0:0:0:0:0:0:0:0'), '::');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeIp('1::'), '1::');
    assert.equal(normalizeIp('::1.2.3.4'), '::102:304');
    assert.equal(normalizeIp('localhost'), null);
    assert.equal(normalizeIp('1.2.3'), null);
  });

  it('normalizeName', () => {
    assert.equal(normalizeName('Example.COM.'), 'example.com');
    assert.equal(normalizeName('example.com'), 'example.com');
  });
});
