// A small HTTP/1.1 keep-alive load generator for bench/serve.ts: C connections, each sending GET
// requests back to back (no pipelining) for a fixed time after a warm-up, checking every response
// (status 200, body as expected). Prints one JSON line: requests, errors, req/s, p50/p99 latency.
//
//   node bench/http-load.ts PORT PATH CONNECTIONS DURATION_MS WARMUP_MS [EXPECTED_BODY]
//
// EXPECTED_BODY may contain {path}, replaced by the request path (each request gets its own path:
// PATH followed by a counter, so servers cannot answer from a cache).
import net from 'node:net';

const [portArg, pathArg, connArg, durArg, warmArg, expected] = process.argv.slice(2);
const port = Number(portArg);
const basePath = pathArg ?? '/';
const connections = Number(connArg ?? 50);
const durationMs = Number(durArg ?? 5000);
const warmupMs = Number(warmArg ?? 1000);
if (!port || !connections || !durationMs) {
  console.error('usage: node bench/http-load.ts PORT PATH CONNECTIONS DURATION_MS WARMUP_MS [EXPECTED_BODY]');
  process.exit(2);
}

let measuring = false;
let stopped = false;
let requests = 0;
let errors = 0;
let firstError: string | undefined;
const latencies: number[] = [];
let counter = 0;

function fail(msg: string): void {
  errors++;
  firstError ??= msg;
}

/** One keep-alive connection: send, parse one response (content-length or chunked), repeat. */
function runConnection(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let sentAt = 0n;
    let path = '';
    const send = (): void => {
      if (stopped) {
        socket.end();
        return;
      }
      path = `${basePath}${basePath.includes('?') ? '&' : '?'}n=${counter++}`;
      sentAt = process.hrtime.bigint();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    };
    const parse = (): void => {
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buf.subarray(0, headEnd).toString('latin1');
        const status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        let body: Buffer;
        let consumed: number;
        if (m) {
          const len = Number(m[1]);
          if (buf.length < headEnd + 4 + len) return;
          body = buf.subarray(headEnd + 4, headEnd + 4 + len);
          consumed = headEnd + 4 + len;
        } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          const parts: Buffer[] = [];
          let pos = headEnd + 4;
          for (;;) {
            const lineEnd = buf.indexOf('\r\n', pos);
            if (lineEnd < 0) return;
            const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
            if (size === 0) {
              const end = buf.indexOf('\r\n\r\n', lineEnd);
              if (end < 0) return;
              consumed = end + 4;
              break;
            }
            if (buf.length < lineEnd + 2 + size + 2) return;
            parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
            pos = lineEnd + 2 + size + 2;
          }
          body = Buffer.concat(parts);
        } else {
          fail(`response without length: ${head.split('\r\n')[0]}`);
          socket.destroy();
          return;
        }
        buf = buf.subarray(consumed);
        const ms = Number(process.hrtime.bigint() - sentAt) / 1e6;
        if (status !== 200) fail(`status ${status}`);
        else if (expected !== undefined && body.toString() !== expected.replace('{path}', path)) fail(`unexpected body ${JSON.stringify(body.toString().slice(0, 80))}`);
        else if (measuring) {
          requests++;
          latencies.push(ms);
        }
        send();
      }
    };
    socket.on('connect', send);
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      parse();
    });
    socket.on('error', (e) => fail(e.message));
    socket.on('close', () => resolve());
  });
}

const all = Array.from({ length: connections }, () => runConnection());
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, durationMs));
measuring = false;
const elapsed = performance.now() - t0;
stopped = true;
await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 5000))]);

latencies.sort((a, b) => a - b);
const pct = (p: number): number => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : NaN);
console.log(JSON.stringify({
  requests, errors, firstError,
  rps: requests / (elapsed / 1000),
  p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: latencies.at(-1) ?? NaN,
}));
process.exit(0);
