// A wasi:sockets TCP echo server in JS (componentize-qjs --sync): binds LISTEN_ADDR:LISTEN_PORT
// (environment), prints "listening A", serves CONNS connections at once through wasi:io/poll, then
// prints "served N connections, B bytes" and exits.
import poll from 'wasi:io/poll@0.2.12';
import instanceNetwork from 'wasi:sockets/instance-network@0.2.12';
import tcpCreate from 'wasi:sockets/tcp-create-socket@0.2.12';
import { env, errValue, formatAddress, ipv4, main, print, untilReady } from './qjs-common.js';

export const run = {
  run() {
    main(() => {
      const e = env();
      const want = Number(e.CONNS ?? 1);
      const net = instanceNetwork.instanceNetwork();
      const listener = tcpCreate.createTcpSocket('ipv4');
      const lp = listener.subscribe();
      listener.startBind(net, ipv4(e.LISTEN_ADDR, Number(e.LISTEN_PORT ?? 0)));
      untilReady(lp, () => listener.finishBind());
      listener.startListen();
      untilReady(lp, () => listener.finishListen());
      print(`listening ${formatAddress(listener.localAddress())}`);
      const conns = [];
      let accepted = 0, served = 0, bytes = 0;
      while (served < want) {
        const list = [], who = [];
        if (accepted < want) { list.push(lp); who.push(null); }
        for (const c of conns) { list.push(c.pollable); who.push(c); }
        const ready = poll.poll(list);
        for (const i of ready) {
          const c = who[i];
          if (c === null) {
            for (;;) {
              let t;
              try { t = listener.accept(); } catch (err) { if (errValue(err) === 'would-block') break; throw err; }
              const [sock, input, output] = t;
              conns.push({ sock, input, output, pollable: input.subscribe() });
              accepted++;
            }
            continue;
          }
          if (c.done) continue;
          let data;
          try {
            data = c.input.read(65536);
          } catch (err) {
            if (errValue(err)?.tag !== 'closed') throw err;
            c.done = true;
            served++;
            continue;
          }
          bytes += data.length;
          for (let k = 0; k < data.length; k += 4096) c.output.blockingWriteAndFlush(data.subarray(k, k + 4096));
        }
        for (let k = conns.length - 1; k >= 0; k--) {
          const c = conns[k];
          if (!c.done) continue;
          c.pollable[Symbol.dispose]();
          c.input[Symbol.dispose]();
          c.output[Symbol.dispose]();
          c.sock[Symbol.dispose]();
          conns.splice(k, 1);
        }
      }
      print(`served ${served} connections, ${bytes} bytes`);
    });
  },
};
