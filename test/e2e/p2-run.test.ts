// `wasinet run` on WASI 0.2 command components: C programs built for preview 1 and turned into
// components by jco's preview1 adapter, and components written in the component text format.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/guests.ts';
import { buildCommandComponent, buildComponentWat } from '../support/components.ts';
import { CLI_PATH, runToExit, type ExitResult } from '../support/cli.ts';

/** Transpiled components of these tests are cached here, not in the user's ~/.cache. */
const CACHE = path.join(REPO_ROOT, '.cache', 'wasinet');
const run = (args: readonly string[], opts: Parameters<typeof runToExit>[1] = {}) =>
  runToExit(['--cache-dir', CACHE, ...args], { timeoutMs: 60_000, ...opts });

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2-run-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('C preview 1 programs as components (jco new --wasi-command)', () => {
  let probe: string;
  let fsTool: string;
  let trap: string;
  let cat: string;

  before(async () => {
    probe = await buildCommandComponent('c/probe.c');
    fsTool = await buildCommandComponent('c/fs-tool.c');
    trap = await buildCommandComponent('c/trap.c');
    cat = await buildCommandComponent('p2/cat.c');
  });

  it('gets its arguments', async () => {
    const r = await run([probe, 'args', 'a', 'b c', 'ünï']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[a]\n[b c]\n[ünï]\n');
  });

  it('sees the --env variables and nothing of the host environment', async () => {
    const r = await run(['--env', 'FOO=bar', '--env', 'EMPTY=', probe, 'env', 'FOO', 'EMPTY', 'HOME', 'PATH']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'FOO=bar\nEMPTY=\nHOME unset\nPATH unset\n');
  });

  it('exits 0 on success and 1 on any failure status (the adapter reports only ok/err)', async () => {
    assert.equal((await run([probe, 'exit', '0'])).code, 0);
    assert.equal((await run([probe, 'exit', '3'])).code, 1);
    const usage = await run([probe]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^usage: probe/m, 'stderr reaches the host');
  });

  describe('files under --dir, stdin, confinement', () => {
    let data: string;
    let r: ExitResult;
    const lines = new Map<string, string>();

    before(async () => {
      data = path.join(tmp, 'data');
      fs.mkdirSync(data);
      fs.writeFileSync(path.join(data, 'in.txt'), 'hello file');
      fs.writeFileSync(path.join(data, 'zz.bin'), '');
      fs.writeFileSync(path.join(tmp, 'outside.txt'), 'secret');
      fs.symlinkSync(path.join(tmp, 'outside.txt'), path.join(data, 'escape-link'));
      r = await run(['--dir', `${data}::/work`, '--env', 'GREETING=hi there', fsTool, '/work', '0', 'x y'], {
        stdin: 'from stdin',
      });
      for (const line of r.stdout.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) lines.set(line.slice(0, i), line.slice(i + 1));
      }
    });

    it('runs to the end', () => {
      assert.equal(r.code, 0, `stderr: ${r.stderr}\nstdout: ${r.stdout}`);
      assert.match(r.stderr, /^done$/m);
      assert.equal(lines.get('argc'), '4');
      assert.equal(lines.get('arg[3]'), 'x y');
      assert.equal(lines.get('GREETING'), 'hi there');
    });

    it('reads stdin to its end', () => {
      assert.equal(lines.get('stdin'), '10:from stdin');
    });

    it('reads, creates, appends to and lists files in the preopen', () => {
      assert.equal(lines.get('in'), 'hello file');
      assert.equal(lines.get('tell'), '10');
      assert.equal(lines.get('size'), '11');
      assert.equal(fs.readFileSync(path.join(data, 'out', 'copy.txt'), 'utf8'), 'HELLO FILE!');
      assert.equal(lines.get('ls'), 'escape-link,in.txt,out,zz.bin dots=2');
    });

    it('cannot leave the preopen by .. or by a symlink (not-permitted, EPERM through the adapter)', () => {
      assert.equal(lines.get('escape'), 'refused errno=63');
      assert.equal(lines.get('escape-link'), 'refused errno=63');
      assert.equal(fs.readFileSync(path.join(tmp, 'outside.txt'), 'utf8'), 'secret');
    });
  });

  it('without --dir it has no files at all', async () => {
    const r = await run([fsTool, '/work', '0'], { stdin: '' });
    assert.equal(r.code, 1, r.stdout); // its status 3, which the adapter reports as err
    assert.match(r.stdout, /open in.txt failed: /);
  });

  it('a --dir that is not a directory is an error before the guest starts', async () => {
    const r = await run(['--dir', path.join(tmp, 'nope'), probe, 'args']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wasinet: --dir .*nope: not a directory/);
    assert.equal(r.stdout, '');
  });

  it('a trap exits 134 and names the trap, after the output it made', async () => {
    const r = await run([trap]);
    assert.equal(r.code, 134, r.stderr);
    assert.match(r.stdout, /trap: starting/);
    assert.match(r.stderr, /guest trapped: RuntimeError: .*unreachable/);
  });

  it('copies a megabyte from stdin to stdout unchanged', async () => {
    const input = randomBytes(1 << 20);
    const p = spawnRun([cat]);
    p.child.stdin.end(input);
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, input.length);
    assert.ok(r.stdout.equals(input), 'same bytes');
    assert.match(r.stderr, /^cat: 1048576 bytes$/m);
  });

  it('sees end of file at once on an empty stdin', async () => {
    const r = await run([cat], { stdin: '' });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^cat: 0 bytes$/m);
  });
});

