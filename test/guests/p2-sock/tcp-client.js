// A wasi:sockets TCP client in JS (componentize-qjs --sync): CONNS connections one after another to
// TARGET_ADDR:TARGET_PORT (environment), 8 messages of growing size on each, every echoed byte
// checked, then shutdown(send) and the peer's end of stream. Prints "ok CONNS connections, N bytes".
import instanceNetwork from 'wasi:sockets/instance-network@0.2.12';
import tcpCreate from 'wasi:sockets/tcp-create-socket@0.2.12';
import { env, errValue, formatAddress, ipv4, main, print, untilReady } from './qjs-common.js';

export const run = {
  run() {
    main(() => {
      const e = env();
      const remote = ipv4(e.TARGET_ADDR, Number(e.TARGET_PORT));
      const conns = Number(e.CONNS ?? 5);
      const net = instanceNetwork.instanceNetwork();
      let total = 0;
      for (let c = 0; c < conns; c++) {
        const sock = tcpCreate.createTcpSocket('ipv4');
        sock.startConnect(net, remote);
        const [input, output] = untilReady(sock.subscribe(), () => sock.finishConnect());
        if (c === 0) print(`remote ${formatAddress(sock.remoteAddress())}`);
        for (let m = 0; m < 8; m++) {
          const n = 1 + m * 1000 + c;
          const msg = new Uint8Array(n);
          for (let i = 0; i < n; i++) msg[i] = (i * 13 + m + c) & 255;
          for (let i = 0; i < n; i += 4096) output.blockingWriteAndFlush(msg.subarray(i, i + 4096));
          let got = 0;
          while (got < n) {
            const chunk = input.blockingRead(n - got);
            for (let i = 0; i < chunk.length; i++) {
              if (chunk[i] !== msg[got + i]) throw new Error(`conn ${c} message ${m}: byte ${got + i} differs`);
            }
            got += chunk.length;
          }
          total += n;
        }
        sock.shutdown('send');
        let eof = false;
        try { input.blockingRead(1); } catch (err) { eof = errValue(err)?.tag === 'closed'; }
        if (!eof) throw new Error(`conn ${c}: no end of stream`);
        input[Symbol.dispose]();
        output[Symbol.dispose]();
        sock[Symbol.dispose]();
      }
      print(`ok ${conns} connections, ${total} bytes`);
    });
  },
};
