// What the benchmark scripts (echo.ts, p2-echo.ts, serve.ts) share: their command line, starting and
// stopping servers, running a client that answers in JSON, the alternating rounds of the echo
// benchmarks, and printing and saving the results. Plain child processes only: nothing here may pull
// in node:test (test/support/cli.ts does), or a benchmark would end with test-runner summary lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH_DIR);
export const WASINET = path.join(ROOT, 'bin', 'wasinet.js');
export const JCO = path.join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
const ECHO_CLIENT = path.join(BENCH_DIR, 'echo-client.ts');

// ---- command line ----

/** `flag`: a switch (`--quick`); `number`: `--x N` or `--x=N`; `list`: `--x a,b` or `--x=a,b`. */
export type ArgKind = 'flag' | 'number' | 'list';
type ArgValue<K extends ArgKind> = K extends 'flag' ? boolean : K extends 'number' ? number | undefined : Set<string> | undefined;
export type Parsed<S extends Record<string, ArgKind>> = { -readonly [N in keyof S]: ArgValue<S[N]> };

/** Parses `argv` by `spec` (flag name without `--` → kind); the result has the spec's keys, in its
 *  order: false for absent switches, undefined for absent values (the caller picks defaults, which may
 *  depend on other flags). --help / -h prints `usage` and exits 0; anything else exits 2 with
 *  "SCRIPT: unknown argument". A value given as a separate word is taken as is, even if it starts with
 *  `--`; a missing one is "". */
export function parseArgs<const S extends Record<string, ArgKind>>(argv: readonly string[], script: string, usage: string, spec: S): Parsed<S> {
  const out: Record<string, boolean | number | Set<string> | undefined> = {};
  for (const [name, kind] of Object.entries(spec)) out[name] = kind === 'flag' ? false : undefined;
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--help' || t === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const eq = t.indexOf('=');
    const name = t.startsWith('--') ? t.slice(2, eq < 0 ? undefined : eq) : '';
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === 'flag' && eq < 0) out[name] = true;
    else if (kind === 'number' || kind === 'list') {
      const v = eq >= 0 ? t.slice(eq + 1) : argv[++i] ?? '';
      out[name] = kind === 'number' ? Number(v) : new Set(v.split(','));
    } else {
      console.error(`${script}: unknown argument "${t}"`);
      process.exit(2);
    }
  }
  return out as Parsed<S>;
}

/** Exits 2 unless each of `keys` in `values` is a whole number ≥ 1 (the counts and times the
 *  benchmarks take). */
export function requireWholeNumbers<T extends Record<string, unknown>>(script: string, values: T, keys: readonly (keyof T & string)[]): void {
  for (const k of keys) {
    const v = values[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      console.error(`${script}: --${k} needs a whole number ≥ 1`);
      process.exit(2);
    }
  }
}

// ---- numbers ----

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Three significant digits or so: 1234, 56.7, 8.90. */
export function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// ---- processes ----

let tasksetWorks: boolean | undefined;
/** Whether `taskset -c 0` works here (the pinned scenarios are skipped where it does not). */
export function hasTaskset(): boolean {
  return tasksetWorks ??= spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/** The command prefix pinning a process to CPU 0, or nothing. */
export const pin = (pinned: boolean): string[] => (pinned ? ['taskset', '-c', '0'] : []);

/** A port that was free a moment ago (for servers that must be told theirs). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerOutput { stdout: string; stderr: string }

/** A server process and its port. */
export interface Server {
  port: number;
  /** Stops it (its whole process group) and returns what it printed. */
  stop(): Promise<ServerOutput>;
}

export interface SpawnServerOptions {
  /** Readiness: the server is up once this matches its stdout or its stderr (each on its own); a
   *  first group, if any, is the port. Without it the server counts as started at once. */
  ready?: RegExp;
  /** The port, when `ready` does not tell it. */
  port?: number;
  /** How long `ready` may take; the process is then killed. */
  timeoutMs?: number;
  /** The server exits by itself once its clients are done (a guest given a connection count):
   *  stop() gives it 10 s for that before killing it. */
  exitsByItself?: boolean;
  env?: NodeJS.ProcessEnv;
}

// Servers run in process groups of their own (`jco run` and `jco serve` start a runner process that
// a kill of jco alone would leave behind, holding our pipes), so they are not stopped with us: reap
// any still running when the benchmark ends, also on an error or Ctrl-C.
const live = new Set<ChildProcess>();
const killGroup = (child: ChildProcess): void => {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch { /* already gone */ }
};
let reaping = false;
function reapOnExit(): void {
  if (reaping) return;
  reaping = true;
  process.on('exit', () => { for (const c of live) killGroup(c); });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of live) killGroup(c);
      process.kill(process.pid, sig);
    });
  }
}

