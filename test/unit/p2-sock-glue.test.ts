// The lean host-call glue (src/wasi/p2/lean-glue.ts) on real transpiled socket components: every
// trampoline is rewritten, and the rewritten components behave exactly like the generated ones
// (the same output, line for line, for the TCP state-machine probe; a JS client's blocking calls;
// a trap still a trap).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { FakeChecker } from '../support/fake-checker.ts';
import { NetworkCore } from '../../src/net/index.ts';
import { loadComponent, type LoadedComponent } from '../../src/wasi/p2/component.ts';
import { runComponentCommand } from '../../src/wasi/p2/instance.ts';
import { leanGlue } from '../../src/wasi/p2/lean-glue.ts';
import { buildSockC, buildSockJs } from '../guests/p2-sock/build.ts';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-lean-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
/** The component as generated, and with the lean glue (each from its own cache dir: an ES module
 *  is imported once per path). */
async function both(wasm: string): Promise<{ plain: LoadedComponent; lean: LoadedComponent; leaned: string[]; skipped: unknown[] }> {
  const bytes = new Uint8Array(fs.readFileSync(wasm));
  const plainDir = path.join(tmp, `plain-${n}`);
  const leanDir = path.join(tmp, `lean-${n++}`);
  const plain = await loadComponent(bytes, { cacheDir: plainDir, glue: 'as-generated' });
  fs.cpSync(plainDir, leanDir, { recursive: true });
  const [entry] = fs.readdirSync(path.join(leanDir, 'components'));
  const file = path.join(leanDir, 'components', entry!, 'component.mjs');
  const r = leanGlue(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, r.code);
  const lean = await loadComponent(bytes, { cacheDir: leanDir, glue: 'as-generated' });
  return { plain, lean, leaned: r.leaned, skipped: r.skipped };
}

/** Runs a command component in-process; its stdout captured. */
async function run(c: LoadedComponent, args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string }> {
  const out = path.join(tmp, `out-${n++}.txt`);
  const fd = fs.openSync(out, 'w');
  const network = new NetworkCore({ guest: 'lean-test', checker: new FakeChecker() });
  try {
    const { exitCode } = await runComponentCommand(c, { args, env, preopens: [], network, stdio: [0, fd, 2] });
    return { exitCode, stdout: fs.readFileSync(out, 'utf8') };
  } finally {
    network.close();
    fs.closeSync(fd);
  }
}

describe('lean glue', () => {
  it('rewrites every trampoline of a C socket component; the TCP state machine probe prints the same', { timeout: 120_000 }, async () => {
    const { plain, lean, leaned, skipped } = await both(await buildSockC('tcp-probe'));
    assert.deepEqual(skipped, []);
    assert.ok(leaned.length >= 30, `${leaned.length} trampolines rewritten`);
    const a = await run(plain, ['tcp-probe', 'states']);
    const b = await run(lean, ['tcp-probe', 'states']);
    assert.equal(a.exitCode, 0, a.stdout);
    assert.equal(b.exitCode, 0, b.stdout);
    assert.equal(b.stdout, a.stdout);
    assert.match(b.stdout, /^finish-bind-at-once=would-block$/m);
    assert.match(b.stdout, /^done$/m);
  });

  it('a host trap is still a trap (UDP send without a check-send permit)', { timeout: 120_000 }, async () => {
    const { lean, skipped } = await both(await buildSockC('udp-probe'));
    assert.deepEqual(skipped, []);
    await assert.rejects(run(lean, ['udp-probe', 'trap']), (e: unknown) => e instanceof WebAssembly.RuntimeError && /check-send permitted none/.test(e.message));
  });

  it('a JS (componentize-qjs) client: blocking reads and writes, pollable.block, exit', { timeout: 120_000 }, async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.pipe(s); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { lean, skipped } = await both(await buildSockJs('tcp-client'));
      assert.deepEqual(skipped, []);
      const env = { TARGET_ADDR: '127.0.0.1', TARGET_PORT: String((server.address() as net.AddressInfo).port), CONNS: '3' };
      const r = await run(lean, ['tcp-client'], env);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.match(r.stdout, /^ok 3 connections, \d+ bytes$/m);
    } finally {
      server.close();
    }
  });

  it('leaves code it does not recognise alone', () => {
    const code = 'const x = 1;\n  const _trampoline0 = function(a) {\n    return a;\n  }\n';
    const r = leanGlue(code);
    assert.equal(r.code, code);
    assert.deepEqual(r.skipped, [{ name: '_trampoline0', reason: 'no host-call prologue' }]);
  });
});
