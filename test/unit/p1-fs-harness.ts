// Drives the p1 binding from tests through test/guests/wat/fs-harness.wat, a module that exports a
// trampoline for each preview1 import: every call goes through the real import wrappers (errno
// mapping, JSPI suspension, BigInt i64s) exactly as a guest's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { createContext, p1Imports, P1_MODULE } from '../../src/wasi/p1/instance.ts';
import type { P1Context, Preopen } from '../../src/wasi/p1/context.ts';
import type { Network } from '../../src/net/types.ts';

// WASI p1 constants used by the tests (typenames.witx).
export const E = {
  SUCCESS: 0, BADF: 8, BUSY: 10, EXIST: 20, FAULT: 21, FBIG: 22, ILSEQ: 25, INVAL: 28, ISDIR: 31,
  LOOP: 32, NAMETOOLONG: 37, NOENT: 44, NOSYS: 52, NOTDIR: 54, NOTEMPTY: 55, SPIPE: 70, NOTCAPABLE: 76,
} as const;
export const FT = { UNKNOWN: 0, CHAR: 2, DIR: 3, FILE: 4, SOCKET: 6, SYMLINK: 7 } as const;
export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const FST = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;
export const FOLLOW = 1;
export const R = {
  FD_READ: 1n << 1n, FD_SEEK: 1n << 2n, FD_FDSTAT_SET_FLAGS: 1n << 3n, FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n, FD_READDIR: 1n << 14n, FD_FILESTAT_GET: 1n << 21n,
  FD_FILESTAT_SET_SIZE: 1n << 22n, FD_FILESTAT_SET_TIMES: 1n << 23n, PATH_OPEN: 1n << 13n,
} as const;
export const RW = R.FD_READ | R.FD_WRITE | R.FD_SEEK | R.FD_TELL | R.FD_FILESTAT_GET
  | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES | R.FD_FDSTAT_SET_FLAGS
  | (1n << 0n) /* datasync */ | (1n << 4n) /* sync */ | (1n << 7n) /* advise */ | (1n << 8n) /* allocate */;
/** A pointer far outside the harness's 2 pages of memory. */
export const WILD = 0x7fff_fff0;
/** The first preopen's fd. */
export const PRE = 3;

export interface HarnessOptions {
  preopens?: Preopen[];
  args?: string[];
  env?: Record<string, string>;
  stdio?: [number, number, number];
}

export class Harness {
  readonly ctx: P1Context;
  readonly #exports: WebAssembly.Exports;
  readonly #memory: WebAssembly.Memory;
  #bump = 4096;

  constructor(ctx: P1Context, instance: WebAssembly.Instance) {
    this.ctx = ctx;
    this.#exports = instance.exports;
    this.#memory = instance.exports.memory as WebAssembly.Memory;
  }

  /** Calls the trampoline for p1 function `name` (under JSPI, so suspending imports work). */
  async call(name: string, ...args: (number | bigint)[]): Promise<number> {
    const fn = this.#exports[name];
    if (typeof fn !== 'function') throw new Error(`harness exports no ${name}`);
    return (await WebAssembly.promising(fn as Function)(...args)) as number;
  }

