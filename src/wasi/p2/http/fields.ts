// wasi:http/types `fields` (headers and trailers): an ordered multimap of lower-case names to raw
// byte values. Guest-made fields are checked (name syntax, value bytes, forbidden names); fields the
// host hands out for a request, response or trailers are immutable.
import type { Field } from '../../../net/http-client.ts';

export type HeaderError = { tag: 'invalid-syntax' } | { tag: 'forbidden' } | { tag: 'immutable' };

const INVALID: HeaderError = Object.freeze({ tag: 'invalid-syntax' });
const FORBIDDEN: HeaderError = Object.freeze({ tag: 'forbidden' });
const IMMUTABLE: HeaderError = Object.freeze({ tag: 'immutable' });

/** Hop-by-hop and connection-management fields: the host owns these (framing, pooling, the
 *  authority). Setting them is `forbidden`. */
export const FORBIDDEN_FIELDS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'host', 'http2-settings',
]);

// RFC 9110 token characters
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** Field values: any byte but controls (HTAB allowed) and DEL, as the http crate (wasmtime) accepts. */
export function isFieldValue(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) return false;
  }
  return true;
}

export class Fields {
  #entries: Field[] = [];
  #immutable = false;

  /** Host-made fields (trusted: names already lower-case); `immutable` for request/response heads. */
  static of(entries: Field[], immutable: boolean): Fields {
    const f = new Fields();
    f.#entries = entries;
    f.#immutable = immutable;
    return f;
  }

  /** Freezes these fields (a request or response took ownership of them) and returns the entries. */
  static seal(f: Fields): Field[] {
    f.#immutable = true;
    return f.#entries;
  }

  static fromList(list: [string, Uint8Array][]): Fields {
    const entries: Field[] = [];
    for (const [name, value] of list) entries.push([checkName(name), checkValue(value)]);
    return Fields.of(entries, false);
  }

  get(name: string): Uint8Array[] {
    const n = name.toLowerCase();
    const out: Uint8Array[] = [];
    for (const [k, v] of this.#entries) if (k === n) out.push(v);
    return out;
  }

  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.#entries.some(([k]) => k === n);
  }

  set(name: string, values: Uint8Array[]): void {
    if (this.#immutable) throw IMMUTABLE;
    const n = checkName(name);
    const vs = values.map(checkValue);
    this.#entries = this.#entries.filter(([k]) => k !== n);
    for (const v of vs) this.#entries.push([n, v]);
  }

  delete(name: string): void {
    if (this.#immutable) throw IMMUTABLE;
    const n = checkName(name);
    this.#entries = this.#entries.filter(([k]) => k !== n);
  }

  append(name: string, value: Uint8Array): void {
    if (this.#immutable) throw IMMUTABLE;
    this.#entries.push([checkName(name), checkValue(value)]);
  }

  entries(): [string, Uint8Array][] {
    return this.#entries.map(([k, v]) => [k, v]);
  }

  clone(): Fields {
    return Fields.of(this.#entries.slice(), false);
  }

  [Symbol.dispose](): void {}
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !isToken(name)) throw INVALID;
  const n = name.toLowerCase();
  if (FORBIDDEN_FIELDS.has(n)) throw FORBIDDEN;
  return n;
}

function checkValue(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array) || !isFieldValue(value)) throw INVALID;
  return value;
}

/** Fields from Node's raw header list (name, value, name, value...). `head`: a request or response
 *  head, whose forbidden (hop-by-hop) fields are the host's business and left out, as wasmtime does. */
export function fieldsFromRaw(raw: readonly string[], head: boolean): Field[] {
  const out: Field[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // HTTP/2 pseudo-headers (`:path`, ...) are the request line, not fields
    if (name.charCodeAt(0) === 0x3a || (head && FORBIDDEN_FIELDS.has(name))) continue;
    out.push([name, Buffer.from(raw[i + 1]!, 'latin1')]);
  }
  return out;
}

/** Leaves out the forbidden (hop-by-hop) fields of a head. */
export function withoutForbidden(fields: Field[]): Field[] {
  return fields.some(([n]) => FORBIDDEN_FIELDS.has(n)) ? fields.filter(([n]) => !FORBIDDEN_FIELDS.has(n)) : fields;
}

/** The value of the last `name` field as a latin1 string, or undefined. */
export function fieldValue(entries: readonly Field[], name: string): string | undefined {
  let v: Uint8Array | undefined;
  for (const [k, val] of entries) if (k === name) v = val;
  return v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
}
