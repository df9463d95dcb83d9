// TCP echo benchmark for WASI 0.2 sockets: the C wasi:sockets echo server component
// (test/guests/p2-sock/tcp-echo-server.c: it binds, listens and accepts itself, one poll() over all
// connections; read/write, or splice) under `wasinet run --allow-listen=127.0.0.1:PORT`, against
// the plain node:net echo server and, where it runs the component, `jco run` (preview2-shim). Same
// client process as the preview 1 benchmark (bench/echo-client.ts). Runs alternate (native,
// wasinet, jco, native, ...); each side's median over its runs is compared.
//
//   node bench/p2-echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,bulk-splice,concurrent] [--no-jco]
//
//
// Scenarios and targets (wasinet/native):
//   latency         1-byte ping-pong, one client, median µs per round trip (informational)
//   latency-pinned  the same with server and client pinned to CPU 0 (taskset -c 0); target ≤ 1.3×
//   bulk            64 KiB writes streamed for ≥ 2 s, MB/s echoed; target ≥ 0.8×
//   bulk-splice     the same with the guest echoing by output-stream.splice (informational)
//   concurrent      200 connections doing 32-byte ping-pongs, round trips/s; target ≥ 0.4×
// Writes bench/results/p2-echo-<time>.json. --strict: exit 1 if a target is missed.
import os from 'node:os';
import path from 'node:path';
import { buildSockC } from '../test/guests/p2-sock/build.ts';
import {
  alternateRounds, BENCH_DIR, checkTarget, compare, fmt, freePort, JCO, median, parseArgs, pin, printTable,
  requireWholeNumbers, spawnServer, startWasinet, verdict, wanted, writeResults, type EchoScenario, type Server,
} from './lib.ts';

const NATIVE = path.join(BENCH_DIR, 'native-echo.ts');

type Side = 'native' | 'wasinet' | 'jco';

const cli = parseArgs(process.argv.slice(2), 'p2-echo.ts',
  'usage: node bench/p2-echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,bulk-splice,concurrent] [--no-jco]',
  { quick: 'flag', strict: 'flag', 'no-jco': 'flag', rounds: 'number', only: 'list' });
const args = { ...cli, rounds: cli.rounds || (cli.quick ? 2 : 3), jco: !cli['no-jco'] };
requireWholeNumbers('p2-echo.ts', args, ['rounds']);
const Q = args.quick;

interface Scenario extends EchoScenario {
  /** Connections the guest serves before it exits by itself. */
  conns: number;
  /** Extra guest arguments (`splice`). */
  guestMode?: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'latency', unit: 'µs/rt', better: 'lower', pinned: false, conns: 1,
    clientArgs: ['latency', String(Q ? 4000 : 20_000), String(Q ? 1000 : 3000)], metric: (r) => r.medianUs!,
  },
  {
    name: 'latency-pinned', unit: 'µs/rt', better: 'lower', target: 1.3, pinned: true, conns: 1,
    clientArgs: ['latency', String(Q ? 4000 : 20_000), String(Q ? 1000 : 3000)], metric: (r) => r.medianUs!,
  },
  {
    name: 'bulk', unit: 'MB/s', better: 'higher', target: 0.8, pinned: false, conns: 1,
    clientArgs: ['bulk', String(Q ? 1 : 2.5), '65536'], metric: (r) => r.MBps!,
  },
  {
    name: 'bulk-splice', unit: 'MB/s', better: 'higher', pinned: false, conns: 1, guestMode: ['splice'],
    clientArgs: ['bulk', String(Q ? 1 : 2.5), '65536'], metric: (r) => r.MBps!,
  },
  {
    name: 'concurrent', unit: 'rt/s', better: 'higher', target: 0.4, pinned: false, conns: 200,
    clientArgs: ['concurrent', '200', String(Q ? 1 : 2.5), '32'], metric: (r) => r.rtps!,
  },
];

async function startServer(side: Side, guest: string, sc: Scenario): Promise<Server> {
  if (side === 'native') {
    return spawnServer([...pin(sc.pinned), process.execPath, NATIVE, '127.0.0.1', '0'], { ready: /listening on [^\n]*:(\d+)\n/ });
  }
  const port = await freePort();
  const guestArgs = [guest, '127.0.0.1', String(port), String(sc.conns), ...(sc.guestMode ?? [])];
  const opts = { ready: /listening 127\.0\.0\.1:(\d+)/, port, exitsByItself: true };
  if (side === 'wasinet') return startWasinet(['run', `--allow-listen=127.0.0.1:${port}`, ...guestArgs], { ...opts, wrapper: pin(sc.pinned) });
  return spawnServer([...pin(sc.pinned), process.execPath, JCO, 'run', ...guestArgs], opts);
}

interface Row {
  scenario: string; unit: string; native: number; wasinet: number; ratio: number;
  jco?: number; jcoRatio?: number; jcoError?: string;
  target?: string; pass?: boolean; runs: Record<Side, number[]>;
}

const guest = await buildSockC('tcp-echo-server');

const rows: Row[] = [];
const jcoBroken: string | undefined = args.jco ? undefined : 'skipped (--no-jco)';

for (const sc of SCENARIOS) {
  if (!wanted(sc, args.only)) continue;
  let jcoError: string | undefined;
  const runs = await alternateRounds(sc, args.rounds, ['native', 'wasinet', 'jco'] as const, {
    start: (side) => startServer(side, guest, sc),
    skip: (side) => side === 'jco' && !!(jcoBroken || jcoError),
    failed: (side, e) => {
      if (side !== 'jco') throw e;
      jcoError = e.message.split('\n')[0];
      process.stderr.write(`${sc.name} jco: ${jcoError}\n`);
    },
  });
  const row: Row = { scenario: sc.name, unit: sc.unit, ...compare(runs.native, runs.wasinet), runs };
  if (runs.jco.length) {
    row.jco = median(runs.jco);
    row.jcoRatio = row.jco / row.native;
  } else if (jcoError ?? jcoBroken) {
    row.jcoError = jcoError ?? jcoBroken;
  }
  rows.push(Object.assign(row, checkTarget(sc, row.ratio)));
}

printTable('WASI 0.2 echo benchmark', args.rounds, Q, [
  ['scenario', 'unit', 'native', 'wasinet', 'ratio', 'target', 'result', 'jco run', 'jco ratio'],
  ...rows.map((r) => [
    r.scenario, r.unit, fmt(r.native), fmt(r.wasinet), `${r.ratio.toFixed(2)}×`, r.target ?? '-', verdict(r.pass),
    r.jco !== undefined ? fmt(r.jco) : 'n/a', r.jcoRatio !== undefined ? `${r.jcoRatio.toFixed(2)}×` : 'n/a',
  ]),
]);
for (const r of rows) if (r.jcoError) console.log(`jco run, ${r.scenario}: ${r.jcoError}`);

const file = writeResults('p2-echo', {
  time: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: Q, rounds: args.rounds, rows,
});
console.log(`\nresults: ${file}`);
process.exitCode = args.strict && rows.some((r) => r.pass === false) ? 1 : 0;
