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
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../test/support/guests.ts';
import {
  alternateRounds, BENCH_DIR, checkTarget, compare, fmt, parseArgs, pin, printTable, requireWholeNumbers,
  spawnServer, startWasinet, verdict, wanted, writeResults, type EchoScenario, type Server,
} from './lib.ts';

const NATIVE = path.join(BENCH_DIR, 'native-echo.ts');

const cli = parseArgs(process.argv.slice(2), 'echo.ts',
  'usage: node bench/echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,concurrent]',
  { quick: 'flag', strict: 'flag', rounds: 'number', only: 'list' });
const args = { ...cli, rounds: cli.rounds || (cli.quick ? 2 : 3) };
requireWholeNumbers('echo.ts', args, ['rounds']);
const Q = args.quick;

interface Scenario extends EchoScenario {
  guest: 'c/echo-blocking.c' | 'c/echo-poll.c';
  /** Guest arguments; a guest given a connection count exits by itself and prints statistics. */
  guestArgs?: string[];
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

function startServer(side: 'native' | 'wasinet', sc: Scenario): Promise<Server> {
  if (side === 'native') {
    return spawnServer([...pin(sc.pinned), process.execPath, NATIVE, '127.0.0.1', '0'], { ready: /listening on [^\n]*:(\d+)\n/, timeoutMs: 10_000 });
  }
  return startWasinet(['run', '--listen', '127.0.0.1:0', guests.get(sc.guest)!, ...(sc.guestArgs ?? [])], {
    wrapper: pin(sc.pinned),
    ready: /^wasinet: listening on (?:\[[^\]]+\]|[^\s[\]]+):(\d+) \(fd \d+\)\s*$/m,
    timeoutMs: 30_000,
    // A guest with a connection count exits once the client has closed them all.
    exitsByItself: !!sc.guestArgs?.length,
  });
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
  if (!wanted(sc, args.only)) continue;
  const guestStats: string[] = [];
  const runs = await alternateRounds(sc, args.rounds, ['native', 'wasinet'] as const, {
    start: (side) => startServer(side, sc),
    stopped: (side, out) => {
      const m = side === 'wasinet' ? out.stdout.match(/polls (\d+), events (\d+)/) : null;
      if (!m) return;
      guestStats.push(m[0]);
      process.stderr.write(`  guest: ${m[0]} (${(Number(m[2]) / Number(m[1])).toFixed(2)} ready fds per poll)\n`);
    },
  });
  const row: Row = { scenario: sc.name, unit: sc.unit, ...compare(runs.native, runs.wasinet), nativeRuns: runs.native, wasinetRuns: runs.wasinet };
  if (guestStats.length) row.guestStats = guestStats;
  rows.push(Object.assign(row, checkTarget(sc, row.ratio)));
}

printTable('echo benchmark', args.rounds, Q, [
  ['scenario', 'unit', 'native', 'wasinet', 'ratio', 'target', 'result'],
  ...rows.map((r) => [r.scenario, r.unit, fmt(r.native), fmt(r.wasinet), `${r.ratio.toFixed(2)}×`, r.target ?? '-', verdict(r.pass)]),
]);

const file = writeResults('echo', {
  time: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: Q, rounds: args.rounds, rows,
});
console.log(`\nresults: ${file}`);
// --strict: exit 1 when a target is missed (for CI); otherwise the table is the result.
process.exitCode = args.strict && rows.some((r) => r.pass === false) ? 1 : 0;
