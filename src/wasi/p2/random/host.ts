// wasi:random: random (crypto), insecure (also crypto: it is fast enough) and insecure-seed.
import { randomBytes } from 'node:crypto';
import type { HostModule } from '../context.ts';

/** The most one call hands out; more is a guest bug (or an attack on the host's memory): trap. */
const MAX_BYTES = 64 << 20;

function bytes(len: bigint): Uint8Array {
  if (len > BigInt(MAX_BYTES)) throw new RangeError(`wasi:random: ${len} bytes asked for at once (at most ${MAX_BYTES})`);
  return new Uint8Array(randomBytes(Number(len)));
}

function u64(): bigint {
  return randomBytes(8).readBigUInt64LE(0);
}

export const randomHost: HostModule = () => {
  // One seed per instance, the same at every call (it seeds hash-map DoS protection).
  const seed: [bigint, bigint] = [u64(), u64()];
  return {
    'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => seed },
  };
};
