// wasi:sockets UDP: an echo server, a client checking every datagram, and the error codes.
//
// usage: udp-probe SCENARIO [ARGS...]
//   echo ADDR PORT N       bind ADDR:PORT, print "bound A", echo N datagrams to their senders
//   client ADDR PORT N     from an ephemeral port, N datagrams of varied sizes to ADDR:PORT, each
//                          echo checked byte for byte ("ok N datagrams, B bytes")
//   errors ADDR PORT       error codes and options; ADDR:PORT is a peer that echoes
//   trap                   send without check-send (must trap)
#include "p2sock.h"

static handle_t net;

static void P(const char *label, int ec) { printf("%s=%s\n", label, ec_name(ec)); }
static void PV(const char *label, unsigned long long v) { printf("%s=%llu\n", label, v); }

static handle_t udp_for(const addr_t *a) {
  handle_t s;
  int ec = create_udp_socket(a->v6 ? AF_V6 : AF_V4, &s);
  if (ec != OK) { P("create-udp-socket", ec); fflush(stdout); exit(1); }
  return s;
}

static int bind_wait(handle_t s, addr_t a) {
  int ec = udp_start_bind(s, net, a);
  if (ec != OK) return ec;
  handle_t p = udp_subscribe(s);
  while ((ec = udp_finish_bind(s)) == EC_WOULD_BLOCK) pollable_block(p);
  pollable_drop(p);
  return ec;
}

/** Sends one datagram, waiting for a check-send permit first. */
static int send_one(handle_t out, const uint8_t *data, size_t n, const addr_t *to) {
  uint64_t permit = 0;
  int ec;
  while ((ec = udp_check_send(out, &permit)) == OK && permit == 0) block_on(udp_out_subscribe(out));
  if (ec != OK) return ec;
  out_datagram_t d;
  set_datagram(&d, data, n, to);
  uint64_t sent;
  ec = udp_send(out, &d, 1, &sent);
  if (ec == OK && sent != 1) die("send returned 0");
  return ec;
}

/** Receives one datagram (waiting for it). */
static void recv_one(handle_t in, in_datagram_t *d) {
  size_t n;
  for (;;) {
    int ec = udp_receive(in, d, 1, &n);
    if (ec != OK) { P("receive", ec); fflush(stdout); exit(1); }
    if (n == 1) return;
    block_on(udp_in_subscribe(in));
  }
}

static void echo(const char *addr, int port, int count) {
  addr_t local = parse_addr(addr, port);
  handle_t s = udp_for(&local);
  int ec = bind_wait(s, local);
  if (ec != OK) { P("bind", ec); return; }
  addr_t a;
  udp_local_address(s, &a);
  printf("bound %s\n", fmt_addr(&a));
  fflush(stdout);
  handle_t in, out;
  if (udp_stream(s, NULL, &in, &out) != OK) die("stream");
  unsigned long long bytes = 0;
  for (int i = 0; i < count; i++) {
    in_datagram_t d;
    recv_one(in, &d);
    bytes += d.len;
    ec = send_one(out, d.data, d.len, &d.from);
    if (ec != OK) P("send", ec);
    if (d.len) free(d.data);
  }
  printf("echoed %d datagrams, %llu bytes\n", count, bytes);
}

static uint8_t pat(int i, size_t k) { return (uint8_t)(k * 3 + (size_t)i * 11); }

static void client(const char *addr, int port, int count) {
  addr_t remote = parse_addr(addr, port);
  handle_t s = udp_for(&remote);
  addr_t any = remote.v6 ? addr6_loopback(0) : addr4(0, 0, 0, 0, 0);
  if (remote.v6) any.g[7] = 0; // [::]:0
  int ec = bind_wait(s, any);
  if (ec != OK) { P("bind", ec); return; }
  handle_t in, out;
  if ((ec = udp_stream(s, &remote, &in, &out)) != OK) { P("stream", ec); return; }
  uint8_t *buf = malloc(65536);
  unsigned long long bytes = 0;
  for (int i = 0; i < count; i++) {
    size_t n = (size_t)((i * 997) % 9000);
    if (i == count - 1) n = 65000; // one near the largest IPv4 datagram
    for (size_t k = 0; k < n; k++) buf[k] = pat(i, k);
    if ((ec = send_one(out, buf, n, NULL)) != OK) { P("send", ec); return; }
    in_datagram_t d;
    recv_one(in, &d);
    if (d.len != n) { printf("datagram %d: %zu bytes back, sent %zu\n", i, d.len, n); return; }
    for (size_t k = 0; k < n; k++) if (d.data[k] != pat(i, k)) { printf("datagram %d: byte %zu differs\n", i, k); return; }
    if (d.from.port != remote.port) { printf("datagram %d: from port %d\n", i, d.from.port); return; }
    if (d.len) free(d.data);
    bytes += n;
  }
  printf("ok %d datagrams, %llu bytes\n", count, bytes);
}

