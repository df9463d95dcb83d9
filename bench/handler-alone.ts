// How long a wasi:http handler takes on its own: the component's incoming-handler export called in a
// loop in this process, with wasinet's host but no HTTP server, no sockets and no client. This is
// the ceiling for one thread serving that component: no server can answer faster than its guest.
import fs from 'node:fs';
import { NetworkCore } from '../src/net/core.ts';
import { Checker } from '../src/policy/checker.ts';
import { Policy } from '../src/policy/policy.ts';
import { loadComponent } from '../src/wasi/p2/component.ts';
import { P2Context } from '../src/wasi/p2/context.ts';
import { createHost } from '../src/wasi/p2/host.ts';
import { IncomingRequest, ResponseOutparam, type ResponseWriter } from '../src/wasi/p2/http/types.ts';

type Handle = (req: IncomingRequest, out: ResponseOutparam) => Promise<void>;

/** Median µs per handled request over `rounds` batches of `batch` (after one warm-up batch). */
export async function handlerAlone(wasm: string, batch = 4000, rounds = 5): Promise<number> {
  const network = new NetworkCore({ guest: 'bench', checker: new Checker(new Policy([]), { guest: 'bench' }) });
  const ctx = new P2Context({ args: ['bench'], env: {}, preopens: [], network });
  try {
    const component = await loadComponent(new Uint8Array(fs.readFileSync(wasm)));
    const exports = await component.instantiate(createHost(ctx));
    const [, iface] = Object.entries(exports).find(([k]) => k.startsWith('wasi:http/incoming-handler@'))!;
    const handle = (iface as { handle: Handle }).handle;
    let bytes = 0;
    const writer: ResponseWriter = {
      buffered: 0,
      write: (b) => { bytes += b.length; },
      end: (last) => { bytes += last?.length ?? 0; },
      abort: () => { throw new Error('the handler aborted its response'); },
    };
    const source = { headers: () => [], body: () => { throw new Error('no request body here'); } };
    const one = (i: number): Promise<void> => handle(
      new IncomingRequest('GET', `/hello${i}`, { tag: 'HTTP' }, 'localhost', source),
      new ResponseOutparam({ respond: (_s, _h, body) => body.attach(writer), fail: () => { throw new Error('the handler failed'); } }),
    );
    const times: number[] = [];
    for (let r = 0; r <= rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) await one(i);
      if (r > 0) times.push(((performance.now() - t0) * 1000) / batch);
    }
    await new Promise((r) => setImmediate(r)); // the last bodies are passed on once per turn
    if (bytes === 0) throw new Error('the handler wrote nothing');
    times.sort((a, b) => a - b);
    return times[times.length >> 1]!;
  } finally {
    await ctx.close();
    network.close();
  }
}
