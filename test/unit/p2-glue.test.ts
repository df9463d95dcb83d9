// The lean glue (src/wasi/p2/lean-glue.ts) on real transpiled components: every trampoline and
// export is rewritten, and the rewritten components behave exactly like the generated ones (the
// same output, line for line, for the TCP state-machine probe; a JS client's blocking calls; a trap
// still a trap; a wasi:http handler's response), with one export call at a time per instance.
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
import { leanGlue, type LeanGlueResult } from '../../src/wasi/p2/lean-glue.ts';
import { P2Context } from '../../src/wasi/p2/context.ts';
import { createHost } from '../../src/wasi/p2/host.ts';
import { IncomingRequest, ResponseOutparam, type ResponseWriter } from '../../src/wasi/p2/http/types.ts';
import { buildHttpGuest } from '../guests/p2-http/build.ts';
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
async function both(wasm: string): Promise<{ plain: LoadedComponent; lean: LoadedComponent } & LeanGlueResult> {
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
  return { plain, lean, ...r };
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
    const { plain, lean, leaned, skipped, exportsLeaned, syncExports, borrowed } = await both(await buildSockC('tcp-probe'));
    assert.deepEqual(skipped, []);
    assert.ok(leaned.length >= 30, `${leaned.length} trampolines rewritten`);
    // the run export loses its task bookkeeping too, but keeps its JSPI stack: poll can suspend
    assert.deepEqual(exportsLeaned, ['run']);
    assert.equal(syncExports, false);
    // output-stream writes see guest memory itself; the sinks copy
    assert.ok(borrowed.some((b) => /^wasi:io\/streams@0\.2\.\d+#write$/.test(b)), borrowed.join());
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

  it('a second export call while one is running is refused, not interleaved', { timeout: 120_000 }, async () => {
    const { lean } = await both(await buildSockC('tcp-probe'));
    const network = new NetworkCore({ guest: 'lean-test', checker: new FakeChecker() });
    const out = path.join(tmp, `out-${n++}.txt`);
    const fd = fs.openSync(out, 'w');
    const ctx = new P2Context({ args: ['tcp-probe', 'states'], env: {}, preopens: [], network, stdio: [0, fd, 2] });
    try {
      const exports = await lean.instantiate(createHost(ctx));
      const run = (exports['wasi:cli/run@0.2.12'] ?? Object.entries(exports).find(([k]) => k.startsWith('wasi:cli/run@'))![1]) as { run(): Promise<void> };
      const first = run.run();
      await assert.rejects(run.run(), /already running an export call/);
      await first;
      assert.match(fs.readFileSync(out, 'utf8'), /^done$/m);
    } finally {
      await ctx.close();
      network.close();
      fs.closeSync(fd);
    }
  });

  it('a handler that imports nothing that can suspend gets a plain (non-JSPI) export and answers the same', { timeout: 120_000 }, async () => {
    const { plain, lean, skipped, exportsLeaned, syncExports, borrowed } = await both(await buildHttpGuest('hello-min'));
    assert.deepEqual(skipped, []);
    assert.deepEqual(borrowed, ['wasi:io/streams@0.2.12#write']); // the body sink copies what it keeps
    assert.deepEqual(exportsLeaned, ['handle']);
    assert.equal(syncExports, true);
    for (const c of [plain, lean]) {
      const network = new NetworkCore({ guest: 'lean-test', checker: new FakeChecker() });
      const ctx = new P2Context({ args: ['hello-min'], env: {}, preopens: [], network });
      try {
        const exports = await c.instantiate(createHost(ctx));
        const handler = Object.entries(exports).find(([k]) => k.startsWith('wasi:http/incoming-handler@'))![1] as {
          handle(req: IncomingRequest, out: ResponseOutparam): Promise<void>;
        };
        for (let i = 0; i < 3; i++) {
          const chunks: Uint8Array[] = [];
          let status = 0;
          const writer: ResponseWriter = {
            buffered: 0,
            write: (b) => { chunks.push(b.slice()); },
            end: (last) => { if (last) chunks.push(last.slice()); },
            abort: () => assert.fail('aborted'),
          };
          const source = { headers: () => [], body: () => assert.fail('the body was not asked for') };
          const out = new ResponseOutparam({ respond: (s, _h, body) => { status = s; body.attach(writer); }, fail: () => assert.fail('failed') });
          await handler.handle(new IncomingRequest('GET', `/x${i}`, { tag: 'HTTP' }, 'localhost', source), out);
          await new Promise((r) => setImmediate(r)); // body writes are passed on once per turn
          assert.equal(status, 200);
          assert.equal(Buffer.concat(chunks).toString(), 'hello world\n');
        }
      } finally {
        await ctx.close();
        network.close();
      }
    }
  });

  it('leaves code it does not recognise alone', () => {
    const code = 'const x = 1;\n  const _trampoline0 = function(a) {\n    return a;\n  }\n';
    const r = leanGlue(code);
    assert.equal(r.code, code);
    assert.deepEqual(r.skipped, [{ name: '_trampoline0', reason: 'no host-call prologue' }]);
  });
});
