// `wasinet serve`: an HTTP server (front.ts: HTTP/1.1, or HTTPS with HTTP/2) whose requests are
// handled by a WASI 0.2 component exporting wasi:http/incoming-handler. The listening address is
// the operator's; everything the guest does while handling requests (outbound HTTP, sockets,
// lookups) goes through one network core under the guest's policy, shared by every instance.
import fs from 'node:fs/promises';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { NetworkCore } from '../net/core.ts';
import { httpClientFor, HttpError, type Field, type HttpErrorCode } from '../net/http-client.ts';
import type { Accounting, Limits, SocketAddress } from '../net/types.ts';
import { Checker } from '../policy/checker.ts';
import type { Policy } from '../policy/policy.ts';
import type { AuditSink } from '../policy/types.ts';
import { binaryKind } from '../run/module.ts';
import type { Preopen } from '../wasi/p1/context.ts';
import { loadComponent, type LoadedComponent } from '../wasi/p2/component.ts';
import { P2Context } from '../wasi/p2/context.ts';
import { createHost } from '../wasi/p2/host.ts';
import { checkImports } from '../wasi/p2/instance.ts';
import { ResponseOutparam, type IncomingRequest, type ResponseBody, type ResponseTarget } from '../wasi/p2/http/types.ts';
import { incomingRequest, NodeResponseWriter } from './node-http.ts';
import { Deadlines } from './deadlines.ts';
import { checkTls, createFront, type FrontRequest, type FrontResponse, type TlsOptions } from './front.ts';
import { InstancePool, type PoolInstance } from './pool.ts';

export interface ServeOptions {
  /** Where to listen (the operator's choice: not subject to the guest's policy). */
  address: SocketAddress;
  /** Serve HTTPS with this certificate and key: HTTP/2 and HTTP/1.1, offered by ALPN. Without it,
   *  plain HTTP/1.1. */
  tls?: TlsOptions;
  /** The guest's network policy. Deny everything when absent. */
  policy: Policy;
  audit?: AuditSink;
  limits?: Partial<Limits>;
  env?: Readonly<Record<string, string>>;
  preopens?: readonly Preopen[];
  /** The guest's name in audit events. */
  guest?: string;
  /** Instances handling requests at once (default: 2 per CPU, at most 16). */
  maxConcurrent?: number;
  /** Use every instance for one request only (components that serve only one request per instance,
   *  such as componentize-js's fetch-event style, are also detected). */
  instancePerRequest?: boolean;
  /** How long a handler may run (until its call returns, so streaming its body included) before the
   *  request fails and its instance is discarded; 0: no limit. Default 5 minutes. Only a handler
   *  that waits (on I/O, a clock) can be stopped: wasm computing without calling the host holds
   *  Node's thread, which JavaScript cannot interrupt. */
  requestTimeoutMs?: number;
  cacheDir?: string;
  /** Diagnostics: transpile cache misses, handler failures. */
  log?: (line: string) => void;
  /** What an operator should hear about: switching to one request per instance, instances that
   *  cannot be made. */
  warn?: (line: string) => void;
}

