// wasi:http/types: the resources of requests, responses, bodies and futures. Bodies stream through
// wasi:io streams over the network core's bounded queues (BodyReader in, RequestBody or a server
// response sink out): nothing holds a whole body.
//
// jco conventions (see component.ts): a host function returning `result` reports `err` by throwing
// a non-Error value (`throw { tag: 'forbidden' }`, or `throw undefined` for `result<_, _>`); objects
// handed to the guest as `own` are fresh each time; the guest dropping an owned handle calls
// [Symbol.dispose].
import {
  BodyReader, HttpError, httpErrorOf, RequestBody,
  type Field, type HttpErrorCode, type OutboundResponse, type PendingResponse,
} from '../../../net/http-client.ts';
import { Readiness } from '../../../net/pollable.ts';
import { IoError } from '../io/error.ts';
import { Pollable } from '../io/poll.ts';
import { END, InputStream, OutputStream, type ByteSink, type ByteSource } from '../io/streams.ts';
import { Fields, fieldValue, isToken, withoutForbidden } from './fields.ts';

export { Fields };

/** Bytes queued per outgoing body before the guest's writes wait. */
const BODY_BUFFER = 1 << 20;

export type Method = { tag: string; val?: string };
export type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string };
type Result<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };

/** `result<_, _>`'s err, as jco lowers it. */
function unitErr(): never {
  throw undefined;
}

const METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);
/** The standard methods as the variant values handed to guests (read-only, shared). */
const METHOD_VALUES: ReadonlyMap<string, Method> = new Map([...METHODS].map((m) => [m.toUpperCase(), Object.freeze({ tag: m })]));

export function methodToString(m: Method): string {
  return m.tag === 'other' ? m.val! : m.tag.toUpperCase();
}

/** The method variant for a request line's method (case-sensitive: `get` is an extension method). */
export function methodFromString(s: string): Method {
  return METHOD_VALUES.get(s) ?? { tag: 'other', val: s };
}

function validMethod(m: Method): boolean {
  if (m?.tag === 'other') return typeof m.val === 'string' && isToken(m.val);
  return METHODS.has(m?.tag);
}

function validScheme(s: Scheme | undefined): boolean {
  if (s === undefined || s.tag === 'HTTP' || s.tag === 'HTTPS') return true;
  return s.tag === 'other' && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.val);
}

