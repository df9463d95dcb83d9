import { errno } from './abi.ts';
import { WasiError } from './errors.ts';

/** Bounds-checked access to the guest's linear memory. Views are re-derived after memory.grow
 *  (which detaches the old ArrayBuffer), so callers must not keep them across a suspension. */
export class GuestMemory {
  #memory: WebAssembly.Memory | undefined;
  #buffer: ArrayBuffer | undefined;
  #view!: DataView;
  #bytes!: Uint8Array<ArrayBuffer>;

  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.#buffer = undefined;
  }

  #refresh(): void {
    if (!this.#memory) throw new WasiError(errno.fault, 'guest exports no memory');
    const buf = this.#memory.buffer;
    if (buf !== this.#buffer) {
      this.#buffer = buf;
      this.#view = new DataView(buf);
      this.#bytes = new Uint8Array(buf);
    }
  }

  get view(): DataView { this.#refresh(); return this.#view; }
  get bytes(): Uint8Array<ArrayBuffer> { this.#refresh(); return this.#bytes; }

  /** Throws EFAULT unless [ptr, ptr+len) lies inside memory. */
  check(ptr: number, len: number): void {
    this.#refresh();
    if (ptr < 0 || len < 0 || ptr + len > this.#bytes.length) throw new WasiError(errno.fault);
  }

  /** A live view of guest bytes (valid until the next suspension or memory.grow). */
  slice(ptr: number, len: number): Uint8Array<ArrayBuffer> {
    this.check(ptr >>> 0, len >>> 0);
    return this.#bytes.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0));
  }

  u8(ptr: number): number { this.check(ptr, 1); return this.#view.getUint8(ptr); }
  u16(ptr: number): number { this.check(ptr, 2); return this.#view.getUint16(ptr, true); }
  u32(ptr: number): number { this.check(ptr, 4); return this.#view.getUint32(ptr, true); }
  u64(ptr: number): bigint { this.check(ptr, 8); return this.#view.getBigUint64(ptr, true); }
  setU8(ptr: number, v: number): void { this.check(ptr, 1); this.#view.setUint8(ptr, v); }
  setU16(ptr: number, v: number): void { this.check(ptr, 2); this.#view.setUint16(ptr, v, true); }
  setU32(ptr: number, v: number): void { this.check(ptr, 4); this.#view.setUint32(ptr, v >>> 0, true); }
  setU64(ptr: number, v: bigint): void { this.check(ptr, 8); this.#view.setBigUint64(ptr, BigInt.asUintN(64, v), true); }

  /** Reads a UTF-8 string; EILSEQ if it is not valid UTF-8. */
  string(ptr: number, len: number): string {
    const b = this.slice(ptr, len);
    try {
      return DECODER.decode(b);
    } catch {
      throw new WasiError(errno.ilseq);
    }
  }

  /** Reads an iovec/ciovec array: pairs of (buf ptr, buf len), each checked against memory. */
  iovecs(ptr: number, count: number): Uint8Array<ArrayBuffer>[] {
    ptr >>>= 0; count >>>= 0;
    if (count > 1024) throw new WasiError(errno.inval);
    this.check(ptr, count * 8);
    const out: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < count; i++) {
      const p = this.#view.getUint32(ptr + i * 8, true);
      const l = this.#view.getUint32(ptr + i * 8 + 4, true);
      out.push(this.slice(p, l));
    }
    return out;
  }
}

const DECODER = new TextDecoder('utf-8', { fatal: true });
