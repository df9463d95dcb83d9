// Reusable send buffers. Bytes a guest writes must be copied before Node gets them (guest memory
// changes as soon as the call returns, and Node may send later), but a fresh 64 KiB ArrayBuffer per
// write makes garbage collection the biggest cost of a bulk transfer. Blocks come back when Node
// reports the write done; only a bounded number of free ones is kept.

export const BLOCK_SIZE = 64 * 1024;

export class SendBlocks {
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;

  constructor(maxFree = 32) {
    this.#maxFree = maxFree;
  }

  get free(): number {
    return this.#free.length;
  }

  /** A copy of `data` (at most BLOCK_SIZE bytes) in a block, and the callback that returns the block
   *  once Node is done with it. */
  copy(data: Uint8Array): { bytes: Buffer; done: () => void } {
    const block = this.#free.pop() ?? Buffer.allocUnsafeSlow(BLOCK_SIZE);
    block.set(data);
    return { bytes: block.subarray(0, data.length), done: () => this.#give(block) };
  }

  #give(block: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(block);
  }
}