/** Starts `wasinet run --cache-dir CACHE ...` with stdin left open for the test to use. */
function spawnRun(args: readonly string[]) {
  const child = spawn(process.execPath, [CLI_PATH, 'run', '--cache-dir', CACHE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.on('error', () => { /* the child may be gone */ });
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
  });
  return { child, done };
}

describe('components written in the component text format', () => {
  it('clocks, pollables, random and exit-with-code behave exactly (0.2.0, 0.2.3 and 0.2.12 mixed)', async () => {
    const wasm = await buildComponentWat('p2/clocks-random.wat');
    const r = await run([wasm]);
    // each failed check has its own exit code (10-19), see the .wat
    assert.equal(r.code, 42, `exit ${r.code}; stderr: ${r.stderr}`);
    assert.equal(r.stdout, 'ok\n');
    assert.equal(r.stderr, '');
  });

  it('wasi:cli/run returning err exits 1, quietly', async () => {
    const r = await run([await buildComponentWat('p2/run-err.wat')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '');
  });

  it('breaking the canonical ABI is a trap (134)', async () => {
    const r = await run([await buildComponentWat('p2/abi-trap.wat')]);
    assert.equal(r.code, 134);
    assert.match(r.stderr, /^wasinet: guest trapped: RuntimeError: TypeError: invalid variant discriminant/);
  });

  it('a component importing what wasinet does not provide is refused, naming the imports', async () => {
    const r = await run([await buildComponentWat('p2/unknown-import.wat')]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'wasinet: the component imports interfaces wasinet does not provide: example:nope/thing@1.2.3, ' +
        'wasi:random/random@0.3.0 (wasinet implements WASI 0.2.x components)\n',
    );
    assert.equal(r.stdout, '');
  });

  it('stdin: a read finds nothing, a blocking read waits for data; the guest exits with stdin still open', async () => {
    const wasm = await buildComponentWat('p2/stdin-once.wat');
    const p = spawnRun([wasm]);
    setTimeout(() => p.child.stdin.write('hello'), 300);
    const r = await p.done; // stdin is never closed: wasinet must not wait for it
    p.child.stdin.destroy();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'hello');
  });

  it('--listen is for preview 1 modules only', async () => {
    const r = await run(['--listen', '127.0.0.1:0', await buildComponentWat('p2/run-err.wat')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /preopened listeners are for WASI preview 1 modules/);
  });
});

describe('the transpile cache', () => {
  const MISS = /^wasinet: transpile cache miss: [0-9a-f]{12} transpiled in \d+ ms$/m;

  it('transpiles a component once; later starts load it from the cache', async () => {
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const wasm = await buildComponentWat('p2/clocks-random.wat');
    const first = await runToExit(['--verbose', '--cache-dir', cacheDir, wasm]);
    assert.equal(first.code, 42, first.stderr);
    assert.match(first.stderr, MISS);
    const entries = fs.readdirSync(path.join(cacheDir, 'components'));
    assert.equal(entries.length, 1);
    assert.ok(fs.existsSync(path.join(cacheDir, 'components', entries[0]!, 'manifest.json')));

    const second = await runToExit(['--verbose', '--cache-dir', cacheDir, wasm]);
    assert.equal(second.code, 42, second.stderr);
    assert.doesNotMatch(second.stderr, /transpile cache miss/);
    assert.equal(second.stdout, 'ok\n');

    // another component is another entry
    const other = await runToExit(['--verbose', '--cache-dir', cacheDir, await buildComponentWat('p2/run-err.wat')]);
    assert.match(other.stderr, MISS);
    assert.equal(fs.readdirSync(path.join(cacheDir, 'components')).length, 2);

    // a damaged entry is transpiled again, not trusted
    fs.rmSync(path.join(cacheDir, 'components', entries[0]!, 'component.mjs'));
    const third = await runToExit(['--verbose', '--cache-dir', cacheDir, wasm]);
    assert.equal(third.code, 42, third.stderr);
    assert.match(third.stderr, MISS);
  });

  it('without --cache-dir, $WASINET_CACHE_DIR is used', async () => {
    const cacheDir = fs.mkdtempSync(path.join(tmp, 'envcache-'));
    const r = await runToExit([await buildComponentWat('p2/run-err.wat')], { env: { WASINET_CACHE_DIR: cacheDir } });
    assert.equal(r.code, 1);
    assert.equal(fs.readdirSync(path.join(cacheDir, 'components')).length, 1);
  });
});
