// The baseline for bench/serve.ts: a plain node:http server doing what the benchmark's components do.
// Prints "native: listening on HOST:PORT" on stderr.
//   node bench/native-http.ts hello|min [PORT]
//   hello: "hello from PATH\n" (text/plain), like test/guests/p2-http/hello.js
//   min:   "hello world\n", like test/guests/p2-http/hello-min.wat
import http from 'node:http';

const mode = process.argv[2];
const port = Number(process.argv[3] ?? 0);
if (mode !== 'hello' && mode !== 'min') {
  console.error('usage: node bench/native-http.ts hello|min [PORT]');
  process.exit(2);
}
const WORLD = Buffer.from('hello world\n');
const server = http.createServer(mode === 'hello'
  ? (req, res) => {
    const body = Buffer.from(`hello from ${req.url}\n`);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  }
  : (_req, res) => {
    res.writeHead(200, { 'content-length': WORLD.length });
    res.end(WORLD);
  });
server.listen(port, '127.0.0.1', () => {
  const a = server.address() as { address: string; port: number };
  process.stderr.write(`native: listening on ${a.address}:${a.port}\n`);
});
