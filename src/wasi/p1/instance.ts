import path from 'node:path';
import fs from 'node:fs';
import { RIGHTS_DIR, RIGHTS_FILE, RIGHTS_LISTENER, RIGHTS_STDIO } from './abi.ts';
import { P1Context, type P1Options } from './context.ts';
import { buildImports, withNosys } from './imports.ts';
import { ProcExit } from './errors.ts';
import { basicsImports } from './basics.ts';
import { fsImports } from './fs/imports.ts';
import { socketImports } from './sockets.ts';
import { pollImports } from './poll.ts';

export const P1_MODULE = 'wasi_snapshot_preview1';

/** Lays out the guest's fds: 0-2 stdio, then the preopened directories (so wasi-libc's prestat
 *  scan from fd 3 finds them all), then the preopened listeners, whose fd_prestat_get answers EBADF
 *  and so ends the scan. Without directories the first listener is fd 3. */
export function createContext(options: P1Options): P1Context {
  const ctx = new P1Context(options);
  const stdio = options.stdio ?? [0, 1, 2];
  for (const hostFd of stdio) {
    ctx.fds.add({ kind: 'stdio', hostFd, rightsBase: RIGHTS_STDIO, rightsInheriting: 0n, fdflags: 0 });
  }
  for (const p of options.preopens) {
    const host = path.resolve(p.host);
    if (!fs.statSync(host).isDirectory()) throw new Error(`--dir ${p.host}: not a directory`);
    ctx.fds.add({
      kind: 'dir', hostPath: host, root: host, preopenName: p.guest,
      rightsBase: RIGHTS_DIR, rightsInheriting: RIGHTS_DIR | RIGHTS_FILE, fdflags: 0,
    });
  }
  for (const listener of options.listeners) {
    ctx.fds.add({ kind: 'listener', listener, rightsBase: RIGHTS_LISTENER, rightsInheriting: 0n, fdflags: 0 });
  }
  return ctx;
}

/** The import object for one guest. */
export function p1Imports(ctx: P1Context, module?: WebAssembly.Module): Record<string, Function> {
  const imports = buildImports(ctx, [basicsImports(ctx), fsImports(ctx), socketImports(ctx), pollImports(ctx)]);
  if (module) {
    const wanted = WebAssembly.Module.imports(module).filter((i) => i.module === P1_MODULE && i.kind === 'function');
    withNosys(imports, wanted.map((i) => i.name));
  }
  return imports;
}

export type RunResult = { exitCode: number };

/** Instantiates a p1 command module and runs `_start` under JSPI. Resolves with the exit code
 *  (proc_exit's, or 0 when _start returns); rejects with the trap if the guest traps. */
export async function runCommand(module: WebAssembly.Module, ctx: P1Context): Promise<RunResult> {
  const imports = { [P1_MODULE]: p1Imports(ctx, module) };
  const instance = await WebAssembly.instantiate(module, imports);
  const memory = instance.exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('module exports no memory');
  ctx.mem.bind(memory);
  const start = instance.exports._start;
  if (typeof start !== 'function') throw new Error('module exports no _start (not a WASI command)');
  try {
    await WebAssembly.promising(start)();
    return { exitCode: 0 };
  } catch (e) {
    if (e instanceof ProcExit) return { exitCode: e.code };
    throw e;
  }
}
