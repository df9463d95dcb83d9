// HTTP serving benchmark: `wasinet serve` against a plain node:http server doing the same work and
// against `jco serve` (from @bytecodealliance/jco), with one keep-alive load client
// (bench/http-load.ts, 50 connections by default). Each round runs every server of a scenario once,
// in rotating order; the medians over rounds are compared.
//
//   node bench/serve.ts [--quick] [--rounds N] [--duration MS] [--connections N] [--only hello,minimal] [--strict]
//
// Scenarios:
//   hello    the componentize-js hello handler (test/guests/p2-http/hello.js): wasinet vs jco serve
//            vs node:http. Targets: wasinet ≥ 10× jco serve req/s, wasinet p99 ≤ 10 ms.
//   minimal  the hand-written WAT handler (hello-min.wat): wasinet vs node:http. Target ≥ 0.5×.
// Before the servers, each handler is called on its own in this process (bench/handler-alone.ts): no
// server on one thread can beat that rate, which shows how much of a request is the guest's.
// Writes the results as JSON to bench/results/serve-<time>.json. --strict: exit 1 if a target is missed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHttpGuest } from '../test/guests/p2-http/build.ts';
import { handlerAlone } from './handler-alone.ts';
import { CliProcess } from '../test/support/cli.ts';
import { REPO_ROOT } from '../test/support/guests.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const LOAD = path.join(BENCH_DIR, 'http-load.ts');
const NATIVE = path.join(BENCH_DIR, 'native-http.ts');
const JCO = path.join(REPO_ROOT, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');

interface Args { quick: boolean; strict: boolean; rounds: number; duration: number; connections: number; only?: Set<string> }

function parseCli(argv: string[]): Args {
  const a: Args = { quick: false, strict: false, rounds: 0, duration: 0, connections: 50 };
  const value = (i: number, t: string): string => (t.includes('=') ? t.slice(t.indexOf('=') + 1) : argv[i + 1] ?? '');
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    const name = t.split('=')[0];
    if (t === '--quick') a.quick = true;
    else if (t === '--strict') a.strict = true;
    else if (name === '--rounds') { a.rounds = Number(value(i, t)); if (!t.includes('=')) i++; }
    else if (name === '--duration') { a.duration = Number(value(i, t)); if (!t.includes('=')) i++; }
    else if (name === '--connections') { a.connections = Number(value(i, t)); if (!t.includes('=')) i++; }
    else if (name === '--only') { a.only = new Set(value(i, t).split(',')); if (!t.includes('=')) i++; }
    else if (t === '--help' || t === '-h') {
      console.log('usage: node bench/serve.ts [--quick] [--rounds N] [--duration MS] [--connections N] [--only hello,minimal] [--strict]');
      process.exit(0);
    } else {
      console.error(`serve.ts: unknown argument "${t}"`);
      process.exit(2);
    }
  }
  a.rounds ||= a.quick ? 2 : 3;
  a.duration ||= a.quick ? 2000 : 5000;
  for (const k of ['rounds', 'duration', 'connections'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) {
      console.error(`serve.ts: --${k} needs a whole number ≥ 1`);
      process.exit(2);
    }
  }
  return a;
}

const args = parseCli(process.argv.slice(2));
const WARMUP_MS = args.quick ? 700 : 1500;