export interface Server {
  readonly address: SocketAddress;
  /** `http` or `https`. */
  readonly scheme: 'http' | 'https';
  readonly accounting: Readonly<Accounting>;
  /** Requests being handled or waiting for an instance. */
  readonly inFlight: number;
  /** Stops accepting, lets requests in flight finish, releases every instance. */
  close(): Promise<void>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

export function defaultMaxConcurrent(): number {
  return Math.max(2, Math.min(16, 2 * os.availableParallelism()));
}

const INCOMING_HANDLER = /^wasi:http\/incoming-handler@0\.2\.\d+$/;

type Handle = (req: IncomingRequest, out: ResponseOutparam) => Promise<void>;

interface Instance extends PoolInstance {
  handle: Handle;
}

/** The handle function of a component's incoming-handler export, or a clear error. */
function findHandler(component: LoadedComponent, exports: Record<string, unknown>): Handle {
  const key = Object.keys(exports).find((k) => INCOMING_HANDLER.test(k));
  const handle = key ? (exports[key] as { handle?: Handle }).handle : undefined;
  if (typeof handle === 'function') return handle;
  const names = component.exports.map(([n]) => n);
  throw new Error(`the component exports no wasi:http/incoming-handler@0.2.x; it exports: ${names.join(', ') || 'nothing'}`);
}

const BODY_BUFFER = 1 << 20;

/** One request's bookkeeping: the writer of the response the guest set (told when the connection
 *  closes), and the two events (handler done, response closed) it waits for to count as finished. */
interface Exchange {
  writer: NodeResponseWriter | undefined;
  pending: number;
}

export async function serve(wasm: Uint8Array | string, options: ServeOptions): Promise<Server> {
  const bytes = typeof wasm === 'string' ? new Uint8Array(await fs.readFile(wasm)) : wasm;
  if (binaryKind(bytes) !== 'component') throw new Error('wasinet serve runs WASI 0.2 components (this is a core module)');
  if (options.tls) checkTls(options.tls);
  const guest = options.guest ?? (typeof wasm === 'string' ? wasm : 'guest');
  const log = options.log ?? (() => {});
  const warn = options.warn ?? log;
  const checker = new Checker(options.policy, { guest, audit: options.audit });
  const network = new NetworkCore({ guest, checker, limits: options.limits });
  const component = await loadComponent(bytes, { cacheDir: options.cacheDir, log });
  const args = [guest];
  const env = { ...options.env };
  const preopens = options.preopens ?? [];
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError('requestTimeoutMs must be a number ≥ 0');

  const createInstance = async (): Promise<Instance> => {
    const ctx = new P2Context({ args, env, preopens, network });
    try {
      const host = createHost(ctx);
      checkImports(component, host);
      const exports = await component.instantiate(host);
      return { handle: findHandler(component, exports), served: 0, close: () => ctx.close() };
    } catch (e) {
      await ctx.close();
      throw e;
    }
  };

  // one instance now: a component that cannot be instantiated fails before we listen
  let first: Instance;
  try {
    first = await createInstance();
  } catch (e) {
    network.close();
    throw e;
  }
  const pool = new InstancePool<Instance>({
    max: options.maxConcurrent ?? defaultMaxConcurrent(),
    create: createInstance,
    onCreateError: (err) => warn(`could not instantiate the component: ${err instanceof Error ? err.message : String(err)}`),
  });
  pool.add(first);
  const deadlines = timeoutMs > 0 ? new Deadlines(timeoutMs) : null;
  if (options.instancePerRequest) pool.oneShot = true;

  let inFlight = 0;
  let idleResolve: (() => void) | null = null;
  let stopping = false;
  const done = (): void => {
    inFlight--;
    // while stopping, connections whose last response just went out are closed too
    if (stopping) front.closeIdle();
    if (inFlight === 0 && idleResolve) idleResolve();
  };

  const front = createFront((req, res) => {
    // in flight until the handler has returned and the response has gone out (or failed)
    inFlight++;
    const exchange: Exchange = { writer: undefined, pending: 2 };
    res.on('close', () => {
      exchange.writer?.closed();
      if (--exchange.pending === 0) done();
    });
    handleRequest(req, res, exchange).catch((err: unknown) => {
      log(`internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      if (!res.headersSent) simpleResponse(res, 500, 'internal server error\n');
      else res.destroy();
    }).finally(() => {
      if (--exchange.pending === 0) done();
    });
  }, options.tls);
  const server = front.server;

  async function handleRequest(req: FrontRequest, res: FrontResponse, exchange: Exchange): Promise<void> {
    let inst: Instance;
    try {
      inst = await pool.acquire();
    } catch {
      simpleResponse(res, 503, 'server is shutting down\n');
      return;
    }
    if (res.destroyed || res.writableEnded) {
      pool.release(inst, true); // the client went away while the request waited
      return;
    }
    const reused = inst.served > 0;
    let outcome = await runOnce(inst, req, res, exchange);
    // an instance that trapped, or is still inside a call that timed out, is not used again
    pool.release(inst, outcome.kind !== 'trap' && outcome.kind !== 'timeout');
    // A component that handles only the first request of each instance (componentize-js's
    // fetch-event style) fails on a reused one. If that happens and the same request then works on
    // a fresh instance, serve one request per instance from now on.
    if (outcome.kind !== 'ok' && outcome.retryable && reused && !pool.oneShot) {
      let fresh: Instance | undefined;
      try {
        fresh = await createInstance();
      } catch { /* report the first failure */ }
      if (fresh) {
        const second = await runOnce(fresh, req, res, exchange);
        await fresh.close();
        if (second.kind === 'ok' && !pool.oneShot) {
          pool.oneShot = true;
          warn('the component answers only the first request of each instance: serving one request per instance from now on');
        }
        outcome = second;
      }
    }
    respondToFailure(outcome, res);
  }

  type Outcome =
    | { kind: 'ok'; retryable: false }
    | { kind: 'trap'; error: unknown; retryable: boolean }
    | { kind: 'no-response'; retryable: boolean }
    | { kind: 'error-code'; code: HttpErrorCode; retryable: false }
    | { kind: 'timeout'; retryable: false };

  /** Runs one request on one instance. A failure that left nothing sent and the request body
   *  untouched is retryable. */
  async function runOnce(inst: Instance, req: FrontRequest, res: FrontResponse, exchange: Exchange): Promise<Outcome> {
    inst.served++;
    let responded = false;
    let errorCode: HttpErrorCode | undefined;
    let body: ResponseBody | undefined;
    const target: ResponseTarget = {
      respond(status: number, headers: readonly Field[], b: ResponseBody): void {
        responded = true;
        body = b;
        const writer = new NodeResponseWriter(res, req.method === 'HEAD', status, headers, b);
        exchange.writer = writer;
        b.attach(writer);
      },
      fail(code: HttpErrorCode): void {
        responded = true;
        errorCode = code;
      },
    };
    const request = incomingRequest(req, front.scheme, BODY_BUFFER);
    const out = new ResponseOutparam(target);
    try {
      const call = inst.handle(request, out);
      if (deadlines ? await deadlines.race(call) : (await call, false)) {
        log(`the handler of ${req.method} ${req.url} did not finish within ${timeoutMs / 1000} s`);
        const err = new HttpError({ tag: 'internal-error', val: 'the handler timed out' });
        // a response under way is cut; one not begun is replaced by the 504 (the body keeps its
        // bytes from the writer from now on)
        if (res.headersSent) body?.abort(err);
        else body?.failed(err);
        return { kind: 'timeout', retryable: false };
      }
    } catch (error) {
      log(`the handler failed on ${req.method} ${req.url}: ${describe(error)}`);
      body?.abort(new HttpError({ tag: 'internal-error', val: 'the handler failed' }));
      return { kind: 'trap', error, retryable: !responded && !request.consumed && !res.headersSent };
    }
    if (errorCode) return { kind: 'error-code', code: errorCode, retryable: false };
    if (!body) return { kind: 'no-response', retryable: !request.consumed && !res.headersSent };
    if (!(body as ResponseBody).finished) {
      // the handler returned without finishing its body: the response is incomplete
      log(`the handler returned without finishing the response body of ${req.method} ${req.url}`);
      (body as ResponseBody).abort(new HttpError({ tag: 'internal-error', val: 'body not finished' }));
    }
    return { kind: 'ok', retryable: false };
  }

  function respondToFailure(outcome: Outcome, res: FrontResponse): void {
    if (outcome.kind === 'ok') return;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (outcome.kind === 'timeout') {
      simpleResponse(res, 504, 'the handler did not finish in time\n');
    } else if (outcome.kind === 'error-code') {
      simpleResponse(res, 500, `the handler answered with an error: ${outcome.code.tag}\n`);
    } else if (outcome.kind === 'no-response') {
      simpleResponse(res, 500, 'the handler returned without a response\n');
    } else {
      simpleResponse(res, 500, 'the handler failed\n');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.address.address, port: options.address.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address: SocketAddress = { address: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4 };

  let closing: Promise<void> | null = null;
  return {
    address,
    scheme: front.scheme === 'HTTPS' ? 'https' : 'http',
    get accounting() {
      return network.accounting;
    },
    get inFlight() {
      return inFlight;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        stopping = true;
        const stopped = front.stop();
        if (inFlight > 0) await new Promise<void>((resolve) => { idleResolve = resolve; });
        await stopped;
        deadlines?.close();
        await pool.close();
        await httpClientFor(network).close();
        network.close();
      })();
      return closing;
    },
  };
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function simpleResponse(res: FrontResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(text);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}
