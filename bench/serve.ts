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
import os from 'node:os';
import path from 'node:path';
import { buildHttpGuest } from '../test/guests/p2-http/build.ts';
import { handlerAlone } from './handler-alone.ts';
import {
  BENCH_DIR, freePort, JCO, median, parseArgs, requireWholeNumbers, runJson, spawnServer, startWasinet, writeResults,
  type Server as ServerProcess,
} from './lib.ts';

const LOAD = path.join(BENCH_DIR, 'http-load.ts');
const NATIVE = path.join(BENCH_DIR, 'native-http.ts');

const cli = parseArgs(process.argv.slice(2), 'serve.ts',
  'usage: node bench/serve.ts [--quick] [--rounds N] [--duration MS] [--connections N] [--only hello,minimal] [--strict]',
  { quick: 'flag', strict: 'flag', rounds: 'number', duration: 'number', connections: 'number', only: 'list' });
const args = {
  ...cli,
  rounds: cli.rounds || (cli.quick ? 2 : 3),
  duration: cli.duration || (cli.quick ? 2000 : 5000),
  connections: cli.connections ?? 50,
};
requireWholeNumbers('serve.ts', args, ['rounds', 'duration', 'connections']);
const WARMUP_MS = args.quick ? 700 : 1500;

interface Server extends ServerProcess { name: string }

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

/** `proc` as the server `name`, once it answers HTTP requests (stopped if it never does). */
async function serving(name: string, proc: ServerProcess): Promise<Server> {
  try {
    await ready(proc.port);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { ...proc, name };
}

async function startNative(mode: 'hello' | 'min'): Promise<Server> {
  const proc = await spawnServer([process.execPath, NATIVE, mode, '0'], { ready: /listening on [^\n]*:(\d+)\n/, timeoutMs: 10_000 });
  return { ...proc, name: 'node:http' };
}

async function startWasinetServe(wasm: string): Promise<Server> {
  const proc = await startWasinet(['serve', '--addr', '127.0.0.1:0', wasm], { ready: /^Serving HTTP on http:\/\/[\d.]+:(\d+)\/$/m });
  return serving('wasinet serve', proc);
}

async function startJco(wasm: string): Promise<Server> {
  const port = await freePort();
  return serving('jco serve', await spawnServer([process.execPath, JCO, 'serve', wasm, '--port', String(port), '--host', '127.0.0.1'], { port }));
}

interface LoadResult { requests: number; errors: number; firstError?: string; rps: number; p50Ms: number; p99Ms: number; maxMs: number }

function runLoad(port: number, expected: string): Promise<LoadResult> {
  const argv = [LOAD, String(port), '/hello', String(args.connections), String(args.duration), String(WARMUP_MS), expected];
  return runJson<LoadResult>([process.execPath, ...argv], 'load client', args.duration + WARMUP_MS + 60_000);
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
  { name: 'hello', expected: 'hello from {path}\n', servers: [() => startWasinetServe(hello), () => startJco(hello), () => startNative('hello')] },
  { name: 'minimal', expected: 'hello world\n', servers: [() => startWasinetServe(helloMin), () => startNative('min')] },
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

const file = writeResults('serve', { args, cpus: os.cpus().length, node: process.version, handlerAloneUs: alone, results, checks });
console.log(`\nwritten to ${file}`);
if (args.strict && checks.some((c) => !c.pass)) process.exit(1);
