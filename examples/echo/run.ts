// The bundled example: builds echo.c for WASI preview 1, serves it with
// `wasinet run --listen 127.0.0.1:0 --audit-log ...`, talks to it over TCP and shows the audit log.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC } from '../../test/support/guests.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-example-'));
const wasm = path.join(dir, 'echo.wasm');
fs.copyFileSync(await buildC(path.join(here, 'echo.c')), wasm);
const audit = path.join(dir, 'audit.jsonl');
const args = [path.join(here, '../../bin/wasinet.js'), 'run', '--listen', '127.0.0.1:0', '--audit-log', audit, wasm, '1'];
console.log(`$ wasinet ${args.slice(1).join(' ')}`);
const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
const timeout = setTimeout(() => { child.kill(); console.error('example: timed out'); process.exit(1); }, 30_000);

const port = await new Promise<number>((resolve, reject) => {
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    process.stderr.write(d);
    err += d;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
    if (m) resolve(Number(m[1]));
  });
  child.on('exit', (code) => reject(new Error(`wasinet exited (${code}) before listening`)));
});

const message = 'hello from the host, through a WASI guest\n';
const reply = await new Promise<string>((resolve, reject) => {
  const sock = net.connect(port, '127.0.0.1', () => sock.end(message));
  let got = '';
  sock.on('data', (d) => { got += d; });
  sock.on('end', () => resolve(got));
  sock.on('error', reject);
});
console.log(`client sent:     ${JSON.stringify(message)}`);
console.log(`client received: ${JSON.stringify(reply)}`);
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
clearTimeout(timeout);
console.log(`guest exited with ${code}; audit log:`);
process.stdout.write(fs.readFileSync(audit, 'utf8'));
if (reply !== message || code !== 0) {
  console.error('example: FAILED');
  process.exit(1);
}
