// The server `wasinet serve` listens with: plain HTTP/1.1 (node:http), or TLS with HTTP/2 and
// HTTP/1.1 offered by ALPN (node:http2 with allowHTTP1). Both hand the request handler objects of
// Node's HTTP/1 shape (http2's compatibility API), and both stop the same way: stop accepting, close
// idle connections, let connections with a request in flight finish it, then close them.
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';

/** What serve uses of a request: the part node:http's IncomingMessage and node:http2's
 *  Http2ServerRequest share. */
export interface FrontRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly rawTrailers: string[];
  readonly complete: boolean;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** What serve uses of a response, likewise shared by http.ServerResponse and Http2ServerResponse. */
export interface FrontResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableLength: number;
  /** `headers` as a flat name, value, name, value list (both servers take it). */
  writeHead(status: number, headers: string[] | http.OutgoingHttpHeaders): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  end(chunk: Uint8Array): unknown;
  addTrailers(trailers: http.OutgoingHttpHeaders): void;
  destroy(): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
}

export type Handler = (req: FrontRequest, res: FrontResponse) => void;

export interface TlsOptions {
  /** PEM certificate chain and private key. */
  cert: string | Buffer;
  key: string | Buffer;
}

export interface Front {
  readonly server: net.Server;
  /** What the guest sees as the request's scheme. */
  readonly scheme: 'HTTP' | 'HTTPS';
  /** Stops accepting and closes idle connections; from now on each connection is closed once its
   *  requests in flight are answered. Resolves when every connection is gone. */
  stop(): Promise<void>;
  /** A response went out while stopping: close what became idle. */
  closeIdle(): void;
}

const KEEP_ALIVE_MS = 5_000;

export function createFront(handler: Handler, tlsOptions?: TlsOptions): Front {
  return tlsOptions ? tlsFront(handler, tlsOptions) : plainFront(handler);
}

/** Throws a clear error for a certificate and key TLS cannot use (called before anything starts). */
export function checkTls(t: TlsOptions): void {
  try {
    tls.createSecureContext({ cert: t.cert, key: t.key });
  } catch (e) {
    throw new Error(`unusable TLS certificate or key: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function plainFront(handler: Handler): Front {
  const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_MS, requestTimeout: 0 }, handler);
  let stopping = false;
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (stopping) res.shouldKeepAlive = false;
  });
  return {
    server,
    scheme: 'HTTP',
    stop() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
    closeIdle: () => server.closeIdleConnections(),
  };
}

/** HTTP/2 sessions are stopped with a GOAWAY (their open streams finish); HTTP/1.1 connections over
 *  TLS, which node:http2 does not track, are counted here by the requests they have in flight. */
function tlsFront(handler: Handler, t: TlsOptions): Front {
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Every HTTP/1.1 connection, with its requests in flight (0: idle). */
  const h1 = new Map<net.Socket, number>();
  let stopping = false;
  const server = http2.createSecureServer({ cert: t.cert, key: t.key, allowHTTP1: true }, (req, res) => {
    if (req.httpVersionMajor === 1) {
      const res1 = res as unknown as http.ServerResponse;
      const socket = res1.socket!;
      h1.set(socket, (h1.get(socket) ?? 0) + 1);
      if (stopping) res1.shouldKeepAlive = false;
      res1.once('close', () => {
        if (h1.has(socket)) h1.set(socket, h1.get(socket)! - 1);
      });
    }
    handler(req, res);
  });
  server.on('secureConnection', (socket: net.Socket & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol === 'h2') return;
    h1.set(socket, 0);
    socket.once('close', () => h1.delete(socket));
    socket.setTimeout(KEEP_ALIVE_MS, () => { if (h1.get(socket) === 0) socket.destroy(); });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (stopping) session.close();
  });
  const closeIdle = (): void => {
    for (const [s, inFlight] of h1) if (inFlight === 0) closeAfterFlush(s);
  };
  return {
    server,
    scheme: 'HTTPS',
    stop() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      closeIdle();
      return closed;
    },
    closeIdle,
  };
}

/** Ends a connection whose last response may still be on its way out: destroyed once it is flushed. */
function closeAfterFlush(s: net.Socket): void {
  if (s.destroyed) return;
  s.end();
  if (s.writableFinished) s.destroy();
  else s.once('finish', () => s.destroy());
}
