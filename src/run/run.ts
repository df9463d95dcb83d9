// The embedding API: run one WASI guest with its network policy. The CLI is a thin shell over this.
import fs from 'node:fs/promises';
import { NetworkCore } from '../net/core.ts';
import type { Accounting, Limits, SocketAddress, TcpListener } from '../net/types.ts';
import { Checker } from '../policy/checker.ts';
import type { Policy } from '../policy/policy.ts';
import type { AuditSink, Decision, Request } from '../policy/types.ts';
import type { Preopen } from '../wasi/p1/context.ts';
import { createContext, runCommand } from '../wasi/p1/instance.ts';
import { closeGuestFiles } from '../wasi/p1/fs/imports.ts';
import { binaryKind } from './module.ts';
import { loadComponent } from '../wasi/p2/component.ts';
import { runComponentCommand } from '../wasi/p2/instance.ts';

export interface RunOptions {
  /** argv[0] and the rest, as the guest sees them. */
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Directories the guest may use. */
  preopens?: readonly Preopen[];
  /** Listening sockets opened for the guest (operator-granted: bind/listen are not asked of the policy,
   *  accept is). Addresses with port 0 get an ephemeral port; see `onListening`. */
  listen?: readonly (SocketAddress | { fd: number })[];
  /** The network policy. Deny everything when absent. */
  policy: Policy;
  audit?: AuditSink;
  limits?: Partial<Limits>;
  /** The guest's name in audit events. */
  guest?: string;
  /** Called once per listener before the guest starts, with the guest fd it got. */
  onListening?: (address: SocketAddress, fd: number) => void;
  /** Called for each policy denial. */
  onDeny?: (req: Request, decision: Decision) => void;
  stdio?: readonly [number, number, number];
  /** Where transpiled components are cached (see loadComponent). */
  cacheDir?: string;
  /** Diagnostics (`--verbose`), e.g. transpile cache misses. */
  log?: (line: string) => void;
}

export interface RunResult {
  exitCode: number;
  accounting: Accounting;
}

/** Runs a WASI command (a p1 core module or a 0.2 component) to completion. Rejects with the trap if
 *  the guest traps. */
export async function run(wasm: Uint8Array<ArrayBuffer> | string, options: RunOptions): Promise<RunResult> {
  const bytes: Uint8Array<ArrayBuffer> = typeof wasm === 'string' ? new Uint8Array(await fs.readFile(wasm)) : wasm;
  const kind = binaryKind(bytes);
  if (kind === 'component' && options.listen?.length) {
    throw new Error('preopened listeners are for WASI preview 1 modules; a component listens with wasi:sockets');
  }
  const guest = options.guest ?? (typeof wasm === 'string' ? wasm : 'guest');
  const checker = new Checker(options.policy, { guest, audit: options.audit, onDeny: options.onDeny });
  const network = new NetworkCore({ guest, checker, limits: options.limits });
  try {
    const listeners: TcpListener[] = [];
    for (const spec of options.listen ?? []) listeners.push(await network.adoptListener(spec));
    const preopens = options.preopens ?? [];
    const firstListenerFd = 3 + preopens.length;
    const env: Record<string, string> = { ...options.env };
    if (listeners.length > 0) {
      env.LISTEN_FDS ??= String(listeners.length);
      env.LISTEN_FDS_FIRST_FD ??= String(firstListenerFd);
    }
    listeners.forEach((l, i) => options.onListening?.(l.localAddress, firstListenerFd + i));
    const args = options.args ?? [guest];
    if (kind === 'component') {
      const component = await loadComponent(bytes, { cacheDir: options.cacheDir, log: options.log });
      const { exitCode } = await runComponentCommand(component, { args, env, preopens, network, stdio: options.stdio });
      return { exitCode, accounting: { ...network.accounting } };
    }
    const ctx = createContext({ args, env, preopens, listeners, network, stdio: options.stdio });
    const module = await WebAssembly.compile(bytes);
    try {
      const { exitCode } = await runCommand(module, ctx);
      return { exitCode, accounting: { ...network.accounting } };
    } finally {
      closeGuestFiles(ctx);
    }
  } finally {
    network.close();
  }
}
