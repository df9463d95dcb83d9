// TCP echo benchmark: C guests under `wasinet run --listen 127.0.0.1:0` against a plain node:net
// echo server, with the same client process (bench/echo-client.ts). Runs alternate (native,
// wasinet, native, wasinet, ...) and each side's median over its runs is compared.
//
//   node bench/echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,concurrent]
//
// Scenarios:
//   latency         1-byte ping-pong, one client, median µs per round trip (echo-blocking guest)
//   latency-pinned  the same with server and client pinned to CPU 0 (taskset -c 0): no cross-CPU
//                   wake-ups, so it shows the host's own cost; target ≤ 1.2× native
//   bulk            64 KiB writes streamed for ≥ 2 s, MB/s echoed (echo-blocking); target ≥ 0.9×
//   concurrent      200 connections doing ping-pongs (echo-poll guest), round trips/s; target ≥ 0.5×
// Writes the results as JSON to bench/results/echo-<time>.json. --strict: exit 1 if a target is missed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest } from '../test/support/guests.ts';
import { CliProcess } from '../test/support/cli.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.join(BENCH_DIR, 'echo-client.ts');
const NATIVE = path.join(BENCH_DIR, 'native-echo.ts');

interface Args { quick: boolean; strict: boolean; rounds: number; only: Set<string> | undefined }

function parseCli(argv: string[]): Args {
  const a: Args = { quick: false, strict: false, rounds: 0, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--quick') a.quick = true;
    else if (t === '--strict') a.strict = true;
    else if (t === '--rounds') a.rounds = Number(argv[++i]);
    else if (t.startsWith('--rounds=')) a.rounds = Number(t.slice(9));
    else if (t === '--only') a.only = new Set(argv[++i]!.split(','));
    else if (t.startsWith('--only=')) a.only = new Set(t.slice(7).split(','));
    else if (t === '--help' || t === '-h') {
      console.log('usage: node bench/echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,concurrent]');
      process.exit(0);
    } else {
      console.error(`echo.ts: unknown argument "${t}"`);
      process.exit(2);
    }
  }
  if (!a.rounds) a.rounds = a.quick ? 2 : 3;
  if (!Number.isInteger(a.rounds) || a.rounds < 1) {
    console.error('echo.ts: --rounds needs a whole number ≥ 1');
    process.exit(2);
  }
  return a;
}

const args = parseCli(process.argv.slice(2));
const Q = args.quick;
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

interface Scenario {
  name: string;
  unit: string;
  /** 'lower' when smaller is better (latency). */
  better: 'lower' | 'higher';
  /** Target for wasinet/native (a max for 'lower', a min for 'higher'); undefined: informational. */
  target?: number;
  guest: 'c/echo-blocking.c' | 'c/echo-poll.c';
  pinned: boolean;
  clientArgs: string[];
  /** Guest arguments; a guest given a connection count exits by itself and prints statistics. */
  guestArgs?: string[];
  metric: (r: Record<string, number>) => number;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'latency', unit: 'µs/rt', better: 'lower', guest: 'c/echo-blocking.c', pinned: false,
    clientArgs: ['latency', String(Q ? 4000 : 20_000), String(Q ? 1000 : 3000)], metric: (r) => r.medianUs!,
  },
  {
    name: 'latency-pinned', unit: 'µs/rt', better: 'lower', target: 1.2, guest: 'c/echo-blocking.c', pinned: true,
    clientArgs: ['latency', String(Q ? 4000 : 20_000), String(Q ? 1000 : 3000)], metric: (r) => r.medianUs!,
  },
  {
    name: 'bulk', unit: 'MB/s', better: 'higher', target: 0.9, guest: 'c/echo-blocking.c', pinned: false,
    clientArgs: ['bulk', String(Q ? 1 : 2.5), '65536'], metric: (r) => r.MBps!,
  },
  {
    name: 'concurrent', unit: 'rt/s', better: 'higher', target: 0.5, guest: 'c/echo-poll.c', pinned: false,
    clientArgs: ['concurrent', '200', String(Q ? 1 : 2.5), '32'], guestArgs: ['200'], metric: (r) => r.rtps!,
  },
];

const pin = (pinned: boolean): string[] => (pinned ? ['taskset', '-c', '0'] : []);

/** A server process and its port. stop() returns the guest's closing statistics, if it printed any. */
interface Server { port: number; stop(): Promise<string | undefined> }

async function startNative(pinned: boolean): Promise<Server> {
  const cmd = [...pin(pinned), process.execPath, NATIVE, '127.0.0.1', '0'];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`native server did not start: ${err}`)), 10_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      err += d;
      const m = err.match(/listening on [^\n]*:(\d+)\n/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`native server exited ${code}: ${err}`)); });
  });
  return {
    port,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
      child.once('exit', () => resolve(undefined));
      child.kill('SIGKILL');
    }),
  };
}

