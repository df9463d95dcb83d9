// Outbound HTTP for guests, on undici (connection pooling, keep-alive, HTTP/2 where TLS offers it).
// undici never opens a socket itself: its connector resolves the host with the network core's
// lookup (policy `lookup`, answers pinned for host-name grants) and connects with the core's
// connectTcp (policy `connect` to the resolved IP and port), so every connection is judged, audited,
// counted against the guest's socket limit and accounted like any other. TLS runs on top of that
// connection. Bodies stream both ways through bounded queues; nothing buffers a whole body.
import diagnostics from 'node:diagnostics_channel';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { Readiness } from './pollable.ts';
import { NetError, type Network, type TcpConnection } from './types.ts';

/** A wasi:http `error-code` (tag and payload as jco represents the variant). The vocabulary is
 *  wasi:http's, shared by 0.2 and 0.3; the core speaks it so that every ABI reports the same. */
export interface HttpErrorCode {
  tag: string;
  val?: unknown;
}

export class HttpError extends Error {
  readonly code: HttpErrorCode;
  constructor(code: HttpErrorCode, message?: string) {
    super(message ?? code.tag);
    this.code = code;
    this.name = 'HttpError';
  }
}

const internal = (message: string): HttpError => new HttpError({ tag: 'internal-error', val: message }, message);

/** A header or trailer field as the wire carries it: lower-case name, raw value bytes. */
export type Field = readonly [name: string, value: Uint8Array];

export interface OutboundRequest {
  method: string;
  scheme: 'http' | 'https';
  /** host[:port], IPv6 literals in brackets. */
  authority: string;
  /** Starts with '/' (or is '*'). */
  pathWithQuery: string;
  headers: readonly Field[];
  /** null: no body. */
  body: RequestBody | null;
  /** Milliseconds; undefined: the client's defaults. */
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Field[];
  body: BodyReader;
}

export interface PendingResponse {
  /** Settles with the response head (the body streams on), or rejects with an HttpError. */
  readonly response: Promise<OutboundResponse>;
  /** Gives up on the exchange (the connection is not reused). */
  abort(): void;
}

export interface HttpClientOptions {
  /** Bytes queued per body and direction before the producer is paused (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Offer HTTP/2 in the TLS handshake (default true). */
  allowH2?: boolean;
  /** Defaults when the guest sets no timeout (ms). */
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
  /** How long an idle pooled connection is kept (ms, default 4000). */
  keepAliveTimeoutMs?: number;
  /** Extra TLS options (tests: a private CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
}

const DEFAULTS = {
  maxBufferedBytes: 1 << 20,
  connectTimeoutMs: 60_000,
  firstByteTimeoutMs: 300_000,
  betweenBytesTimeoutMs: 300_000,
  keepAliveTimeoutMs: 4_000,
};

// ---------------------------------------------------------------------------------------------
// Bodies

/** Bytes arriving from somewhere (a response from undici, a request from node:http), read by a guest.
 *  The producer pushes; past the limit it is asked to pause, and to resume once the reader has
 *  taken half of it. */
export class BodyReader {
  /** Ready when read() would not return null: bytes, end of body, or an error to report. */
  readonly readable: Readiness;
  /** Ready once the body has ended or failed (trailers known). */
  readonly completed: Readiness;
  readonly #max: number;
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #trailers: Field[] | undefined;
  #paused = false;
  #discarding = false;
  #aborted = false;
  /** Called to stop / restart the producer, and when the reader gives up on the body. */
  onPause: (() => void) | null = null;
  onResume: (() => void) | null = null;
  onAbort: (() => void) | null = null;