  get bytes(): Uint8Array { return new Uint8Array(this.#memory.buffer); }
  get view(): DataView { return new DataView(this.#memory.buffer); }

  /** Reserves `n` bytes of scratch memory (8-aligned, zeroed). */
  alloc(n: number): number {
    const p = this.#bump;
    this.#bump = (this.#bump + n + 7) & ~7;
    if (this.#bump > this.#memory.buffer.byteLength) throw new Error('harness scratch memory exhausted');
    this.bytes.fill(0, p, p + n);
    return p;
  }

  /** Copies bytes/a string into scratch memory: [ptr, len]. */
  put(data: string | Uint8Array): [number, number] {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    const p = this.alloc(b.length);
    this.bytes.set(b, p);
    return [p, b.length];
  }

  /** An iovec array over fresh buffers of the given sizes: [iovs ptr, count, buffer ptrs]. */
  iovecs(...sizes: number[]): [number, number, number[]] {
    const arr = this.alloc(sizes.length * 8);
    const bufs = sizes.map((n) => this.alloc(n));
    sizes.forEach((n, i) => {
      this.view.setUint32(arr + i * 8, bufs[i]!, true);
      this.view.setUint32(arr + i * 8 + 4, n, true);
    });
    return [arr, sizes.length, bufs];
  }

  /** A ciovec array over copies of `chunks`: [iovs ptr, count]. */
  ciovecs(...chunks: (string | Uint8Array)[]): [number, number] {
    const arr = this.alloc(chunks.length * 8);
    chunks.forEach((c, i) => {
      const [p, n] = this.put(c);
      this.view.setUint32(arr + i * 8, p, true);
      this.view.setUint32(arr + i * 8 + 4, n, true);
    });
    return [arr, chunks.length];
  }

  u8(p: number): number { return this.view.getUint8(p); }
  u16(p: number): number { return this.view.getUint16(p, true); }
  u32(p: number): number { return this.view.getUint32(p, true); }
  u64(p: number): bigint { return this.view.getBigUint64(p, true); }
  str(p: number, n: number): string { return Buffer.from(this.bytes.subarray(p, p + n)).toString('utf8'); }

  // Conveniences over the raw calls.

  /** path_open; resolves to [errno, fd]. */
  async open(dirfd: number, p: string, opts: { oflags?: number; base?: bigint; inheriting?: bigint; fdflags?: number; follow?: boolean } = {}): Promise<[number, number]> {
    const [pp, pl] = this.put(p);
    const out = this.alloc(4);
    this.view.setUint32(out, 0xdead, true);
    const rc = await this.call('path_open', dirfd, opts.follow === false ? 0 : FOLLOW, pp, pl, opts.oflags ?? 0,
      opts.base ?? RW, opts.inheriting ?? 0n, opts.fdflags ?? 0, out);
    return [rc, this.u32(out)];
  }

  async write(fd: number, ...chunks: string[]): Promise<[number, number]> {
    const [iovs, n] = this.ciovecs(...chunks);
    const out = this.alloc(4);
    const rc = await this.call('fd_write', fd, iovs, n, out);
    return [rc, this.u32(out)];
  }

  async read(fd: number, size: number): Promise<[number, string]> {
    const [iovs, n, [buf]] = this.iovecs(size);
    const out = this.alloc(4);
    const rc = await this.call('fd_read', fd, iovs, n, out);
    return [rc, rc === 0 ? this.str(buf!, this.u32(out)) : ''];
  }

  /** fd_filestat_get / path_filestat_get result. */
  filestat(p: number): { dev: bigint; ino: bigint; filetype: number; nlink: bigint; size: bigint; atim: bigint; mtim: bigint; ctim: bigint } {
    return {
      dev: this.u64(p), ino: this.u64(p + 8), filetype: this.u8(p + 16), nlink: this.u64(p + 24),
      size: this.u64(p + 32), atim: this.u64(p + 40), mtim: this.u64(p + 48), ctim: this.u64(p + 56),
    };
  }

  async pathStat(dirfd: number, p: string, follow = true): Promise<[number, ReturnType<Harness['filestat']>]> {
    const [pp, pl] = this.put(p);
    const out = this.alloc(64);
    const rc = await this.call('path_filestat_get', dirfd, follow ? FOLLOW : 0, pp, pl, out);
    return [rc, this.filestat(out)];
  }

  async fdStat(fd: number): Promise<[number, ReturnType<Harness['filestat']>]> {
    const out = this.alloc(64);
    const rc = await this.call('fd_filestat_get', fd, out);
    return [rc, this.filestat(out)];
  }

  async fdstat(fd: number): Promise<[number, { filetype: number; flags: number; base: bigint; inheriting: bigint }]> {
    const out = this.alloc(24);
    const rc = await this.call('fd_fdstat_get', fd, out);
    return [rc, { filetype: this.u8(out), flags: this.u16(out + 2), base: this.u64(out + 8), inheriting: this.u64(out + 16) }];
  }

  /** Calls a path_* function whose arguments are (fd, path ptr, path len). */
  async pathCall(name: string, dirfd: number, p: string): Promise<number> {
    const [pp, pl] = this.put(p);
    return this.call(name, dirfd, pp, pl);
  }
}

/** Instantiates the harness with a fresh context. */
export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const wasm = await buildGuest('wat/fs-harness.wat');
  const module = new WebAssembly.Module(fs.readFileSync(wasm));
  const ctx = createContext({
    args: opts.args ?? ['harness'], env: opts.env ?? {}, preopens: opts.preopens ?? [],
    listeners: [], network: {} as unknown as Network, stdio: opts.stdio,
  });
  const instance = new WebAssembly.Instance(module, { [P1_MODULE]: p1Imports(ctx, module) as WebAssembly.ModuleImports });
  ctx.mem.bind(instance.exports.memory as WebAssembly.Memory);
  return new Harness(ctx, instance);
}

export function tempDir(prefix = 'wasinet-fs-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