interface Server { name: string; port: number; stop(): Promise<void> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Stops a server started with `detached: true`: its whole process group, since jco serve runs the
 *  component in a runner process of its own that would otherwise outlive it (and hold our pipes). */
function killer(child: ChildProcess): () => Promise<void> {
  return () => new Promise((resolve) => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* already gone */ }
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Waits until `port` answers an HTTP request (jco serve prints before its workers are ready). */
async function ready(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not become ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startNative(mode: 'hello' | 'min'): Promise<Server> {
  const child = spawn(process.execPath, [NATIVE, mode, '0'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`native server did not start: ${err}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /listening on [^\n]*:(\d+)\n/.exec(err);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`native server exited ${code}: ${err}`)); });
  });
  return { name: 'node:http', port, stop: killer(child) };
}

async function startWasinet(wasm: string): Promise<Server> {
  const proc = new CliProcess(['serve', '--addr', '127.0.0.1:0', wasm], { timeoutMs: 60_000 });
  const m = await proc.waitForStderr(/^Serving HTTP on http:\/\/[\d.]+:(\d+)\/$/);
  const port = Number(m[1]);
  await ready(port);
  return { name: 'wasinet serve', port, stop: async () => { await proc.stop(); } };
}

async function startJco(wasm: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [JCO, 'serve', wasm, '--port', String(port), '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  child.stderr!.resume();
  await ready(port);
  return { name: 'jco serve', port, stop: killer(child) };
}

interface LoadResult { requests: number; errors: number; firstError?: string; rps: number; p50Ms: number; p99Ms: number; maxMs: number }

function runLoad(port: number, expected: string): Promise<LoadResult> {
  const argv = [LOAD, String(port), '/hello', String(args.connections), String(args.duration), String(WARMUP_MS), expected];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`load client timed out: ${err}`)); }, args.duration + WARMUP_MS + 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load client exited ${code}: ${err}`));
      try { resolve(JSON.parse(out.trim()) as LoadResult); } catch { reject(new Error(`bad load client output: ${out} ${err}`)); }
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

interface Scenario {
  name: string;
  expected: string;
  servers: (() => Promise<Server>)[];
}

const hello = await buildHttpGuest('hello');
const helloMin = await buildHttpGuest('hello-min');
const SCENARIOS: Scenario[] = [
  { name: 'hello', expected: 'hello from {path}\n', servers: [() => startWasinet(hello), () => startJco(hello), () => startNative('hello')] },
  { name: 'minimal', expected: 'hello world\n', servers: [() => startWasinet(helloMin), () => startNative('min')] },
];

interface Summary { server: string; rps: number; p50Ms: number; p99Ms: number; runs: LoadResult[] }
const results: Record<string, Summary[]> = {};

// Each handler on its own first (in this process, no HTTP): the ceiling for one thread.
const alone: Record<string, number> = {};
for (const [sc, wasm] of [['hello', hello], ['minimal', helloMin]] as const) {
  if (args.only && !args.only.has(sc)) continue;
  alone[sc] = await handlerAlone(wasm, args.quick ? 1000 : 4000);
  process.stderr.write(`${sc}: the handler alone takes ${fmt(alone[sc]!, 1)} µs per request (at most ${fmt(1e6 / alone[sc]!)} req/s on one thread)\n`);
}

for (const sc of SCENARIOS) {
  if (args.only && !args.only.has(sc.name)) continue;
  const runs = new Map<string, LoadResult[]>();
  const servers: Server[] = [];
  try {
    for (const start of sc.servers) servers.push(await start());
    for (let round = 0; round < args.rounds; round++) {
      // rotate the order each round so no server always runs first (or right after another)
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
      for (const s of order) {
        const r = await runLoad(s.port, sc.expected);
        if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} bad responses (${r.firstError})`);
        (runs.get(s.name) ?? runs.set(s.name, []).get(s.name)!).push(r);
        process.stderr.write(`${sc.name} round ${round + 1}/${args.rounds} ${s.name}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms\n`);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  results[sc.name] = [...runs].map(([server, rs]) => ({
    server, rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), runs: rs,
  }));
}

interface Check { what: string; value: number; target: string; pass: boolean }
const checks: Check[] = [];
const get = (sc: string, server: string): Summary | undefined => results[sc]?.find((s) => s.server === server);

console.log(`\n${os.cpus().length} CPUs, ${args.connections} connections, ${args.rounds} round(s) of ${args.duration} ms, medians\n`);
for (const [sc, us] of Object.entries(alone)) console.log(`${sc}: handler alone ${fmt(us, 1)} µs per request, at most ${fmt(1e6 / us)} req/s on one thread`);
console.log('\n| scenario | server | req/s | p50 ms | p99 ms |');
console.log('|---|---|---:|---:|---:|');
for (const [sc, rows] of Object.entries(results)) {
  for (const r of rows) console.log(`| ${sc} | ${r.server} | ${fmt(r.rps)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} |`);
}
const w = get('hello', 'wasinet serve'), j = get('hello', 'jco serve'), nh = get('hello', 'node:http');
if (w && j) checks.push({ what: 'hello: wasinet / jco serve req/s', value: w.rps / j.rps, target: '≥ 10', pass: w.rps / j.rps >= 10 });
if (w) checks.push({ what: 'hello: wasinet p99 (ms)', value: w.p99Ms, target: '≤ 10', pass: w.p99Ms <= 10 });
if (w && nh) checks.push({ what: 'hello: wasinet / node:http req/s', value: w.rps / nh.rps, target: '(info)', pass: true });
// what the guest alone allows, whatever the server does: 1e6/µs req/s on one thread
if (alone.hello && j) checks.push({ what: 'hello: handler-alone ceiling / jco serve req/s', value: 1e6 / alone.hello / j.rps, target: '(info)', pass: true });
const wm = get('minimal', 'wasinet serve'), nm = get('minimal', 'node:http');
if (wm && nm) checks.push({ what: 'minimal: wasinet / node:http req/s', value: wm.rps / nm.rps, target: '≥ 0.5', pass: wm.rps / nm.rps >= 0.5 });
console.log('\n| ratio | value | target | |');
console.log('|---|---:|---|---|');
for (const c of checks) console.log(`| ${c.what} | ${fmt(c.value, 2)} | ${c.target} | ${c.target === '(info)' ? '' : c.pass ? 'met' : 'missed'} |`);

const outDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `serve-${new Date().toISOString().replaceAll(':', '-').replace('.', '-')}.json`);
fs.writeFileSync(file, JSON.stringify({ args, cpus: os.cpus().length, node: process.version, handlerAloneUs: alone, results, checks }, null, 2));
console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
if (args.strict && checks.some((c) => !c.pass)) process.exit(1);
