// The names a component imports, with their versions (`wasi:cli/environment@0.2.12`), read from its
// binary's top-level import sections. jco reports imports without versions, and hands every version
// of one interface the same host object; these names let us refuse versions we do not implement
// (a WASI 0.3 interface) and name exactly what is missing.

const IMPORT_SECTION = 10;

class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error('truncated');
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 (u32). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('bad LEB128');
    }
  }

  /** Skips any LEB128 (signed or not). */
  skipLeb(): void {
    while (this.byte() & 0x80) { /* continuation */ }
  }

  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new Error('truncated');
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

function skipExternDesc(r: Reader): void {
  const kind = r.byte();
  switch (kind) {
    case 0x00: // core module: 0x11 typeidx
      r.byte();
      r.u32();
      return;
    case 0x01: // func
    case 0x04: // component
    case 0x05: // instance
      r.u32();
      return;
    case 0x02: { // value: eq valueidx | valtype
      const b = r.byte();
      if (b === 0x00) r.u32();
      else r.skipLeb();
      return;
    }
    case 0x03: { // type: eq typeidx | sub resource
      const b = r.byte();
      if (b === 0x00) r.u32();
      return;
    }
    default:
      throw new Error(`unknown externdesc ${kind}`);
  }
}

/** The top-level import names of a component binary, or null if it cannot be read (then nothing
 *  is checked here, and jco's own errors apply). */
export function componentImportNames(bytes: Uint8Array): string[] | null {
  try {
    const names: string[] = [];
    let pos = 8; // magic + version + layer
    while (pos < bytes.length) {
      const head = new Reader(bytes, pos, bytes.length);
      const id = head.byte();
      const size = head.u32();
      const start = head.pos;
      const end = start + size;
      if (end > bytes.length) return null;
      if (id === IMPORT_SECTION) {
        const r = new Reader(bytes, start, end);
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const tag = r.byte(); // 0x00 plain name, 0x01 legacy interface-name prefix
          if (tag !== 0x00 && tag !== 0x01) return null;
          names.push(r.name());
          skipExternDesc(r);
        }
      }
      pos = end;
    }
    return names;
  } catch {
    return null;
  }
}

/** `wasi:cli/run@0.2.3` → { name: 'wasi:cli/run', version: '0.2.3' }; no version → ''. */
export function splitVersion(full: string): { name: string; version: string } {
  const at = full.indexOf('@');
  return at < 0 ? { name: full, version: '' } : { name: full.slice(0, at), version: full.slice(at + 1) };
}
