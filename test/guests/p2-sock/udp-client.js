// wasi:sockets UDP and ip-name-lookup in JS (componentize-qjs --sync): resolves TARGET_NAME
// (environment), prints every address, then sends COUNT datagrams from an ephemeral port to the
// first IPv4 one at TARGET_PORT and checks each echo. Prints "lookup: CODE" if resolving fails.
import ipNameLookup from 'wasi:sockets/ip-name-lookup@0.2.12';
import instanceNetwork from 'wasi:sockets/instance-network@0.2.12';
import udpCreate from 'wasi:sockets/udp-create-socket@0.2.12';
import { env, errValue, formatAddress, main, print, untilReady } from './qjs-common.js';

function resolve(net, name) {
  let stream;
  try {
    stream = ipNameLookup.resolveAddresses(net, name);
  } catch (err) {
    return { error: errValue(err) };
  }
  const p = stream.subscribe();
  const addresses = [];
  for (;;) {
    let a;
    try {
      a = untilReady(p, () => stream.resolveNextAddress());
    } catch (err) {
      return { error: errValue(err) };
    }
    if (a === null || a === undefined) return { addresses };
    addresses.push(a);
  }
}

export const run = {
  run() {
    main(() => {
      const e = env();
      const net = instanceNetwork.instanceNetwork();
      const r = resolve(net, e.TARGET_NAME);
      if (r.error) {
        print(`lookup: ${r.error}`);
        return;
      }
      for (const a of r.addresses) print(`address ${a.tag} ${a.tag === 'ipv4' ? a.val.join('.') : a.val.map((g) => g.toString(16)).join(':')}`);
      const v4 = r.addresses.find((a) => a.tag === 'ipv4');
      if (!v4) throw new Error('no IPv4 address');
      const remote = { tag: 'ipv4', val: { port: Number(e.TARGET_PORT), address: v4.val } };
      const sock = udpCreate.createUdpSocket('ipv4');
      sock.startBind(net, { tag: 'ipv4', val: { port: 0, address: [0, 0, 0, 0] } });
      untilReady(sock.subscribe(), () => sock.finishBind());
      const [incoming, outgoing] = sock.stream(remote);
      print(`remote ${formatAddress(sock.remoteAddress())}`);
      const count = Number(e.COUNT ?? 10);
      const inP = incoming.subscribe(), outP = outgoing.subscribe();
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        const data = new Uint8Array(1 + ((i * 389) % 2000));
        for (let k = 0; k < data.length; k++) data[k] = (k + i * 7) & 255;
        while (outgoing.checkSend() === 0) outP.block();
        const sent = outgoing.send([{ data, remoteAddress: undefined }]);
        if (sent !== 1) throw new Error(`send returned ${sent}`);
        let got;
        for (;;) {
          got = incoming.receive(1);
          if (got.length) break;
          inP.block();
        }
        const d = got[0];
        if (d.data.length !== data.length) throw new Error(`datagram ${i}: ${d.data.length} bytes back, sent ${data.length}`);
        for (let k = 0; k < data.length; k++) if (d.data[k] !== data[k]) throw new Error(`datagram ${i}: byte ${k} differs`);
        if (formatAddress(d.remoteAddress) !== formatAddress(remote)) throw new Error(`datagram ${i} from ${formatAddress(d.remoteAddress)}`);
        bytes += data.length;
      }
      print(`ok ${count} datagrams, ${bytes} bytes`);
    });
  },
};