  constructor(maxBufferedBytes = DEFAULTS.maxBufferedBytes) {
    this.#max = maxBufferedBytes;
    this.readable = new Readiness(() => this.#queued > 0 || this.#ended || this.#error !== null);
    this.completed = new Readiness(() => this.#ended || this.#error !== null);
  }

  // producer side

  push(chunk: Uint8Array): void {
    if (this.#ended || this.#error || chunk.length === 0) return;
    if (this.#discarding || this.#aborted) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= this.#max && !this.#paused) {
      this.#paused = true;
      this.onPause?.();
    }
    this.readable.notify();
  }

  end(trailers?: Field[]): void {
    if (this.#ended || this.#error) return;
    this.#ended = true;
    this.#trailers = trailers;
    this.readable.notify();
    this.completed.notify();
  }

  fail(err: Error): void {
    if (this.#ended || this.#error) return;
    this.#error = err;
    this.readable.notify();
    this.completed.notify();
  }

  // reader side

  get ended(): boolean {
    return this.#ended;
  }

  get error(): Error | null {
    return this.#error;
  }

  /** The trailers, once ended (undefined: none). */
  get trailers(): Field[] | undefined {
    return this.#trailers;
  }

  /** Up to `max` bytes: a non-empty array, or null when none are queued (then see `done`). Throws the
   *  body's error once the bytes before it are read. */
  read(max: number): Uint8Array | null {
    if (this.#queued === 0) {
      if (this.#error) throw this.#error;
      return null;
    }
    const first = this.#chunks[0]!;
    let out: Uint8Array;
    const avail = first.length - this.#head;
    if (avail <= max) {
      out = this.#head === 0 ? first : first.subarray(this.#head);
      this.#chunks.shift();
      this.#head = 0;
    } else {
      out = first.subarray(this.#head, this.#head + max);
      this.#head += max;
    }
    this.#queued -= out.length;
    if (this.#paused && this.#queued <= this.#max >>> 1) {
      this.#paused = false;
      this.onResume?.();
    }
    return out;
  }

  /** True when every byte was read and the body ended normally. */
  get done(): boolean {
    return this.#queued === 0 && this.#ended;
  }

  /** The reader wants no more bytes but the body should complete (for its trailers, or so that the
   *  connection can be reused): queued bytes are dropped, later ones discarded. */
  discard(): void {
    this.#discarding = true;
    this.#chunks.length = 0;
    this.#head = 0;
    this.#queued = 0;
    if (this.#paused) {
      this.#paused = false;
      this.onResume?.();
    }
  }

  /** The reader gives up on the body: the producer is told to stop. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.discard();
    if (!this.#ended && !this.#error) this.onAbort?.();
  }
}

const TRAILERS = Symbol('wasinet request trailers');
type TrailerSocket = Duplex & { [TRAILERS]?: string; alpnProtocol?: string | false | null };

/** A request body the guest writes and undici sends, as an async iterable with backpressure. The
 *  guest side sees capacity()/write()/finish(); undici pulls chunks. */
export class RequestBody implements AsyncIterable<Uint8Array> {
  /** Ready when capacity() > 0, or when it would throw. */
  readonly writable: Readiness;
  readonly #max: number;
  readonly #chunks: Uint8Array[] = [];
  #queued = 0;
  #finished = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #written = 0;
  #trailers: readonly Field[] | undefined;
  /** The connection the request went out on (HTTP/1.1 only: see finish()). */
  socket: TrailerSocket | null = null;

  constructor(maxBufferedBytes = DEFAULTS.maxBufferedBytes) {
    this.#max = maxBufferedBytes;
    this.writable = new Readiness(() => this.#error !== null || this.#finished || this.#queued < this.#max);
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#written;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** How many bytes write() takes now. Throws the exchange's error once it failed. */
  capacity(): number {
    if (this.#error) throw this.#error;
    if (this.#finished) throw new NetError('EPIPE', 'body already finished');
    return Math.max(0, this.#max - this.#queued);
  }

  /** Queues a copy of `data`. */
  write(data: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (this.#finished) throw new NetError('EPIPE', 'body already finished');
    if (data.length === 0) return;
    this.#chunks.push(Buffer.from(data));
    this.#queued += data.length;
    this.#written += data.length;
    this.#wakeReader();
  }

  /** Ends the body. Trailers go out as the chunked body's trailer section when the request is sent
   *  over HTTP/1.1 with chunked framing; HTTP/2 request trailers are not supported by undici and are
   *  dropped. */
  finish(trailers?: readonly Field[]): void {
    if (this.#error) throw this.#error;
    if (this.#finished) return;
    this.#finished = true;
    if (trailers && trailers.length > 0) this.#trailers = trailers;
    this.#wakeReader();
  }

  /** The exchange failed (or the guest abandoned the body): writes fail from now on. */
  fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    this.#chunks.length = 0;
    this.#queued = 0;
    this.#wakeReader();
    this.writable.notify();
  }

  #wakeReader(): void {
    const w = this.#wake;
    if (w) {
      this.#wake = null;
      w();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.#error) throw this.#error;
        if (this.#chunks.length > 0) {
          // hand over everything queued at once: fewer, larger writes
          const out = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
          this.#chunks.length = 0;
          this.#queued = 0;
          this.writable.notify();
          yield out;
          continue;
        }
        if (this.#finished) break;
        await new Promise<void>((resolve) => { this.#wake = resolve; });
      }
      // undici writes the chunked terminator right after the iterable ends: arm the trailer
      // section for it on the connection this request is being written to.
      const t = this.#trailers;
      if (t && this.socket && this.socket.alpnProtocol !== 'h2') this.socket[TRAILERS] = serializeTrailers(t);
    } finally {
      if (!this.#finished && !this.#error) this.fail(new HttpError({ tag: 'connection-terminated' }, 'request body abandoned'));
    }
  }
}

function serializeTrailers(fields: readonly Field[]): string {
  let s = '';
  for (const [name, value] of fields) s += `${name}: ${Buffer.from(value).toString('latin1')}\r\n`;
  return s;
}

const TERMINATOR = '\r\n0\r\n\r\n';

/** undici frames a chunked request body itself and has no way to send trailers: the one connection
 *  a body with trailers goes out on writes its last-chunk with the trailer section instead. */
function armTrailers(socket: TrailerSocket): void {
  const write = socket.write;
  socket.write = function (this: TrailerSocket, chunk: unknown, ...rest: unknown[]): boolean {
    const t = this[TRAILERS];
    if (t !== undefined && chunk === TERMINATOR) {
      this[TRAILERS] = undefined;
      chunk = `\r\n0\r\n${t}\r\n`;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof socket.write;
}

let channelSubscribed = false;
function watchRequestSockets(): void {
  if (channelSubscribed) return;
  channelSubscribed = true;
  diagnostics.subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: { body?: unknown }; socket: TrailerSocket };
    if (request.body instanceof RequestBody) request.body.socket = socket;
  });
}

// ---------------------------------------------------------------------------------------------
// Connections: a Duplex over the core's TcpConnection, for undici (and TLS) to use.

const PROBE = new Uint8Array(1);

class CoreSocket extends Duplex {
  readonly #conn: TcpConnection;
  #reading = false;

  constructor(conn: TcpConnection) {
    super({ allowHalfOpen: false });
    this.#conn = conn;
  }

  get remoteAddress(): string { return this.#conn.remoteAddress.address; }
  get remotePort(): number { return this.#conn.remoteAddress.port; }
  get remoteFamily(): string { return `IPv${this.#conn.remoteAddress.family}`; }
  get localAddress(): string { return this.#conn.localAddress.address; }
  get localPort(): number { return this.#conn.localAddress.port; }

  setNoDelay(on = true): this { this.#conn.setNoDelay(on); return this; }
  setKeepAlive(on = false, delay?: number): this { this.#conn.setKeepAlive(on, delay); return this; }
  setTimeout(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  override _read(): void {
    this.#reading = true;
    this.#pump();
  }

  #onReadable = (): void => {
    if (this.#reading) this.#pump();
  };

  #pump(): void {
    const conn = this.#conn;
    try {
      while (this.#reading && !this.destroyed) {
        const n = conn.bufferedBytes;
        if (n === 0) {
          const r = conn.read(PROBE); // nothing queued: -1 (wait), 0 (end) or throws, never copies
          if (r === 0) {
            this.#reading = false;
            this.push(null);
            return;
          }
          conn.readable.subscribe(this.#onReadable);
          return;
        }
        const buf = Buffer.allocUnsafe(Math.min(n, 1 << 20));
        const got = conn.read(buf);
        if (got <= 0) continue;
        if (!this.push(got === buf.length ? buf : buf.subarray(0, got))) this.#reading = false;
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  #send(data: Buffer, cb: (err?: Error | null) => void): void {
    let n: number;
    try {
      n = this.#conn.write(data);
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (n > 0) {
      cb();
      return;
    }
    this.#conn.writable.subscribe(() => this.#send(data, cb));
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      this.#conn.shutdown('write');
    } catch { /* already closed: nothing left to flush */ }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#reading = false;
    this.#conn.readable.unsubscribe(this.#onReadable);
    this.#conn.close();
    cb(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

const TLS_CERT = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ALTNAME/;

/** The wasi:http error code for whatever failed (a NetError from the core, a Node or undici error). */
export function httpErrorOf(err: unknown, phase: 'connect' | 'request' | 'body' = 'request'): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { code?: unknown; message?: string; cause?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = e?.message ?? String(err);
  const make = (tag: string, val?: unknown): HttpError => new HttpError(val === undefined ? { tag } : { tag, val }, message);
  switch (code) {
    case 'EACCES': return make('destination-IP-prohibited');
    case 'ENOENT': return make('DNS-error', { rcode: 'NXDOMAIN', infoCode: undefined });
    case 'ECONNREFUSED': return make('connection-refused');
    case 'ETIMEDOUT': return make('connection-timeout');
    case 'EHOSTUNREACH': case 'ENETUNREACH': return make('destination-IP-unroutable');
    case 'ECONNRESET': case 'EPIPE': case 'ECONNABORTED': case 'ENOTCONN':
      return make(phase === 'body' ? 'HTTP-response-incomplete' : 'connection-terminated');
    case 'EMFILE': case 'ENOBUFS': return make('connection-limit-reached');
    case 'UND_ERR_CONNECT_TIMEOUT': return make('connection-timeout');
    case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': return make('connection-read-timeout');
    case 'UND_ERR_SOCKET': case 'UND_ERR_CLOSED': case 'UND_ERR_DESTROYED':
      return make(phase === 'body' ? 'HTTP-response-incomplete' : 'connection-terminated');
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH': return make('HTTP-response-incomplete');
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH': return make('HTTP-request-body-size', undefined);
    case 'UND_ERR_HEADERS_OVERFLOW': return make('HTTP-response-header-section-size', undefined);
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE': return make('HTTP-response-body-size', undefined);
    case 'UND_ERR_NOT_SUPPORTED': return make('HTTP-protocol-error');
    case 'UND_ERR_INVALID_ARG': return make('internal-error', message);
    default:
      break;
  }
  if (code.startsWith('HPE_')) return make('HTTP-protocol-error');
  if (TLS_CERT.test(code)) return make('TLS-certificate-error');
  if (/ALERT/.test(code)) return make('TLS-alert-received', { alertId: undefined, alertMessage: message });
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'ECONNRESET_TLS') return make('TLS-protocol-error');
  if (e?.cause && e.cause !== err) return httpErrorOf(e.cause, phase);
  return internal(message);
}

// ---------------------------------------------------------------------------------------------
// The client

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Splits `scheme://authority` into host and port (default by scheme). Throws an HttpError
 *  HTTP-request-URI-invalid for anything that is not host[:port]. */
export function parseAuthority(scheme: 'http' | 'https', authority: string): { origin: string; host: string; port: number } {
  let url: URL;
  try {
    if (authority.length === 0 || /[\s/?#@\\]/.test(authority)) throw new Error('bad authority');
    url = new URL(`${scheme}://${authority}`);
  } catch {
    throw new HttpError({ tag: 'HTTP-request-URI-invalid' }, `invalid authority ${JSON.stringify(authority)}`);
  }
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  return { origin: url.origin, host: stripBrackets(url.hostname), port };
}

export class HttpClient {
  readonly #network: Network;
  readonly #opts: Required<Omit<HttpClientOptions, 'tls'>> & Pick<HttpClientOptions, 'tls'>;
  /** One pool per connect timeout (undici takes it per dispatcher, wasi:http per request). */
  readonly #agents = new Map<number, Agent>();
  #closed = false;

  constructor(network: Network, options: HttpClientOptions = {}) {
    this.#network = network;
    this.#opts = {
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      allowH2: options.allowH2 ?? true,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      firstByteTimeoutMs: options.firstByteTimeoutMs ?? DEFAULTS.firstByteTimeoutMs,
      betweenBytesTimeoutMs: options.betweenBytesTimeoutMs ?? DEFAULTS.betweenBytesTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
      tls: options.tls,
    };
    watchRequestSockets();
  }

  get maxBufferedBytes(): number {
    return this.#opts.maxBufferedBytes;
  }

  #agent(connectTimeoutMs: number): Agent {
    let a = this.#agents.get(connectTimeoutMs);
    if (!a) {
      a = new Agent({
        connect: (o, cb) => {
          const opts = o as { hostname: string; protocol: string; port: string; servername?: string | null };
          this.#open(opts, connectTimeoutMs).then((s) => cb(null, s as never), (e: unknown) => cb(e as Error, null));
        },
        allowH2: this.#opts.allowH2,
        keepAliveTimeout: this.#opts.keepAliveTimeoutMs,
      } as Agent.Options);
      this.#agents.set(connectTimeoutMs, a);
    }
    return a;
  }

  /** Resolves (policy: lookup), connects (policy: connect, per address until one is allowed and
   *  answers), then TLS if asked. Everything within the connect timeout. */
  async #open(opts: { hostname: string; protocol: string; port: string; servername?: string | null }, timeoutMs: number): Promise<Duplex> {
    const host = stripBrackets(opts.hostname);
    const secure = opts.protocol === 'https:';
    const port = opts.port ? Number(opts.port) : secure ? 443 : 80;
    const deadline = Date.now() + timeoutMs;
    const remaining = (): number => Math.max(1, deadline - Date.now());
    const timedOut = (): HttpError => new HttpError({ tag: 'connection-timeout' }, `connect to ${host}:${port} timed out after ${timeoutMs} ms`);

    let addresses: string[];
    try {
      addresses = await withTimeout(this.#network.lookup(host), remaining(), timedOut);
    } catch (err) {
      throw httpErrorOf(err, 'connect');
    }
    let conn: TcpConnection | undefined;
    let denied: unknown, failed: unknown;
    for (const address of addresses) {
      try {
        conn = await this.#network.connectTcp({ address, port, family: isIP(address) === 6 ? 6 : 4 }, { timeoutMs: remaining(), noDelay: true });
        break;
      } catch (err) {
        if ((err as NetError).code === 'EACCES') denied ??= err;
        else failed ??= err;
        if (Date.now() >= deadline) break;
      }
    }
    if (!conn) throw httpErrorOf(failed ?? denied ?? new NetError('ENOENT', `${host}: no addresses`), 'connect');

    let socket: TrailerSocket = new CoreSocket(conn);
    if (secure) {
      const servername = opts.servername || (isIP(host) ? undefined : host);
      const t = tls.connect({
        socket,
        servername,
        ALPNProtocols: this.#opts.allowH2 ? ['h2', 'http/1.1'] : ['http/1.1'],
        ...this.#opts.tls,
      });
      try {
        await withTimeout(new Promise<void>((resolve, reject) => {
          t.once('secureConnect', resolve);
          t.once('error', reject);
        }), remaining(), timedOut);
      } catch (err) {
        t.destroy();
        socket.destroy();
        throw httpErrorOf(err, 'connect');
      }
      socket = t as unknown as TrailerSocket;
    }
    armTrailers(socket);
    return socket;
  }

  /** Starts an exchange. The request body (if any) may still be written while the request is in
   *  flight. */
  request(req: OutboundRequest): PendingResponse {
    let controller: Dispatcher.DispatchController | null = null;
    let aborted = false;
    let resolveHead!: (r: OutboundResponse) => void;
    let rejectHead!: (e: HttpError) => void;
    const response = new Promise<OutboundResponse>((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    });
    response.catch(() => { /* the caller may never look */ });
    let body: BodyReader | null = null;
    let settled = false;

    const fail = (err: unknown): void => {
      const phase = body ? 'body' : 'request';
      const e = httpErrorOf(err, phase);
      req.body?.fail(e);
      if (body) body.fail(e);
      else if (!settled) {
        settled = true;
        rejectHead(e);
      }
    };

    if (this.#closed) {
      fail(internal('HTTP client closed'));
      return { response, abort() {} };
    }

    let origin: string;
    try {
      ({ origin } = parseAuthority(req.scheme, req.authority));
    } catch (err) {
      fail(err);
      return { response, abort() {} };
    }

    const headers: string[] = [];
    for (const [name, value] of req.headers) headers.push(name, Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'));

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (aborted) c.abort(internal('aborted'));
      },
      onResponseStart: (c, statusCode) => {
        if (statusCode < 200) return; // 1xx: informational, the real head follows
        const raw = (c as unknown as { rawHeaders?: Buffer[] }).rawHeaders ?? [];
        const reader = new BodyReader(this.#opts.maxBufferedBytes);
        reader.onPause = () => c.pause();
        reader.onResume = () => c.resume();
        reader.onAbort = () => c.abort(internal('response body abandoned'));
        body = reader;
        settled = true;
        resolveHead({ status: statusCode, headers: rawFields(raw), body: reader });
      },
      onResponseData(_c, chunk) {
        body?.push(chunk);
      },
      onResponseEnd(c) {
        const raw = (c as unknown as { rawTrailers?: Buffer[] }).rawTrailers ?? [];
        if (!settled) {
          settled = true;
          rejectHead(new HttpError({ tag: 'HTTP-protocol-error' }, 'response ended without a head'));
          return;
        }
        body?.end(raw.length ? rawFields(raw) : undefined);
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };

    const connectTimeout = req.connectTimeoutMs ?? this.#opts.connectTimeoutMs;
    try {
      this.#agent(connectTimeout).dispatch({
        origin,
        path: req.pathWithQuery,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        // undici takes any async iterable of bytes (its types only list the common kinds)
        body: req.body as unknown as Dispatcher.DispatchOptions["body"],
        headersTimeout: req.firstByteTimeoutMs ?? this.#opts.firstByteTimeoutMs,
        bodyTimeout: req.betweenBytesTimeoutMs ?? this.#opts.betweenBytesTimeoutMs,
      }, handler);
    } catch (err) {
      fail(err);
    }
    return {
      response,
      abort: () => {
        if (aborted) return;
        aborted = true;
        const e = internal('aborted');
        if (controller) controller.abort(e);
        fail(e);
      },
    };
  }

  /** Closes the pooled connections; requests in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
  }
}

function rawFields(raw: readonly (Buffer | string)[]): Field[] {
  const out: Field[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!, v = raw[i + 1]!;
    out.push([(typeof n === 'string' ? n : n.toString('latin1')).toLowerCase(), typeof v === 'string' ? Buffer.from(v, 'latin1') : v]);
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

const clients = new WeakMap<Network, HttpClient>();

/** The HTTP client of a guest's network (one connection pool per guest). */
export function httpClientFor(network: Network, options?: HttpClientOptions): HttpClient {
  let c = clients.get(network);
  if (!c) {
    c = new HttpClient(network, options ?? { maxBufferedBytes: network.limits.maxBufferedBytes });
    clients.set(network, c);
  }
  return c;
}