/** Output kept per stream: enough for any start-up line or closing statistics, bounded for servers
 *  that log per request. */
const keepTail = (s: string): string => (s.length > 1_000_000 ? s.slice(-100_000) : s);

/** Starts `cmd` in a process group of its own and waits until it is ready (see SpawnServerOptions). */
export function spawnServer(cmd: readonly string[], opts: SpawnServerOptions = {}): Promise<Server> {
  reapOnExit();
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, detached: true, env: opts.env });
  live.add(child);
  const out: ServerOutput = { stdout: '', stderr: '' };
  const closed = new Promise<ServerOutput>((resolve) => {
    child.on('close', () => { live.delete(child); resolve(out); });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const describe = (): string => `${cmd.join(' ')}\n${out.stderr}${out.stdout.slice(0, 4000)}`;
  const server = (m: RegExpMatchArray | undefined): Server => ({
    port: m?.[1] ? Number(m[1]) : opts.port!,
    stop: async () => {
      if (opts.exitsByItself && !gone()) {
        const t = setTimeout(() => killGroup(child), 10_000);
        await closed;
        clearTimeout(t);
      }
      killGroup(child);
      return closed;
    },
  });
  return new Promise((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`server did not start: ${describe()}`));
    }, timeoutMs);
    let up = false;
    const started = (m: RegExpMatchArray | undefined): void => {
      up = true;
      clearTimeout(timer);
      resolve(server(m));
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.setEncoding('utf8').on('data', (d: string) => {
        out[stream] = keepTail(out[stream] + d);
        const m = !up && opts.ready ? out[stream].match(opts.ready) : null;
        if (m) started(m);
      });
    }
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${e.message}: ${cmd.join(' ')}`)); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${describe()}`)); });
    if (!opts.ready) started(undefined);
  });
}

/** Starts `wasinet ARGS...` (prefixed by `wrapper`, e.g. pin(true)) as a server. Transpiled
 *  components are cached inside the checkout (git-ignored), as the tests do, unless
 *  WASINET_CACHE_DIR says otherwise. */
export function startWasinet(args: readonly string[], opts: SpawnServerOptions & { wrapper?: readonly string[] } = {}): Promise<Server> {
  const env = { ...process.env, WASINET_CACHE_DIR: process.env.WASINET_CACHE_DIR ?? path.join(ROOT, '.cache', 'wasinet'), ...opts.env };
  return spawnServer([...(opts.wrapper ?? []), process.execPath, WASINET, ...args], { ...opts, env });
}

/** Runs a client that prints one JSON object on stdout; rejects if it fails, prints something else
 *  or takes longer than `timeoutMs` (it is then killed). `name` says which in the errors. */
