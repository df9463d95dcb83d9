// The fd_* and path_* part of wasi_snapshot_preview1.
import fs from 'node:fs';
import type { ImportGroup, P1Context } from '../context.ts';
import { fdFunctions } from './fd.ts';
import { pathFunctions } from './path.ts';

export function fsImports(ctx: P1Context): ImportGroup {
  return {
    functions: { ...fdFunctions(ctx), ...pathFunctions(ctx) },
    // fd_read/fd_write may wait: on stdin, on a full non-blocking stdout, and on sockets. They
    // still return synchronously for files (JSPI only suspends when a Promise comes back).
    suspending: ['fd_read', 'fd_write'],
  };
}

/** Closes the host fds of every open file the guest left behind (call when the guest is done). */
export function closeGuestFiles(ctx: P1Context): void {
  for (const [fd, e] of [...ctx.fds.entries()]) {
    if (e.kind !== 'file') continue;
    ctx.fds.remove(fd);
    try { fs.closeSync(e.hostFd); } catch { /* already gone */ }
  }
}
