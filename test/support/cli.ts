// Runs `node bin/wasinet.js run ...` in tests: collects stdout/stderr, waits for listener
// announcements, waits for exit with a timeout (killing the child and failing on timeout).
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import path from 'node:path';
import { REPO_ROOT } from './guests.ts';

export const CLI_PATH = path.join(REPO_ROOT, 'bin', 'wasinet.js');

export interface StartOptions {
  cwd?: string;
  /** Extra environment for the wasinet process (not the guest: use --env for that). */
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed. Default: stdin closed at once. */
  stdin?: string | Uint8Array;
  /** Prefix the command, e.g. ['taskset', '-c', '0']. */
  wrapper?: readonly string[];
  /** Default for waits on this process (ms). */
  timeoutMs?: number;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Listening {
  host: string;   // as printed, without brackets
  port: number;
  fd: number;
  family: 4 | 6;
}

const LISTEN_RE = /^wasinet: listening on (\[[^\]]+\]|[^\s\[\]]+):(\d+) \(fd (\d+)\)\s*$/;

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', killAll);
// A failed or timed-out test may leave its child running; its pipes would keep the test file alive
// until the runner's own timeout. Reap them when the file's tests are done.
after(killAll);

export class CliProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  #stdout: Buffer[] = [];
  #stderr = '';
  #waiters = new Set<() => void>();
  #exit: Promise<ExitResult>;
  #exited: ExitResult | undefined;

  constructor(args: readonly string[], opts: StartOptions = {}) {
    this.args = args;
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    const argv = [CLI_PATH, ...args];
    const [cmd, ...pre] = opts.wrapper?.length ? [...opts.wrapper, process.execPath] : [process.execPath];
    this.child = spawn(cmd!, [...pre, ...argv], {
      cwd: opts.cwd ?? REPO_ROOT,
      // transpiled components are cached inside the checkout (git-ignored), not in the user's ~/.cache
      env: { ...process.env, WASINET_CACHE_DIR: process.env.WASINET_CACHE_DIR ?? path.join(REPO_ROOT, '.cache', 'wasinet'), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.child.stdout!.on('data', (d: Buffer) => {
      this.#stdout.push(d);
      for (const w of [...this.#waiters]) w();
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => {
      this.#stderr += d;
      for (const w of [...this.#waiters]) w();
    });
    this.child.stdin!.on('error', () => { /* child may exit before reading stdin */ });
    if (opts.stdin !== undefined) this.child.stdin!.end(opts.stdin);
    else this.child.stdin!.end();
    this.#exit = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        live.delete(this.child);
        this.#exited = { code, signal, stdout: this.stdout, stderr: this.#stderr };
        resolve(this.#exited);
        for (const w of [...this.#waiters]) w();
      });
    });
    this.#exit.catch(() => { /* reported by waiters */ });
  }

  get stdout(): string { return Buffer.concat(this.#stdout).toString('utf8'); }
  get stdoutBytes(): Buffer { return Buffer.concat(this.#stdout); }
  get stderr(): string { return this.#stderr; }
  get exited(): ExitResult | undefined { return this.#exited; }
  get pid(): number | undefined { return this.child.pid; }

  #describe(): string {
    return `wasinet ${this.args.join(' ')}\n--- stderr ---\n${this.#stderr}\n--- stdout ---\n${this.stdout.slice(0, 4000)}`;
  }

  /** Waits until `check()` (re-run at every stdout/stderr chunk) returns something other than undefined.
   *  Rejects if the process exits first, or on timeout (the process is then killed). */
  #waitUntil<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        this.kill();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.#describe()}`));
      }, timeoutMs);
      const waiter = () => {
        const v = check();
        if (v !== undefined) { done(); resolve(v); return; }
        if (this.#exited) {
          done();
          reject(new Error(`process exited (code ${this.#exited.code}, signal ${this.#exited.signal}) while waiting for ${what}\n${this.#describe()}`));
        }
      };
      const done = () => { clearTimeout(timer); this.#waiters.delete(waiter); };
      this.#waiters.add(waiter);
      waiter();
    });
  }

  /** Waits until a line of stderr matches `re`. */
  waitForStderr(re: RegExp, timeoutMs = this.timeoutMs): Promise<RegExpMatchArray> {
    return this.#waitUntil(() => {
      for (const line of this.#stderr.split('\n')) {
        const m = line.match(re);
        if (m) return m;
      }
      return undefined;
    }, `stderr line ${re}`, timeoutMs);
  }

  /** Waits until the whole stdout so far matches `re`. */
  waitForStdout(re: RegExp, timeoutMs = this.timeoutMs): Promise<RegExpMatchArray> {
    return this.#waitUntil(() => this.stdout.match(re) ?? undefined, `stdout ${re}`, timeoutMs);
  }

  /** Waits for `count` "wasinet: listening on ADDR:PORT (fd N)" lines; returns them in order. */
  listening(count = 1, timeoutMs = this.timeoutMs): Promise<Listening[]> {
    return this.#waitUntil(() => {
      const found = parseListening(this.#stderr);
      return found.length >= count ? found.slice(0, count) : undefined;
    }, `${count} listener announcement(s)`, timeoutMs);
  }

  /** Waits for exit; on timeout kills the process (SIGKILL) and rejects with its output so far. */
  async exit(timeoutMs = this.timeoutMs): Promise<ExitResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for exit\n${this.#describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process (if running) and waits for it to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitResult> {
    if (!this.#exited) this.kill(signal);
    return this.#exit;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.#exited) {
      try { this.child.kill(signal); } catch { /* gone */ }
    }
  }
}

export function parseListening(stderr: string): Listening[] {
  const out: Listening[] = [];
  for (const line of stderr.split('\n')) {
    const m = line.match(LISTEN_RE);
    if (!m) continue;
    const raw = m[1]!;
    const host = raw.startsWith('[') ? raw.slice(1, -1) : raw;
    out.push({ host, port: Number(m[2]), fd: Number(m[3]), family: host.includes(':') ? 6 : 4 });
  }
  return out;
}

/** Starts `wasinet run <runArgs...>`. */
export function startRun(runArgs: readonly string[], opts: StartOptions = {}): CliProcess {
  return new CliProcess(['run', ...runArgs], opts);
}

/** Starts `wasinet <args...>` (any subcommand). */
export function startCli(args: readonly string[], opts: StartOptions = {}): CliProcess {
  return new CliProcess(args, opts);
}

/** Runs `wasinet run <runArgs...>` to completion (killed and rejected after the timeout). */
export async function runToExit(runArgs: readonly string[], opts: StartOptions = {}): Promise<ExitResult> {
  const p = startRun(runArgs, opts);
  return p.exit(opts.timeoutMs);
}

/** Starts a server guest with the given --listen addresses and waits for all announcements. */
export async function startServer(
  guest: string,
  opts: { listen?: readonly string[]; flags?: readonly string[]; args?: readonly string[] } & StartOptions = {},
): Promise<{ proc: CliProcess; listeners: Listening[] }> {
  const listen = opts.listen ?? ['127.0.0.1:0'];
  const flags = [...listen.flatMap((l) => ['--listen', l]), ...(opts.flags ?? [])];
  const proc = startRun([...flags, guest, ...(opts.args ?? [])], opts);
  try {
    const listeners = await proc.listening(listen.length);
    return { proc, listeners };
  } catch (e) {
    proc.kill();
    throw e;
  }
}