static void errors(const char *addr, int port) {
  addr_t peer = parse_addr(addr, port);
  handle_t s = udp_for(&peer), in, out;
  addr_t a;
  P("stream-unbound", udp_stream(s, NULL, &in, &out));
  P("local-address-unbound", udp_local_address(s, &a));
  P("finish-bind-before-start", udp_finish_bind(s));
  P("start-bind-ipv6-address", udp_start_bind(s, net, addr6_loopback(0)));
  P("start-bind", udp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("start-bind-in-progress", udp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("finish-bind-at-once", udp_finish_bind(s));
  handle_t p = udp_subscribe(s);
  pollable_block(p);
  pollable_drop(p);
  P("finish-bind", udp_finish_bind(s));
  P("start-bind-bound", udp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("local-address", udp_local_address(s, &a));
  printf("bound-port-nonzero=%s\n", a.port ? "yes" : "no");
  P("remote-address-not-connected", udp_remote_address(s, &a));
  P("stream", udp_stream(s, NULL, &in, &out));

  uint8_t small[4] = {1, 2, 3, 4};
  uint64_t permit, sent;
  out_datagram_t d[2];
  P("check-send", udp_check_send(out, &permit));
  printf("permit-positive=%s\n", permit > 0 ? "yes" : "no");
  set_datagram(&d[0], small, 4, NULL);
  P("send-no-remote-unconnected", udp_send(out, d, 1, &sent));
  addr_t bad = addr4(0, 0, 0, 0, 9);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &bad);
  P("send-to-unspecified", udp_send(out, d, 1, &sent));
  bad = addr4(127, 0, 0, 1, 0);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &bad);
  P("send-to-port-0", udp_send(out, d, 1, &sent));
  bad = addr6_loopback(9);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &bad);
  P("send-to-ipv6-on-ipv4", udp_send(out, d, 1, &sent));
  uint8_t *big = calloc(1, 70000);
  udp_check_send(out, &permit);
  set_datagram(&d[0], big, 70000, &peer);
  P("send-too-large", udp_send(out, d, 1, &sent));
  addr_t denied = addr4(127, 0, 0, 1, port == 65535 ? 65534 : port + 1);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &denied);
  P("send-denied", udp_send(out, d, 1, &sent));
  // a batch whose second datagram fails: the first is sent, the count says so
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &peer);
  set_datagram(&d[1], small, 4, &denied);
  P("send-batch", udp_send(out, d, 2, &sent));
  PV("send-batch-count", sent);
  in_datagram_t r;
  recv_one(in, &r);
  printf("echo-of-batch=%zu bytes from port %s\n", r.len, r.from.port == port ? "peer" : "other");
  if (r.len) free(r.data);
  udp_in_drop(in);
  udp_out_drop(out);

  // "connected": stream(remote)
  P("stream-connected", udp_stream(s, &peer, &in, &out));
  P("remote-address-connected", udp_remote_address(s, &a));
  printf("remote-is-peer=%s\n", a.port == port ? "yes" : "no");
  addr_t other = addr4(127, 0, 0, 1, port == 65535 ? 65534 : port + 1);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 4, &other);
  P("send-other-remote-connected", udp_send(out, d, 1, &sent));
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 3, NULL);
  P("send-connected-no-remote", udp_send(out, d, 1, &sent));
  recv_one(in, &r);
  PV("echo-connected", r.len);
  if (r.len) free(r.data);
  udp_check_send(out, &permit);
  set_datagram(&d[0], small, 2, &peer);
  P("send-connected-same-remote", udp_send(out, d, 1, &sent));
  recv_one(in, &r);
  PV("echo-connected-same-remote", r.len);
  if (r.len) free(r.data);
  P("stream-unconnect", udp_stream(s, NULL, &in, &out));
  P("remote-address-after-unconnect", udp_remote_address(s, &a));

  // options
  uint8_t hop;
  udp_unicast_hop_limit_(s, RET); hop = r8(1); PV("unicast-hop-limit", hop);
  udp_set_unicast_hop_limit_(s, 0, RET); P("set-unicast-hop-limit-0", res(1));
  udp_set_unicast_hop_limit_(s, 7, RET); P("set-unicast-hop-limit", res(1));
  udp_unicast_hop_limit_(s, RET); PV("unicast-hop-limit-after", r8(1));
  udp_set_receive_buffer_size_(s, 0, RET); P("set-receive-buffer-size-0", res(1));
  udp_set_receive_buffer_size_(s, 65536, RET); P("set-receive-buffer-size", res(1));
  uint64_t v;
  udp_receive_buffer_size_(s, RET); get_u64(&v);
  printf("receive-buffer-size-at-least-asked=%s\n", v >= 65536 ? "yes" : "no");
  udp_drop(s);
}

static void trap(void) {
  addr_t l = addr4(0, 0, 0, 0, 0);
  handle_t s = udp_for(&l), in, out;
  if (bind_wait(s, l) != OK) die("bind");
  if (udp_stream(s, NULL, &in, &out) != OK) die("stream");
  uint8_t x = 1;
  addr_t to = addr4(127, 0, 0, 1, 9);
  out_datagram_t d;
  set_datagram(&d, &x, 1, &to);
  uint64_t sent;
  printf("sending without check-send\n");
  fflush(stdout);
  udp_send(out, &d, 1, &sent);
  printf("not trapped\n");
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: udp-probe SCENARIO [ARGS...]");
  net = instance_network();
  const char *sc = argv[1];
  if (!strcmp(sc, "echo") && argc >= 5) echo(argv[2], atoi(argv[3]), atoi(argv[4]));
  else if (!strcmp(sc, "client") && argc >= 5) client(argv[2], atoi(argv[3]), atoi(argv[4]));
  else if (!strcmp(sc, "errors") && argc >= 4) errors(argv[2], atoi(argv[3]));
  else if (!strcmp(sc, "trap")) trap();
  else die("unknown scenario");
  printf("done\n");
  return 0;
}
