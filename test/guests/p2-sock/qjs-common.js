// Helpers shared by the componentize-qjs socket guests. Nothing here may run at module top level
// with a WASI call: that happens at build time (wizer), and the handles would not survive.
import environment from 'wasi:cli/environment@0.2.12';
import stdout from 'wasi:cli/stdout@0.2.12';

/** Writes an ASCII line to stdout (QuickJS has no TextEncoder). */
export function print(s) {
  const out = stdout.getStdout();
  const text = `${s}\n`;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  for (let i = 0; i < bytes.length; i += 4096) out.blockingWriteAndFlush(bytes.subarray(i, i + 4096));
  out[Symbol.dispose]?.();
}

export function env() {
  const o = {};
  for (const [k, v] of environment.getEnvironment()) o[k] = v;
  return o;
}

/** An import's err value: componentize-qjs throws an Error carrying it as `payload`. */
export const errValue = (e) => (e instanceof Error && 'payload' in e ? e.payload : e);

/** Calls `fn` until it stops failing with would-block, waiting on `pollable` in between. */
export function untilReady(pollable, fn) {
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (errValue(err) !== 'would-block') throw err;
      pollable.block();
    }
  }
}

export function ipv4(text, port) {
  return { tag: 'ipv4', val: { port, address: text.split('.').map(Number) } };
}

export function formatAddress(a) {
  if (a.tag === 'ipv4') return `${a.val.address.join('.')}:${a.val.port}`;
  return `[${a.val.address.map((g) => g.toString(16)).join(':')}]:${a.val.port}`;
}

/** Runs `body`, printing what went wrong before failing the run. */
export function main(body) {
  try {
    body();
  } catch (err) {
    print(`failed: ${JSON.stringify(errValue(err))} ${err?.message ?? ''}`);
    throw err;
  }
}
