// Benchmark client, run as its own process (so it can be pinned with taskset). Prints one JSON
// object on stdout. Modes:
//   latency    HOST PORT ROUNDS WARMUP         1-byte ping-pong on one connection
//   bulk       HOST PORT SECONDS CHUNK [WINDOW] stream CHUNK-byte writes (at most WINDOW chunks,
//                                               default 8, not yet echoed), count the echo
//   concurrent HOST PORT CONNS SECONDS MSGSIZE  CONNS connections each doing ping-pongs
import net from 'node:net';

const [mode, host = '127.0.0.1', portText = '0', ...rest] = process.argv.slice(2);
const port = Number(portText);

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function latency(rounds: number, warmup: number): Promise<object> {
  const sock = await connect();
  const samples = new Float64Array(rounds);
  const one = Buffer.from([0x2a]);
  let i = -warmup;
  let t0 = 0n;
  await new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      // One byte out, one byte back; a coalesced read would mean a protocol error.
      if (d.length !== 1) return reject(new Error(`expected 1 byte, got ${d.length}`));
      const t1 = process.hrtime.bigint();
      if (i >= 0) samples[i] = Number(t1 - t0) / 1000;
      i++;
      if (i >= rounds) return resolve();
      t0 = process.hrtime.bigint();
      sock.write(one);
    });
    t0 = process.hrtime.bigint();
    sock.write(one);
  });
  sock.destroy();
  const xs = Array.from(samples);
  return { mode: 'latency', rounds, medianUs: median(xs), p99Us: percentile(xs, 99), meanUs: xs.reduce((a, b) => a + b, 0) / xs.length };
}

async function bulk(seconds: number, chunkSize: number, window: number): Promise<object> {
  const sock = await connect();
  const chunk = Buffer.alloc(chunkSize);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  const MAX_OUTSTANDING = window * chunkSize;
  let sent = 0, received = 0, counted = 0;
  let measuring = false, stopping = false;
  let tStart = 0, tEnd = 0;
  let waiting: (() => void) | undefined;
  sock.on('data', (d: Buffer) => {
    received += d.length;
    if (measuring) counted += d.length;
    if (waiting && sent - received < MAX_OUTSTANDING) { const w = waiting; waiting = undefined; w(); }
  });
  const done = new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('end', () => resolve());
  });
  const warmupMs = Math.min(500, seconds * 250);
  setTimeout(() => { measuring = true; tStart = performance.now(); }, warmupMs);
  setTimeout(() => { stopping = true; tEnd = performance.now(); measuring = false; }, warmupMs + seconds * 1000);
  while (!stopping) {
    if (sent - received >= MAX_OUTSTANDING) {
      await new Promise<void>((r) => { waiting = r; });
      continue;
    }
    sent += chunk.length;
    if (!sock.write(chunk)) await new Promise<void>((r) => sock.once('drain', r));
  }
  sock.end();
  await done;
  if (received !== sent) throw new Error(`echoed ${received} of ${sent} bytes`);
  const elapsed = (tEnd - tStart) / 1000;
  return { mode: 'bulk', chunk: chunkSize, window, bytes: counted, seconds: elapsed, MBps: counted / elapsed / 1e6 };
}

async function concurrent(conns: number, seconds: number, msgSize: number): Promise<object> {
  const socks = await Promise.all(Array.from({ length: conns }, () => connect()));
  const msg = Buffer.alloc(msgSize, 0x61);
  let total = 0;
  let measuring = false, stopping = false;
  const finished: Promise<void>[] = socks.map((s) => new Promise<void>((resolve, reject) => {
    let got = 0;
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.length;
      while (got >= msgSize) {
        got -= msgSize;
        if (measuring) total++;
        if (stopping) { if (got === 0) { s.destroy(); resolve(); } return; }
        s.write(msg);
      }
    });
    s.write(msg);
  }));
  const warmupMs = Math.min(500, seconds * 250);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const t1 = performance.now();
  stopping = true;
  await Promise.race([Promise.all(finished), new Promise((r) => setTimeout(r, 5000))]);
  for (const s of socks) s.destroy();
  const elapsed = (t1 - t0) / 1000;
  return { mode: 'concurrent', conns, msgSize, roundTrips: total, seconds: elapsed, rtps: total / elapsed };
}

let result: object;
const nums = rest.map(Number);
switch (mode) {
  case 'latency': result = await latency(nums[0] ?? 20_000, nums[1] ?? 2000); break;
  case 'bulk': result = await bulk(nums[0] ?? 2, nums[1] ?? 65536, nums[2] ?? 8); break;
  case 'concurrent': result = await concurrent(nums[0] ?? 200, nums[1] ?? 2, nums[2] ?? 32); break;
  default:
    process.stderr.write('usage: echo-client.ts latency|bulk|concurrent HOST PORT ...\n');
    process.exit(2);
}
process.stdout.write(JSON.stringify(result) + '\n');
