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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { buildSockC } from '../test/guests/p2-sock/build.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const CLIENT = path.join(BENCH_DIR, 'echo-client.ts');
const NATIVE = path.join(BENCH_DIR, 'native-echo.ts');
const WASINET = path.join(ROOT, 'bin', 'wasinet.js');
const JCO = path.join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');

type Side = 'native' | 'wasinet' | 'jco';

interface Args { quick: boolean; strict: boolean; rounds: number; only: Set<string> | undefined; jco: boolean }

function parseCli(argv: string[]): Args {
  const a: Args = { quick: false, strict: false, rounds: 0, only: undefined, jco: true };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--quick') a.quick = true;
    else if (t === '--strict') a.strict = true;
    else if (t === '--no-jco') a.jco = false;
    else if (t === '--rounds') a.rounds = Number(argv[++i]);
    else if (t.startsWith('--rounds=')) a.rounds = Number(t.slice(9));
    else if (t === '--only') a.only = new Set(argv[++i]!.split(','));
    else if (t.startsWith('--only=')) a.only = new Set(t.slice(7).split(','));
    else if (t === '--help' || t === '-h') {
      console.log('usage: node bench/p2-echo.ts [--quick] [--strict] [--rounds N] [--only latency,latency-pinned,bulk,bulk-splice,concurrent] [--no-jco]');
      process.exit(0);
    } else {
      console.error(`p2-echo.ts: unknown argument "${t}"`);
      process.exit(2);
    }
  }
  if (!a.rounds) a.rounds = a.quick ? 2 : 3;
  if (!Number.isInteger(a.rounds) || a.rounds < 1) {
    console.error('p2-echo.ts: --rounds needs a whole number ≥ 1');
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
  better: 'lower' | 'higher';
  target?: number;
  pinned: boolean;
  clientArgs: string[];
  /** Connections the guest serves before it exits by itself. */
  conns: number;
  /** Extra guest arguments (`splice`). */
  guestMode?: string[];
  metric: (r: Record<string, number>) => number;
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

const pin = (pinned: boolean): string[] => (pinned ? ['taskset', '-c', '0'] : []);

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

interface Server { port: number; stop(): Promise<void> }

/** Spawns a server and waits until `ready` matches its output (stdout or stderr). */
function spawnServer(cmd: string[], ready: RegExp, port: number, exitsByItself: boolean): Promise<Server> {
  // its own process group: `jco run` runs the component in a child process of its own, which a kill
  // of jco alone would leave behind
  const child: ChildProcess = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, detached: true });
  const kill = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* gone */ }
  };
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { kill(); reject(new Error(`server did not start: ${cmd.join(' ')}\n${out}`)); }, 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = out.match(ready);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: m[1] ? Number(m[1]) : port,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          if (exitsByItself) {
            const t = setTimeout(kill, 10_000);
            await exited;
            clearTimeout(t);
            return;
          }
          kill();
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${cmd.join(' ')}\n${out}`)); });
  });
}

async function startServer(side: Side, guest: string, sc: Scenario): Promise<Server> {
  if (side === 'native') {
    return spawnServer([...pin(sc.pinned), process.execPath, NATIVE, '127.0.0.1', '0'], /listening on [^\n]*:(\d+)\n/, 0, false);
  }
  const port = await freePort();
  const guestArgs = [guest, '127.0.0.1', String(port), String(sc.conns), ...(sc.guestMode ?? [])];
  if (side === 'wasinet') {
    return spawnServer([...pin(sc.pinned), process.execPath, WASINET, 'run', `--allow-listen=127.0.0.1:${port}`, ...guestArgs], /listening 127\.0\.0\.1:(\d+)/, port, true);
  }
  return spawnServer([...pin(sc.pinned), process.execPath, JCO, 'run', ...guestArgs], /listening 127\.0\.0\.1:(\d+)/, port, true);
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

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

interface Row {
  scenario: string; unit: string; native: number; wasinet: number; ratio: number;
  jco?: number; jcoRatio?: number; jcoError?: string;
  target?: string; pass?: boolean; runs: Record<Side, number[]>;
}

const guest = await buildSockC('tcp-echo-server');

const rows: Row[] = [];
let jcoBroken: string | undefined = args.jco ? undefined : 'skipped (--no-jco)';

for (const sc of SCENARIOS) {
  if (args.only && !args.only.has(sc.name)) continue;
  if (sc.pinned && !hasTaskset) {
    console.error(`skipping ${sc.name}: taskset not available`);
    continue;
  }
  const runs: Record<Side, number[]> = { native: [], wasinet: [], jco: [] };
  let jcoError: string | undefined;
  for (let round = 0; round < args.rounds; round++) {
    for (const side of ['native', 'wasinet', 'jco'] as const) {
      if (side === 'jco' && (jcoBroken || jcoError)) continue;
      let server: Server | undefined;
      try {
        server = await startServer(side, guest, sc);
        const r = await runClient(sc.clientArgs, server.port, sc.pinned);
        const v = sc.metric(r);
        runs[side].push(v);
        process.stderr.write(`${sc.name} round ${round + 1}/${args.rounds} ${side}: ${fmt(v)} ${sc.unit}\n`);
      } catch (e) {
        if (side !== 'jco') throw e;
        jcoError = (e as Error).message.split('\n')[0];
        process.stderr.write(`${sc.name} jco: ${jcoError}\n`);
      } finally {
        await server?.stop();
      }
    }
  }
  const native = median(runs.native);
  const wasinet = median(runs.wasinet);
  const ratio = wasinet / native;
  const row: Row = { scenario: sc.name, unit: sc.unit, native, wasinet, ratio, runs };
  if (runs.jco.length) {
    row.jco = median(runs.jco);
    row.jcoRatio = row.jco / native;
  } else if (jcoError ?? jcoBroken) {
    row.jcoError = jcoError ?? jcoBroken;
  }
  if (sc.target !== undefined) {
    row.target = `${sc.better === 'lower' ? '≤' : '≥'} ${sc.target}×`;
    row.pass = sc.better === 'lower' ? ratio <= sc.target : ratio >= sc.target;
  }
  rows.push(row);
}

const table = [
  ['scenario', 'unit', 'native', 'wasinet', 'ratio', 'target', 'result', 'jco run', 'jco ratio'],
  ...rows.map((r) => [
    r.scenario, r.unit, fmt(r.native), fmt(r.wasinet), `${r.ratio.toFixed(2)}×`, r.target ?? '-',
    r.pass === undefined ? 'info' : r.pass ? 'pass' : 'FAIL',
    r.jco !== undefined ? fmt(r.jco) : 'n/a', r.jcoRatio !== undefined ? `${r.jcoRatio.toFixed(2)}×` : 'n/a',
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log(`\nWASI 0.2 echo benchmark (${args.rounds} round(s) each, ${Q ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} CPUs)`);
for (const [i, row] of table.entries()) {
  console.log(row.map((c, j) => (j === 0 || j === 1 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
for (const r of rows) if (r.jcoError) console.log(`jco run, ${r.scenario}: ${r.jcoError}`);

const resultsDir = path.join(BENCH_DIR, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `p2-echo-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({
  time: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: Q, rounds: args.rounds, rows,
}, null, 2) + '\n');
console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
process.exitCode = args.strict && rows.some((r) => r.pass === false) ? 1 : 0;
