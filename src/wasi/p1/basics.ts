// args, environ, clocks, random, proc_exit/proc_raise, sched_yield.
import { clockid, errno } from './abi.ts';
import type { ImportGroup, P1Context } from './context.ts';
import { ProcExit, WasiError } from './errors.ts';
import { realtimeNs } from '../../fs/times.ts';

const ENCODER = new TextEncoder();
const RANDOM_CHUNK = 65536; // crypto.getRandomValues refuses more than 64 KiB at once

/** Writes a list of strings the way args_get/environ_get do: a pointer array at `ptrs`, and the
 *  NUL-terminated strings one after another at `buf`. Everything is range-checked before the first
 *  byte is written. */
function writeStrings(ctx: P1Context, list: readonly Uint8Array[], ptrs: number, buf: number): number {
  ptrs >>>= 0; buf >>>= 0;
  const total = list.reduce((n, s) => n + s.length + 1, 0);
  ctx.mem.check(ptrs, list.length * 4);
  ctx.mem.check(buf, total);
  let p = buf;
  list.forEach((s, i) => {
    ctx.mem.setU32(ptrs + i * 4, p);
    const dst = ctx.mem.slice(p, s.length + 1);
    dst.set(s);
    dst[s.length] = 0;
    p += s.length + 1;
  });
  return errno.success;
}

function writeSizes(ctx: P1Context, list: readonly Uint8Array[], countPtr: number, sizePtr: number): number {
  countPtr >>>= 0; sizePtr >>>= 0;
  ctx.mem.check(countPtr, 4);
  ctx.mem.check(sizePtr, 4);
  ctx.mem.setU32(countPtr, list.length);
  ctx.mem.setU32(sizePtr, list.reduce((n, s) => n + s.length + 1, 0));
  return errno.success;
}

function cpuTimeNs(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

function clockNow(id: number): bigint {
  switch (id) {
    case clockid.realtime: return realtimeNs();
    case clockid.monotonic: return process.hrtime.bigint();
    // Node exposes no per-thread CPU clock; the guest runs on the main thread, so the process
    // clock is the closest answer for both.
    case clockid.process_cputime_id:
    case clockid.thread_cputime_id: return cpuTimeNs();
    default: throw new WasiError(errno.inval);
  }
}

function clockRes(id: number): bigint {
  switch (id) {
    case clockid.realtime: return 1000n;
    case clockid.monotonic: return 1n;
    case clockid.process_cputime_id:
    case clockid.thread_cputime_id: return 1000n; // process.cpuUsage() counts microseconds
    default: throw new WasiError(errno.inval);
  }
}

export function basicsImports(ctx: P1Context): ImportGroup {
  const args = ctx.args.map((a) => ENCODER.encode(a));
  const env = ctx.env.map((e) => ENCODER.encode(e));
  return {
    functions: {
      args_get: (argv: number, argvBuf: number) => writeStrings(ctx, args, argv, argvBuf),
      args_sizes_get: (argc: number, size: number) => writeSizes(ctx, args, argc, size),
      environ_get: (environ: number, environBuf: number) => writeStrings(ctx, env, environ, environBuf),
      environ_sizes_get: (count: number, size: number) => writeSizes(ctx, env, count, size),

      clock_res_get: (id: number, resPtr: number) => {
        const res = clockRes(id);
        ctx.mem.setU64(resPtr >>> 0, res);
        return errno.success;
      },
      // `precision` is a hint we can ignore: every clock is read at its best resolution.
      clock_time_get: (id: number, _precision: bigint, timePtr: number) => {
        const t = clockNow(id);
        ctx.mem.setU64(timePtr >>> 0, t);
        return errno.success;
      },

      random_get: (buf: number, len: number) => {
        const dst = ctx.mem.slice(buf, len);
        for (let off = 0; off < dst.length; off += RANDOM_CHUNK) {
          crypto.getRandomValues(dst.subarray(off, Math.min(off + RANDOM_CHUNK, dst.length)));
        }
        return errno.success;
      },

      proc_exit: (code: number) => {
        throw new ProcExit(code >>> 0);
      },
      // Deprecated in preview1 and without a portable meaning for a sandboxed guest (there are no
      // signal handlers to run): report it as unsupported.
      proc_raise: (_sig: number) => errno.nosys,
      // The guest has the thread to itself; yielding to other host threads is the OS's business.
      sched_yield: () => errno.success,
    },
  };
}
