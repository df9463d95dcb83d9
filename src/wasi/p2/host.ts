// The WASI 0.2 host: every interface implementation, assembled per component instance.
import type { HostModule, InterfaceImpl, P2Context } from './context.ts';
import { ioHost } from './io/host.ts';
import { socketsHost } from './sockets/host.ts';
import { httpHost } from './http/host.ts';
import { cliHost } from './cli/host.ts';
import { clocksHost } from './clocks/host.ts';
import { randomHost } from './random/host.ts';
import { filesystemHost } from './filesystem/host.ts';

/** Host functions that may suspend the guest (JSPI). Unversioned, so they match every 0.2.x the
 *  component imports. Everything else returns at once: sockets, HTTP and DNS are non-blocking in
 *  0.2 and a guest waits only in poll/block and the blocking stream calls. */
export const ASYNC_IMPORTS: readonly string[] = [
  'wasi:io/poll#poll',
  'wasi:io/poll#[method]pollable.block',
  'wasi:io/streams#[method]input-stream.blocking-read',
  'wasi:io/streams#[method]input-stream.blocking-skip',
  'wasi:io/streams#[method]output-stream.blocking-flush',
  'wasi:io/streams#[method]output-stream.blocking-write-and-flush',
  'wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush',
  'wasi:io/streams#[method]output-stream.blocking-splice',
];

/** Exports that run guest code which may suspend. */
export const ASYNC_EXPORTS: readonly string[] = ['wasi:cli/run#run', 'wasi:http/incoming-handler#handle'];

/** Every part of the binding; each adds the interfaces it implements. */
const MODULES: readonly HostModule[] = [
  ioHost,
  socketsHost,
  cliHost,
  clocksHost,
  randomHost,
  filesystemHost,
  httpHost,
];

export function createHost(ctx: P2Context): Record<string, InterfaceImpl> {
  const host: Record<string, InterfaceImpl> = {};
  for (const m of MODULES) {
    for (const [name, impl] of Object.entries(m(ctx))) {
      if (name in host) throw new Error(`WASI 0.2 interface ${name} implemented twice`);
      host[name] = impl;
    }
  }
  return host;
}