export function runJson<T>(cmd: readonly string[], name: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${name} timed out: ${err}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${name} exited ${code}: ${err}`));
      try { resolve(JSON.parse(out.trim()) as T); } catch { reject(new Error(`bad ${name} output: ${out} ${err}`)); }
    });
  });
}

// ---- the echo benchmarks (echo.ts, p2-echo.ts) ----

export interface EchoScenario {
  name: string;
  unit: string;
  /** 'lower' when smaller is better (latency). */
  better: 'lower' | 'higher';
  /** Target for wasinet/native (a max for 'lower', a min for 'higher'); undefined: informational. */
  target?: number;
  /** Server and client pinned to CPU 0 (taskset -c 0). */
  pinned: boolean;
  /** bench/echo-client.ts MODE and its arguments after HOST PORT. */
  clientArgs: string[];
  metric: (r: Record<string, number>) => number;
}

/** Whether to run `sc`: picked by --only (if given), and taskset available if it is pinned. */
export function wanted(sc: EchoScenario, only: Set<string> | undefined): boolean {
  if (only && !only.has(sc.name)) return false;
  if (sc.pinned && !hasTaskset()) {
    console.error(`skipping ${sc.name}: taskset not available`);
    return false;
  }
  return true;
}

/** One bench/echo-client.ts run against 127.0.0.1:`port`; returns the metric of `sc`. */
async function runEchoClient(sc: EchoScenario, port: number): Promise<number> {
  const [mode, ...rest] = sc.clientArgs;
  const cmd = [...pin(sc.pinned), process.execPath, ECHO_CLIENT, mode!, '127.0.0.1', String(port), ...rest];
  return sc.metric(await runJson<Record<string, number>>(cmd, `client ${sc.clientArgs.join(' ')}`, 120_000));
}

export interface RoundHooks<S extends string> {
  /** A fresh server for `side`; it is stopped after its one client run. */
  start(side: S): Promise<Server>;
  /** Leave `side` out of this run (e.g. after it failed). */
  skip?(side: S): boolean;
  /** A run of `side` failed; rethrow to end the benchmark (the default). */
  failed?(side: S, e: Error): void;
  /** What the server of a successful run printed. */
  stopped?(side: S, output: ServerOutput): void;
}

/** Runs scenario `sc` `rounds` times on every side in turn (native, wasinet, native, wasinet, ...), so
 *  that a noisy machine's drift hits all sides alike; each run gets a fresh server. Returns each
 *  side's values, in round order. */
export async function alternateRounds<S extends string>(sc: EchoScenario, rounds: number, sides: readonly S[], hooks: RoundHooks<S>): Promise<Record<S, number[]>> {
  const runs = Object.fromEntries(sides.map((s) => [s, []])) as unknown as Record<S, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (const side of sides) {
      if (hooks.skip?.(side)) continue;
      let server: Server | undefined;
      let output: ServerOutput | undefined;
      try {
        server = await hooks.start(side);
        const v = await runEchoClient(sc, server.port);
        runs[side].push(v);
        process.stderr.write(`${sc.name} round ${round + 1}/${rounds} ${side}: ${fmt(v)} ${sc.unit}\n`);
      } catch (e) {
        if (!hooks.failed) throw e;
        hooks.failed(side, e as Error);
        continue;
      } finally {
        output = await server?.stop();
      }
      if (output) hooks.stopped?.(side, output);
    }
  }
  return runs;
}

/** wasinet against native: the medians of their runs and wasinet/native. */
export function compare(native: readonly number[], wasinet: readonly number[]): { native: number; wasinet: number; ratio: number } {
  const n = median(native), w = median(wasinet);
  return { native: n, wasinet: w, ratio: w / n };
}

/** The target of `sc` and whether `ratio` meets it; nothing for an informational scenario. */
export function checkTarget(sc: EchoScenario, ratio: number): { target?: string; pass?: boolean } {
  if (sc.target === undefined) return {};
  return {
    target: `${sc.better === 'lower' ? '≤' : '≥'} ${sc.target}×`,
    pass: sc.better === 'lower' ? ratio <= sc.target : ratio >= sc.target,
  };
}

/** `info`, `pass` or `FAIL` for the result column. */
export const verdict = (pass: boolean | undefined): string => (pass === undefined ? 'info' : pass ? 'pass' : 'FAIL');

/** Prints `title` with the run's conditions, then `table` (a header row and data rows) aligned: the
 *  first two columns (names) to the left, the numbers to the right. */
export function printTable(title: string, rounds: number, quick: boolean, table: readonly (readonly string[])[]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log(`\n${title} (${rounds} round(s) each, ${quick ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} CPUs)`);
  for (const [i, row] of table.entries()) {
    console.log(row.map((c, j) => (j === 0 || j === 1 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

// ---- results ----

/** Writes `data` as JSON to bench/results/NAME-<time>.json; returns that path relative to the
 *  working directory. */
export function writeResults(name: string, data: unknown): string {
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return path.relative(process.cwd(), file);
}