function validPath(p: string | undefined): boolean {
  return p === undefined || (p.length > 0 && !/[\x00-\x20\x7f#]/.test(p) && (p.startsWith('/') || p === '*'));
}

function validAuthority(a: string | undefined): boolean {
  if (a === undefined) return true;
  return a.length > 0 && !/[\x00-\x20\x7f/?#@\\]/.test(a) && /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(:\d{1,5})?$/.test(a);
}

/** A wasi:io error that carries the wasi:http error code `http-error-code` reports. */
export class HttpIoError extends IoError {
  readonly httpCode: HttpErrorCode;
  constructor(err: HttpError) {
    super(err.message);
    this.httpCode = err.code;
  }
}

export function httpErrorCode(err: IoError): HttpErrorCode | undefined {
  if (err instanceof HttpIoError) return err.httpCode;
  if (err?.netCode) return httpErrorOf({ code: err.netCode, message: err.message }).code;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Bodies in

/** An incoming body as a wasi:io byte source. */
class ReaderSource implements ByteSource {
  readonly #reader: BodyReader;
  readonly readable: BodyReader['readable'];

  constructor(reader: BodyReader) {
    this.#reader = reader;
    this.readable = reader.readable;
  }

  read(max: number): Uint8Array | null | typeof END {
    let c: Uint8Array | null;
    try {
      c = this.#reader.read(max);
    } catch (e) {
      throw new HttpIoError(httpErrorOf(e, 'body'));
    }
    if (c) return c;
    return this.#reader.done ? END : null;
  }
}

export class IncomingBody {
  readonly #reader: BodyReader;
  #streamTaken = false;
  #finished = false;

  constructor(reader: BodyReader) {
    this.#reader = reader;
  }

  stream(): InputStream {
    if (this.#streamTaken || this.#finished) unitErr();
    this.#streamTaken = true;
    return new InputStream(new ReaderSource(this.#reader));
  }

  static finish(body: IncomingBody): FutureTrailers {
    body.#finished = true;
    // the guest wants no more bytes, but the body must still complete for its trailers
    if (!body.#reader.done) body.#reader.discard();
    return new FutureTrailers(body.#reader);
  }

  [Symbol.dispose](): void {
    if (!this.#finished) this.#reader.abort();
  }
}

export class FutureTrailers {
  readonly #reader: BodyReader;
  #taken = false;

  constructor(reader: BodyReader) {
    this.#reader = reader;
  }

  subscribe(): Pollable {
    return Pollable.of(this.#reader.completed);
  }

  get(): Result<Result<Fields | undefined, HttpErrorCode>, undefined> | undefined {
    const r = this.#reader;
    if (!r.completed.ready) return undefined;
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    if (r.error) return { tag: 'ok', val: { tag: 'err', val: httpErrorOf(r.error, 'body').code } };
    const t = r.trailers;
    return { tag: 'ok', val: { tag: 'ok', val: t && t.length ? Fields.of(t, true) : undefined } };
  }

  [Symbol.dispose](): void {}
}

// ---------------------------------------------------------------------------------------------
// Bodies out

/** Where an outgoing body's bytes go: a request being sent, or a response being served. */
export interface BodySink {
  readonly writable: ByteSink['writable'];
  /** Bytes write() takes now (0: wait). Throws the exchange's error. */
  capacity(): number;
  write(data: Uint8Array): void;
  /** The body is complete. */
  finish(trailers: readonly Field[] | undefined): void;
  /** The body is incomplete: the exchange must not look successful. */
  abort(reason: HttpError): void;
}

export class OutgoingBody {
  readonly #sink: BodySink;
  /** Content-length the head declared, if any: the bytes written must match it. */
  readonly #declared: number | undefined;
  readonly #sizeTag: 'HTTP-request-body-size' | 'HTTP-response-body-size';
  #written = 0;
  #streamTaken = false;
  #done = false;

  constructor(sink: BodySink, declared: number | undefined, side: 'request' | 'response') {
    this.#sink = sink;
    this.#declared = declared;
    this.#sizeTag = side === 'request' ? 'HTTP-request-body-size' : 'HTTP-response-body-size';
  }

  write(): OutputStream {
    if (this.#streamTaken || this.#done) unitErr();
    this.#streamTaken = true;
    const sink = this.#sink;
    const body = this;
    const bytes: ByteSink = {
      get writable() {
        return sink.writable;
      },
      capacity: () => {
        if (body.#done) throw new HttpIoError(new HttpError({ tag: 'internal-error', val: 'body finished' }, 'body finished'));
        try {
          return sink.capacity();
        } catch (e) {
          throw new HttpIoError(httpErrorOf(e));
        }
      },
      write: (data) => {
        const total = body.#written + data.length;
        if (body.#declared !== undefined && total > body.#declared) {
          const err = new HttpError({ tag: body.#sizeTag, val: BigInt(total) }, `body exceeds its content-length of ${body.#declared}`);
          body.#done = true;
          sink.abort(err);
          throw new HttpIoError(err);
        }
        try {
          sink.write(data);
        } catch (e) {
          throw new HttpIoError(httpErrorOf(e));
        }
        body.#written = total;
      },
    };
    return new OutputStream(bytes);
  }

  static finish(body: OutgoingBody, trailers: Fields | undefined): void {
    if (body.#done) throw { tag: 'internal-error', val: 'body already finished' };
    body.#done = true;
    if (body.#declared !== undefined && body.#written !== body.#declared) {
      const code = { tag: body.#sizeTag, val: BigInt(body.#written) };
      body.#sink.abort(new HttpError(code, `body of ${body.#written} bytes, content-length ${body.#declared}`));
      throw code;
    }
    try {
      body.#sink.finish(trailers ? Fields.seal(trailers) : undefined);
    } catch (e) {
      throw httpErrorOf(e).code;
    }
  }

  [Symbol.dispose](): void {
    if (this.#done) return;
    this.#done = true;
    this.#sink.abort(new HttpError({ tag: 'internal-error', val: 'body dropped before finish' }, 'outgoing body dropped before finish'));
  }
}

function declaredLength(headers: readonly Field[]): number | undefined {
  const v = fieldValue(headers, 'content-length');
  if (v === undefined || !/^\d{1,15}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** RequestBody (the core's) as a BodySink. */
class RequestBodySink implements BodySink {
  readonly body: RequestBody;
  readonly writable: RequestBody['writable'];
  constructor(body: RequestBody) {
    this.body = body;
    this.writable = body.writable;
  }
  capacity(): number { return this.body.capacity(); }
  write(data: Uint8Array): void { this.body.write(data); }
  finish(trailers: readonly Field[] | undefined): void { this.body.finish(trailers); }
  abort(reason: HttpError): void { this.body.fail(reason); }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses

export class OutgoingRequest {
  #headers: Field[];
  #method: Method = { tag: 'get' };
  #path: string | undefined;
  #scheme: Scheme | undefined;
  #authority: string | undefined;
  #body: RequestBody | null = null;
  #bodyTaken = false;
  #sent = false;

  constructor(headers: Fields) {
    this.#headers = Fields.seal(headers);
  }

  body(): OutgoingBody {
    if (this.#bodyTaken) unitErr();
    this.#bodyTaken = true;
    this.#body = new RequestBody(BODY_BUFFER);
    return new OutgoingBody(new RequestBodySink(this.#body), declaredLength(this.#headers), 'request');
  }

  method(): Method { return this.#method; }
  setMethod(m: Method): void {
    if (!validMethod(m)) unitErr();
    this.#method = m;
  }
  pathWithQuery(): string | undefined { return this.#path; }
  setPathWithQuery(p: string | undefined): void {
    if (!validPath(p)) unitErr();
    this.#path = p;
  }
  scheme(): Scheme | undefined { return this.#scheme; }
  setScheme(s: Scheme | undefined): void {
    if (!validScheme(s)) unitErr();
    this.#scheme = s;
  }
  authority(): string | undefined { return this.#authority; }
  setAuthority(a: string | undefined): void {
    if (!validAuthority(a)) unitErr();
    this.#authority = a;
  }
  headers(): Fields { return Fields.of(this.#headers, true); }

  /** What outgoing-handler.handle sends. Throws an error-code for a request that cannot be sent. */
  static take(req: OutgoingRequest): {
    method: string; scheme: 'http' | 'https'; authority: string; pathWithQuery: string; headers: Field[]; body: RequestBody | null;
  } {
    if (req.#sent) throw { tag: 'internal-error', val: 'request already sent' };
    req.#sent = true;
    const s = req.#scheme;
    let scheme: 'http' | 'https';
    if (s === undefined || s.tag === 'HTTPS') scheme = 'https';
    else if (s.tag === 'HTTP') scheme = 'http';
    else throw { tag: 'HTTP-request-URI-invalid' };
    if (req.#authority === undefined) throw { tag: 'HTTP-request-URI-invalid' };
    return {
      method: methodToString(req.#method),
      scheme,
      authority: req.#authority,
      pathWithQuery: req.#path ?? '/',
      headers: req.#headers,
      body: req.#body,
    };
  }

  [Symbol.dispose](): void {}
}

const NS_PER_MS = 1_000_000n;

export class RequestOptions {
  #connect: bigint | undefined;
  #firstByte: bigint | undefined;
  #betweenBytes: bigint | undefined;

  connectTimeout(): bigint | undefined { return this.#connect; }
  setConnectTimeout(d: bigint | undefined): void { this.#connect = d; }
  firstByteTimeout(): bigint | undefined { return this.#firstByte; }
  setFirstByteTimeout(d: bigint | undefined): void { this.#firstByte = d; }
  betweenBytesTimeout(): bigint | undefined { return this.#betweenBytes; }
  setBetweenBytesTimeout(d: bigint | undefined): void { this.#betweenBytes = d; }

  /** The timeouts in ms (at least 1: 0 would mean "none" to undici). */
  static millis(o: RequestOptions | undefined): { connectTimeoutMs?: number; firstByteTimeoutMs?: number; betweenBytesTimeoutMs?: number } {
    const ms = (d: bigint | undefined): number | undefined => {
      if (d === undefined) return undefined;
      const v = d / NS_PER_MS + (d % NS_PER_MS > 0n ? 1n : 0n);
      return Number(v > 2_147_483_647n ? 2_147_483_647n : v < 1n ? 1n : v);
    };
    if (!o) return {};
    return { connectTimeoutMs: ms(o.#connect), firstByteTimeoutMs: ms(o.#firstByte), betweenBytesTimeoutMs: ms(o.#betweenBytes) };
  }

  [Symbol.dispose](): void {}
}

export class IncomingResponse {
  readonly #status: number;
  readonly #headers: Field[];
  readonly #reader: BodyReader;
  #consumed = false;

  constructor(r: OutboundResponse) {
    this.#status = r.status;
    this.#headers = withoutForbidden(r.headers);
    this.#reader = r.body;
  }

  status(): number { return this.#status; }
  headers(): Fields { return Fields.of(this.#headers, true); }
  consume(): IncomingBody {
    if (this.#consumed) unitErr();
    this.#consumed = true;
    return new IncomingBody(this.#reader);
  }

  [Symbol.dispose](): void {
    if (!this.#consumed) this.#reader.abort();
  }
}

export class FutureIncomingResponse {
  readonly #pending: PendingResponse;
  readonly #ready: Readiness;
  #result: Result<IncomingResponse, HttpErrorCode> | undefined;
  #taken = false;

  constructor(pending: PendingResponse) {
    this.#pending = pending;
    this.#ready = new Readiness(() => this.#result !== undefined);
    pending.response.then(
      (r) => { this.#result = { tag: 'ok', val: new IncomingResponse(r) }; this.#ready.notify(); },
      (e: unknown) => { this.#result = { tag: 'err', val: httpErrorOf(e).code }; this.#ready.notify(); },
    );
  }

  /** A future that failed before anything was sent. */
  static failed(code: HttpErrorCode): FutureIncomingResponse {
    return new FutureIncomingResponse({ response: Promise.reject(new HttpError(code)), abort() {} });
  }

  subscribe(): Pollable {
    return Pollable.of(this.#ready);
  }

  get(): Result<Result<IncomingResponse, HttpErrorCode>, undefined> | undefined {
    if (this.#result === undefined) return undefined;
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    return { tag: 'ok', val: this.#result };
  }

  [Symbol.dispose](): void {
    if (this.#result === undefined) this.#pending.abort();
    else if (!this.#taken && this.#result.tag === 'ok') this.#result.val[Symbol.dispose]();
  }
}

// ---------------------------------------------------------------------------------------------
// The server side: requests a server hands to the guest, responses it gets back

/** Where a served request's response goes (implemented by `wasinet serve`). */
export interface ResponseTarget {
  /** The guest chose its response: status, headers, and the body its bytes stream into. */
  respond(status: number, headers: readonly Field[], body: ResponseBody): void;
  /** The guest answered with an error code instead. */
  fail(code: HttpErrorCode): void;
}

/** Where a response body's bytes end up: the server's connection. */
export interface ResponseWriter {
  /** Bytes accepted but not sent yet (backpressure: the body stops taking bytes past its limit). */
  readonly buffered: number;
  write(chunk: Uint8Array): void;
  /** Ends the response. `last` is whatever was still queued: when nothing was written before, the
   *  writer can send head and body in one go, with a content-length. */
  end(last: Uint8Array | null, trailers: readonly Field[] | undefined): void;
  /** The response is incomplete: the client must not mistake it for a whole one. */
  abort(): void;
}

/** An outgoing response body: queues what the guest writes until the server attaches a writer
 *  (when the response is set), then streams to it. Writes are passed on once per event-loop turn,
 *  so a small body written and finished in one go leaves as one write. */
export class ResponseBody implements BodySink {
  readonly #max: number;
  #ready: Readiness | null = null;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #writer: ResponseWriter | null = null;
  #finished = false;
  #trailers: readonly Field[] | undefined;
  #error: HttpError | null = null;
  #flushScheduled = false;
  #wroteAny = false;

  constructor(maxBufferedBytes = BODY_BUFFER) {
    this.#max = maxBufferedBytes;
  }

  /** Ready when capacity() > 0 (or would throw). Made on first use: most bodies never wait. */
  get writable(): Readiness {
    return this.#ready ??= new Readiness(() => this.#error !== null || this.#finished || this.#room() > 0);
  }

  get finished(): boolean {
    return this.#finished;
  }

  #room(): number {
    return this.#max - this.#queued - (this.#writer ? this.#writer.buffered : 0);
  }

  capacity(): number {
    if (this.#error) throw this.#error;
    if (this.#finished) throw new HttpError({ tag: 'internal-error', val: 'body finished' }, 'body finished');
    const n = this.#room();
    return n > 0 ? n : 0;
  }

  write(data: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (this.#finished) throw new HttpError({ tag: 'internal-error', val: 'body finished' }, 'body finished');
    if (data.length === 0) return;
    // a Buffer (small ones come from Node's pool), which Node then writes as it is
    const copy = Buffer.allocUnsafe(data.length);
    copy.set(data);
    this.#chunks.push(copy);
    this.#queued += data.length;
    if (this.#writer && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(flushBody, this);
    }
  }

  #take(): Uint8Array | null {
    const chunks = this.#chunks;
    if (chunks.length === 0) return null;
    const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.#chunks = [];
    this.#queued = 0;
    return out;
  }

  /** Passes on what was written since the last turn (see flushBody). */
  static flush(b: ResponseBody): void {
    b.#flushScheduled = false;
    const w = b.#writer;
    if (!w || b.#finished || b.#error) return;
    const data = b.#take();
    if (data) {
      b.#wroteAny = true;
      w.write(data);
    }
    b.#ready?.notify();
  }

  finish(trailers: readonly Field[] | undefined): void {
    if (this.#error) throw this.#error;
    if (this.#finished) return;
    this.#finished = true;
    this.#trailers = trailers;
    if (this.#writer) this.#complete(this.#writer);
  }

  #complete(w: ResponseWriter): void {
    w.end(this.#take(), this.#trailers);
    this.#ready?.notify();
  }

  abort(reason: HttpError): void {
    if (this.#error) return;
    this.#error = reason;
    this.#chunks = [];
    this.#queued = 0;
    this.#writer?.abort();
    this.#ready?.notify();
  }

  // the server's side

  /** Connects the body to the response being sent (once). */
  attach(writer: ResponseWriter): void {
    this.#writer = writer;
    if (this.#error) {
      writer.abort();
    } else if (this.#finished) {
      this.#complete(writer);
    } else if (this.#queued > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(flushBody, this);
    }
  }

  /** The writer sent some of what it buffered (the guest may write more). */
  drained(): void {
    this.#ready?.notify();
  }

  /** The connection failed (the client went away): the guest's writes fail from now on. */
  failed(err: HttpError): void {
    if (this.#error || this.#finished) return;
    this.#error = err;
    this.#chunks = [];
    this.#queued = 0;
    this.#ready?.notify();
  }

  /** Whether anything reached the writer before finish (then there is no content-length). */
  get streamed(): boolean {
    return this.#wroteAny;
  }
}

function flushBody(b: ResponseBody): void {
  ResponseBody.flush(b);
}

export class OutgoingResponse {
  #status = 200;
  readonly #headers: Field[];
  #body: ResponseBody | null = null;
  #bodyTaken = false;

  constructor(headers: Fields) {
    this.#headers = Fields.seal(headers);
  }

  statusCode(): number { return this.#status; }
  setStatusCode(s: number): void {
    if (!Number.isInteger(s) || s < 100 || s > 999) unitErr();
    this.#status = s;
  }
  headers(): Fields { return Fields.of(this.#headers, true); }

  body(): OutgoingBody {
    if (this.#bodyTaken) unitErr();
    this.#bodyTaken = true;
    this.#body = new ResponseBody();
    return new OutgoingBody(this.#body, declaredLength(this.#headers), 'response');
  }

  static head(r: OutgoingResponse): { status: number; headers: readonly Field[]; body: ResponseBody | null } {
    return { status: r.#status, headers: r.#headers, body: r.#body };
  }

  [Symbol.dispose](): void {}
}

export class ResponseOutparam {
  readonly #target: ResponseTarget;
  #set = false;

  constructor(target: ResponseTarget) {
    this.#target = target;
  }

  get isSet(): boolean {
    return this.#set;
  }

  static set(param: ResponseOutparam, response: Result<OutgoingResponse, HttpErrorCode>): void {
    if (param.#set) return;
    param.#set = true;
    if (response.tag === 'err') {
      param.#target.fail(response.val);
      return;
    }
    const { status, headers, body } = OutgoingResponse.head(response.val);
    // A response whose body the guest never asked for has an empty one.
    let b = body;
    if (!b) {
      b = new ResponseBody();
      b.finish(undefined);
    }
    param.#target.respond(status, headers, b);
  }

  sendInformational(): void {
    throw { tag: 'internal-error', val: 'informational responses are not supported' };
  }

  [Symbol.dispose](): void {}
}

/** Where a served request's head fields and body come from; each is asked for at most once, when
 *  the guest first wants it. */
export interface RequestSource {
  headers(): Field[];
  body(): BodyReader;
}

export class IncomingRequest {
  readonly #method: Method;
  readonly #path: string | undefined;
  readonly #scheme: Scheme | undefined;
  readonly #authority: string | undefined;
  readonly #source: RequestSource;
  #headers: Field[] | undefined;
  #consumed = false;

  constructor(method: string, pathWithQuery: string | undefined, scheme: Scheme | undefined, authority: string | undefined, source: RequestSource) {
    this.#method = methodFromString(method);
    this.#path = pathWithQuery;
    this.#scheme = scheme;
    this.#authority = authority;
    this.#source = source;
  }

  method(): Method { return this.#method; }
  pathWithQuery(): string | undefined { return this.#path; }
  scheme(): Scheme | undefined { return this.#scheme; }
  authority(): string | undefined { return this.#authority; }
  headers(): Fields { return Fields.of(this.#headers ??= this.#source.headers(), true); }

  consume(): IncomingBody {
    if (this.#consumed) unitErr();
    this.#consumed = true;
    return new IncomingBody(this.#source.body());
  }

  /** Whether the guest has started on the body (a request whose body is untouched can be retried). */
  get consumed(): boolean {
    return this.#consumed;
  }

  [Symbol.dispose](): void {}
}