async function startWasinet(guest: string, pinned: boolean, guestArgs: string[] = []): Promise<Server> {
  const proc = new CliProcess(['run', '--listen', '127.0.0.1:0', guest, ...guestArgs], { wrapper: pin(pinned), timeoutMs: 30_000 });
  const [l] = await proc.listening(1);
  return {
    port: l!.port,
    stop: async () => {
      // A guest with a connection count exits once the client has closed them all.
      if (guestArgs.length) await proc.exit(10_000).catch(() => undefined);
      const res = await proc.stop();
      return res.stdout.match(/polls (\d+), events (\d+)/)?.[0];
    },
  };
}

function runClient(clientArgs: string[], port: number, pinned: boolean): Promise<Record<string, number>> {
  const [mode, ...rest] = clientArgs;
  const cmd = [...pin(pinned), process.execPath, CLIENT, mode!, '127.0.0.1', String(port), ...rest];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`client timed out: ${err}`)); }, 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`client ${clientArgs.join(' ')} exited ${code}: ${err}`));
      try { resolve(JSON.parse(out.trim())); } catch { reject(new Error(`bad client output: ${out} ${err}`)); }
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Row {
  scenario: string; unit: string; native: number; wasinet: number; ratio: number;
  target?: string; pass?: boolean; nativeRuns: number[]; wasinetRuns: number[];
  /** Guest statistics per wasinet run (echo-poll: poll() calls and ready fds returned). */
  guestStats?: string[];
}

const rows: Row[] = [];
const guests = new Map<string, string>();
for (const g of new Set(SCENARIOS.map((s) => s.guest))) guests.set(g, await buildGuest(g));

for (const sc of SCENARIOS) {
  if (args.only && !args.only.has(sc.name)) continue;
  if (sc.pinned && !hasTaskset) {
    console.error(`skipping ${sc.name}: taskset not available`);
    continue;
  }
  const nativeRuns: number[] = [];
  const wasinetRuns: number[] = [];
  const guestStats: string[] = [];
  for (let round = 0; round < args.rounds; round++) {
    for (const side of ['native', 'wasinet'] as const) {
      const server = side === 'native' ? await startNative(sc.pinned) : await startWasinet(guests.get(sc.guest)!, sc.pinned, sc.guestArgs);
      let stats: string | undefined;
      try {
        const r = await runClient(sc.clientArgs, server.port, sc.pinned);
        const v = sc.metric(r);
        (side === 'native' ? nativeRuns : wasinetRuns).push(v);
        process.stderr.write(`${sc.name} round ${round + 1}/${args.rounds} ${side}: ${fmt(v)} ${sc.unit}\n`);
      } finally {
        stats = await server.stop();
      }
      if (stats) {
        const m = stats.match(/polls (\d+), events (\d+)/)!;
        guestStats.push(stats);
        process.stderr.write(`  guest: ${stats} (${(Number(m[2]) / Number(m[1])).toFixed(2)} ready fds per poll)\n`);
      }
    }
  }
  const native = median(nativeRuns);
  const wasinet = median(wasinetRuns);
  const ratio = wasinet / native;
  const row: Row = { scenario: sc.name, unit: sc.unit, native, wasinet, ratio, nativeRuns, wasinetRuns };
  if (guestStats.length) row.guestStats = guestStats;
  if (sc.target !== undefined) {
    row.target = `${sc.better === 'lower' ? '≤' : '≥'} ${sc.target}×`;
    row.pass = sc.better === 'lower' ? ratio <= sc.target : ratio >= sc.target;
  }
  rows.push(row);
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const table = [
  ['scenario', 'unit', 'native', 'wasinet', 'ratio', 'target', 'result'],
  ...rows.map((r) => [r.scenario, r.unit, fmt(r.native), fmt(r.wasinet), `${r.ratio.toFixed(2)}×`, r.target ?? '-', r.pass === undefined ? 'info' : r.pass ? 'pass' : 'FAIL']),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log(`\necho benchmark (${args.rounds} round(s) each, ${Q ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} CPUs)`);
for (const [i, row] of table.entries()) {
  console.log(row.map((c, j) => (j === 0 || j === 1 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}

const resultsDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `echo-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({
  time: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: Q, rounds: args.rounds, rows,
}, null, 2) + '\n');
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
// --strict: exit 1 when a target is missed (for CI); otherwise the table is the result.
process.exitCode = args.strict && rows.some((r) => r.pass === false) ? 1 : 0;
