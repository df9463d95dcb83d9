// poll_oneoff: clock and fd subscriptions. A call that finds something ready answers synchronously;
// otherwise it subscribes one waker to every socket it watches, arms one timer for the earliest
// deadline, and suspends the guest until either fires. Files and stdio are always ready (reads of
// them do not wait on the network).
import { clockid, errno, eventrwflags, eventtype, subclockflags } from './abi.ts';
import type { ImportGroup, P1Context } from './context.ts';
import type { Pollable, TcpConnection } from '../../net/types.ts';
import { monotonicNow, waitAny } from '../../net/pollable.ts';
import { WasiError } from './errors.ts';

const SUB_SIZE = 48;
const EVENT_SIZE = 32;

interface Sub {
  userdata: bigint;
  type: number;
  /** clock: absolute deadline in monotonic ns; fd: the fd. */
  deadline: bigint;
  fd: number;
}

const realtimeNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

function readSubs(ctx: P1Context, inPtr: number, n: number): Sub[] {
  ctx.mem.check(inPtr, n * SUB_SIZE);
  const v = ctx.mem.view; // one bounds check above covers every read below
  const now = monotonicNow();
  const subs: Sub[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = inPtr + i * SUB_SIZE;
    const userdata = v.getBigUint64(p, true);
    const type = v.getUint8(p + 8);
    if (type === eventtype.clock) {
      const id = v.getUint32(p + 16, true);
      const timeout = v.getBigUint64(p + 24, true);
      const abs = (v.getUint16(p + 40, true) & subclockflags.subscription_clock_abstime) !== 0;
      let deadline: bigint;
      if (id === clockid.realtime) deadline = abs ? now + (timeout - realtimeNow()) : now + timeout;
      else if (id === clockid.monotonic || id === clockid.process_cputime_id || id === clockid.thread_cputime_id) deadline = abs ? timeout : now + timeout;
      else throw new WasiError(errno.inval);
      subs[i] = { userdata, type, deadline, fd: -1 };
    } else if (type === eventtype.fd_read || type === eventtype.fd_write) {
      subs[i] = { userdata, type, deadline: 0n, fd: v.getUint32(p + 16, true) };
    } else {
      throw new WasiError(errno.inval);
    }
  }
  return subs;
}

/** What an fd subscription waits on: a pollable, or `null` when it is ready by nature (files,
 *  stdio) or in error. */
interface FdState {
  pollable: Pollable | null;
  error: number;
  conn?: TcpConnection;
}

function fdState(ctx: P1Context, sub: Sub): FdState {
  const e = ctx.fds.tryGet(sub.fd);
  if (!e) return { pollable: null, error: errno.badf };
  if (e.kind === 'socket') return { pollable: sub.type === eventtype.fd_read ? e.conn.readable : e.conn.writable, error: 0, conn: e.conn };
  if (e.kind === 'listener') return sub.type === eventtype.fd_read ? { pollable: e.listener.acceptable, error: 0 } : { pollable: null, error: errno.notsup };
  if (e.kind === 'dir') return { pollable: null, error: errno.isdir };
  return { pollable: null, error: 0 };
}

/** Writes event `i`; the caller checked the whole event array once. */
function writeEvent(v: DataView, outPtr: number, i: number, sub: Sub, error: number, conn?: TcpConnection): void {
  const p = outPtr + i * EVENT_SIZE;
  v.setBigUint64(p, sub.userdata, true);
  v.setUint16(p + 8, error, true);
  v.setUint8(p + 10, sub.type);
  let nbytes = 0;
  let flags = 0;
  if (conn && sub.type === eventtype.fd_read && error === 0) {
    nbytes = conn.bufferedBytes;
    // A readable socket with nothing buffered has reached its end (or an error): report the hang-up.
    if (nbytes === 0) flags = eventrwflags.fd_readwrite_hangup;
  }
  v.setBigUint64(p + 16, BigInt(nbytes), true);
  v.setUint16(p + 24, flags, true);
}

/** One scan: writes an event for every ready subscription; returns how many. */
function scan(ctx: P1Context, subs: Sub[], states: (FdState | undefined)[], outPtr: number): number {
  let count = 0;
  let now = -1n;
  const v = ctx.mem.view;
  for (let i = 0; i < subs.length; i++) {
    const sub = subs[i]!;
    if (sub.type === eventtype.clock) {
      if (now < 0n) now = monotonicNow();
      if (sub.deadline <= now) writeEvent(v, outPtr, count++, sub, 0);
      continue;
    }
    const st = states[i]!;
    if (st.pollable === null || st.pollable.ready) writeEvent(v, outPtr, count++, sub, st.error, st.conn);
  }
  return count;
}

export function pollImports(ctx: P1Context): ImportGroup {
  return {
    suspending: ['poll_oneoff'],
    functions: {
      poll_oneoff(inPtr: number, outPtr: number, n: number, neventsPtr: number): number | Promise<number> {
        if (n === 0) throw new WasiError(errno.inval);
        ctx.mem.check(outPtr, n * EVENT_SIZE);
        ctx.mem.check(neventsPtr, 4);
        const subs = readSubs(ctx, inPtr, n);
        const states = subs.map((s) => (s.type === eventtype.clock ? undefined : fdState(ctx, s)));
        const count = scan(ctx, subs, states, outPtr);
        if (count > 0) {
          ctx.mem.setU32(neventsPtr, count);
          return errno.success;
        }
        return waitAndScan(ctx, subs, states, outPtr, neventsPtr);
      },
    },
  };
}

async function waitAndScan(ctx: P1Context, subs: Sub[], states: (FdState | undefined)[], outPtr: number, neventsPtr: number): Promise<number> {
  let earliest = -1n;
  for (const s of subs) if (s.type === eventtype.clock && (earliest < 0n || s.deadline < earliest)) earliest = s.deadline;
  const pollables: Pollable[] = [];
  for (const st of states) if (st?.pollable) pollables.push(st.pollable);
  for (;;) {
    await waitAny(pollables, earliest);
    const count = scan(ctx, subs, states, outPtr);
    if (count > 0) {
      ctx.mem.setU32(neventsPtr, count);
      return errno.success;
    }
  }
}
