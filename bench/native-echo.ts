// The baseline: a plain node:net echo server. Prints "native: listening on HOST:PORT" on stderr.
// Usage: node bench/native-echo.ts [HOST] [PORT]
import net from 'node:net';

const host = process.argv[2] ?? '127.0.0.1';
const port = Number(process.argv[3] ?? 0);
const server = net.createServer((socket) => {
  socket.on('data', (d) => socket.write(d));
  socket.on('error', () => socket.destroy());
});
server.listen(port, host, () => {
  const a = server.address() as net.AddressInfo;
  process.stderr.write(`native: listening on ${host.includes(':') ? `[${a.address}]` : a.address}:${a.port}\n`);
});
