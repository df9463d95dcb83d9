// Exercises the wasi:sockets TCP state machine, error codes, options and name lookup one call at a
// time, printing one "label=result" line per call (results: ok, an error-code name, or a value).
//
// usage: tcp-probe SCENARIO [ARGS...]
//   states                 the state machine on one loopback listener and a connection to itself
//   options                keep-alive, hop-limit and buffer-size options, before and after connect
//   connect ADDR PORT      start-connect and finish-connect results
//   bind ADDR PORT         start-bind and finish-bind results
//   listen ADDR PORT       bind, then start-listen's result
//   reset ADDR PORT        connect, then read until the peer's reset shows
//   limit                  new-socket-limit (run with --max-sockets 2)
//   lookup NAME            resolve-addresses, every address
//   v6                     IPv6 sockets: IPv4-mapped addresses refused, a connection over ::1
#include "p2sock.h"

static handle_t net;

static void P(const char *label, int ec) {
  printf("%s=%s\n", label, ec_name(ec));
}

static void PV(const char *label, unsigned long long v) {
  printf("%s=%llu\n", label, v);
}

static handle_t tcp4(void) {
  handle_t s;
  int ec = create_tcp_socket(AF_V4, &s);
  if (ec != OK) { printf("create-tcp-socket=%s\n", ec_name(ec)); fflush(stdout); exit(1); }
  return s;
}

/** finish-bind/-connect/-listen: waits on the socket's pollable while the answer is would-block. */
static int wait_bind(handle_t s) {
  int ec;
  handle_t p = tcp_subscribe(s);
  while ((ec = tcp_finish_bind(s)) == EC_WOULD_BLOCK) pollable_block(p);
  pollable_drop(p);
  return ec;
}

static int wait_connect(handle_t s, handle_t *in, handle_t *out) {
  int ec;
  handle_t p = tcp_subscribe(s);
  while ((ec = tcp_finish_connect(s, in, out)) == EC_WOULD_BLOCK) pollable_block(p);
  pollable_drop(p);
  return ec;
}

static int wait_accept(handle_t s, handle_t *c, handle_t *in, handle_t *out) {
  int ec;
  handle_t p = tcp_subscribe(s);
  while ((ec = tcp_accept(s, c, in, out)) == EC_WOULD_BLOCK) pollable_block(p);
  pollable_drop(p);
  return ec;
}

/** A listener on 127.0.0.1 (ephemeral port); its port in *port. */
static handle_t listener4(uint16_t *port) {
  handle_t l = tcp4();
  if (tcp_start_bind(l, net, addr4(127, 0, 0, 1, 0)) != OK || wait_bind(l) != OK) die("bind");
  if (tcp_start_listen(l) != OK || tcp_finish_listen(l) != OK) die("listen");
  addr_t a;
  if (tcp_local_address(l, &a) != OK) die("local-address");
  *port = a.port;
  return l;
}

static const char *read_text(handle_t in, char *buf, size_t max) {
  int64_t n = in_blocking_read(in, (uint8_t *)buf, max - 1);
  if (n == STREAM_CLOSED) return "<closed>";
  if (n < 0) return "<failed>";
  buf[n] = 0;
  return buf;
}

static void states(void) {
  handle_t s = tcp4(), x, y, z;
  addr_t a;
  P("finish-bind-before-start", tcp_finish_bind(s));
  P("finish-connect-before-start", tcp_finish_connect(s, &x, &y));
  P("finish-listen-before-start", tcp_finish_listen(s));
  P("start-listen-unbound", tcp_start_listen(s));
  P("accept-unbound", tcp_accept(s, &x, &y, &z));
  P("local-address-unbound", tcp_local_address(s, &a));
  P("remote-address-unbound", tcp_remote_address(s, &a));
  P("shutdown-unbound", tcp_shutdown(s, SHUT_BOTH));
  PV("is-listening-unbound", tcp_is_listening(s));
  PV("address-family", tcp_address_family(s));
  P("start-bind-ipv6-address", tcp_start_bind(s, net, addr6_loopback(0)));
  P("start-bind-multicast", tcp_start_bind(s, net, addr4(224, 0, 0, 1, 0)));
  P("start-bind-broadcast", tcp_start_bind(s, net, addr4(255, 255, 255, 255, 0)));
  P("start-connect-unspecified", tcp_start_connect(s, net, addr4(0, 0, 0, 0, 80)));
  P("start-connect-port-0", tcp_start_connect(s, net, addr4(127, 0, 0, 1, 0)));
  P("start-bind", tcp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("start-bind-in-progress", tcp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("start-connect-while-binding", tcp_start_connect(s, net, addr4(127, 0, 0, 1, 9)));
  P("local-address-while-binding", tcp_local_address(s, &a));
  P("finish-bind-at-once", tcp_finish_bind(s));
  P("finish-bind", wait_bind(s));
  P("local-address", tcp_local_address(s, &a));
  uint16_t port = a.port;
  printf("bound-address=%d.%d.%d.%d port-nonzero=%s\n", a.v4[0], a.v4[1], a.v4[2], a.v4[3], port ? "yes" : "no");
  P("start-bind-bound", tcp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  P("finish-bind-bound", tcp_finish_bind(s));
  P("set-listen-backlog-size-0", tcp_set_listen_backlog_size(s, 0));
  P("set-listen-backlog-size", tcp_set_listen_backlog_size(s, 64));
  P("start-listen", tcp_start_listen(s));
  P("start-listen-in-progress", tcp_start_listen(s));
  PV("is-listening-in-progress", tcp_is_listening(s));
  P("finish-listen", tcp_finish_listen(s));
  P("finish-listen-again", tcp_finish_listen(s));
  PV("is-listening", tcp_is_listening(s));
  P("start-connect-listening", tcp_start_connect(s, net, addr4(127, 0, 0, 1, 9)));
  P("remote-address-listening", tcp_remote_address(s, &a));
  P("shutdown-listening", tcp_shutdown(s, SHUT_BOTH));
  P("accept-none-pending", tcp_accept(s, &x, &y, &z));

  // a second socket on the taken port
  handle_t s2 = tcp4();
  P("start-bind-taken-port", tcp_start_bind(s2, net, addr4(127, 0, 0, 1, port)));
  P("finish-bind-taken-port", wait_bind(s2));
  P("start-bind-after-failure", tcp_start_bind(s2, net, addr4(127, 0, 0, 1, 0)));
  P("finish-bind-after-failure", wait_bind(s2));
  tcp_drop(s2);

  // a connection to itself
  handle_t c = tcp4(), cin, cout;
  P("start-connect", tcp_start_connect(c, net, addr4(127, 0, 0, 1, port)));
  P("start-connect-in-progress", tcp_start_connect(c, net, addr4(127, 0, 0, 1, port)));
  P("start-listen-connecting", tcp_start_listen(c));
  P("finish-connect-at-once", tcp_finish_connect(c, &cin, &cout));
  P("finish-connect", wait_connect(c, &cin, &cout));
  P("finish-connect-again", tcp_finish_connect(c, &x, &y));
  P("start-connect-connected", tcp_start_connect(c, net, addr4(127, 0, 0, 1, port)));
  P("start-bind-connected", tcp_start_bind(c, net, addr4(127, 0, 0, 1, 0)));
  P("start-listen-connected", tcp_start_listen(c));
  P("set-listen-backlog-size-connected", tcp_set_listen_backlog_size(c, 10));
  P("accept-connected", tcp_accept(c, &x, &y, &z));
  PV("is-listening-connected", tcp_is_listening(c));
  handle_t a_s, ain, aout;
  P("accept", wait_accept(s, &a_s, &ain, &aout));
  addr_t cl, cr, al, ar;
  if (tcp_local_address(c, &cl) != OK || tcp_remote_address(c, &cr) != OK) die("client addresses");
  if (tcp_local_address(a_s, &al) != OK || tcp_remote_address(a_s, &ar) != OK) die("accepted addresses");
  printf("addresses-match=%s\n", (cr.port == port && al.port == port && ar.port == cl.port && memcmp(ar.v4, cl.v4, 4) == 0) ? "yes" : "no");
  PV("accepted-is-listening", tcp_is_listening(a_s));
  PV("accepted-address-family", tcp_address_family(a_s));

  char buf[256];
  out_write_all(cout, (const uint8_t *)"ping", 4);
  printf("server-read=%s\n", read_text(ain, buf, sizeof buf));
  out_write_all(aout, (const uint8_t *)"pong", 4);
  printf("client-read=%s\n", read_text(cin, buf, sizeof buf));
  // shutdown(send): the peer sees the end of the stream, our writes fail
  P("shutdown-send", tcp_shutdown(c, SHUT_SEND));
  printf("server-read-after-peer-shutdown=%s\n", read_text(ain, buf, sizeof buf));
  int64_t w = out_check_write(cout);
  printf("client-check-write-after-shutdown=%s\n", w == STREAM_CLOSED ? "closed" : w == STREAM_FAILED ? "failed" : "permitted");
  // shutdown(receive): our reads end, even with data on the way
  out_write_all(aout, (const uint8_t *)"more", 4);
  P("shutdown-receive", tcp_shutdown(c, SHUT_RECEIVE));
  printf("client-read-after-shutdown-receive=%s\n", read_text(cin, buf, sizeof buf));
  P("shutdown-both", tcp_shutdown(c, SHUT_BOTH));

  in_drop(cin);
  out_drop(cout);
  tcp_drop(c);
  in_drop(ain);
  out_drop(aout);
  tcp_drop(a_s);
  tcp_drop(s);

  // a failed connect leaves the socket closed: only drop is left
  handle_t f = tcp4();
  handle_t fin, fout;
  P("start-connect-closed-port", tcp_start_connect(f, net, addr4(127, 0, 0, 1, port)));
  P("finish-connect-closed-port", wait_connect(f, &fin, &fout));
  P("start-connect-after-failure", tcp_start_connect(f, net, addr4(127, 0, 0, 1, port)));
  P("local-address-after-failure", tcp_local_address(f, &a));
  bool ka;
  P("keep-alive-enabled-after-failure", tcp_keep_alive_enabled(f, &ka));
  tcp_drop(f);

  // bind, then connect from the bound address
  handle_t l2;
  uint16_t port2;
  l2 = listener4(&port2);
  handle_t b = tcp4(), bin, bout;
  P("bind-before-connect", tcp_start_bind(b, net, addr4(127, 0, 0, 1, 0)));
  P("finish-bind-before-connect", wait_bind(b));
  addr_t bl;
  tcp_local_address(b, &bl);
  P("connect-from-bound", tcp_start_connect(b, net, addr4(127, 0, 0, 1, port2)));
  addr_t during;
  P("local-address-while-connecting", tcp_local_address(b, &during));
  P("finish-connect-from-bound", wait_connect(b, &bin, &bout));
  addr_t bl2;
  tcp_local_address(b, &bl2);
  printf("connected-from-bound-port=%s\n", bl.port != 0 && bl2.port == bl.port && during.port == bl.port ? "yes" : "no");
  handle_t acc, accin, accout;
  P("accept-from-bound", wait_accept(l2, &acc, &accin, &accout));
  addr_t ar2;
  tcp_remote_address(acc, &ar2);
  printf("peer-sees-bound-port=%s\n", ar2.port == bl.port ? "yes" : "no");
  in_drop(bin); out_drop(bout); tcp_drop(b);
  in_drop(accin); out_drop(accout); tcp_drop(acc);
  tcp_drop(l2);
}

static void options(const char *peer, int port) {
  handle_t s = tcp4();
  bool en;
  uint64_t v;
  uint32_t cnt;
  uint8_t hop;
  tcp_keep_alive_enabled(s, &en); PV("keep-alive-enabled", en);
  tcp_keep_alive_idle_time(s, &v); PV("keep-alive-idle-time-s", v / 1000000000ull);
  tcp_keep_alive_interval(s, &v); PV("keep-alive-interval-s", v / 1000000000ull);
  tcp_keep_alive_count(s, &cnt); PV("keep-alive-count", cnt);
  tcp_hop_limit(s, &hop); PV("hop-limit", hop);
  tcp_receive_buffer_size(s, &v); PV("receive-buffer-size", v);
  tcp_send_buffer_size(s, &v); PV("send-buffer-size", v);
  P("set-keep-alive-idle-time-0", tcp_set_keep_alive_idle_time(s, 0));
  P("set-keep-alive-interval-0", tcp_set_keep_alive_interval(s, 0));
  P("set-keep-alive-count-0", tcp_set_keep_alive_count(s, 0));
  P("set-hop-limit-0", tcp_set_hop_limit(s, 0));
  P("set-receive-buffer-size-0", tcp_set_receive_buffer_size(s, 0));
  P("set-send-buffer-size-0", tcp_set_send_buffer_size(s, 0));
  P("set-keep-alive-enabled", tcp_set_keep_alive_enabled(s, true));
  tcp_keep_alive_enabled(s, &en); PV("keep-alive-enabled-after", en);
  P("set-keep-alive-idle-time", tcp_set_keep_alive_idle_time(s, 1500000000ull));
  tcp_keep_alive_idle_time(s, &v); PV("keep-alive-idle-time-ms-after", v / 1000000ull);
  tcp_keep_alive_interval(s, &v); PV("keep-alive-interval-ms-after", v / 1000000ull);
  tcp_keep_alive_count(s, &cnt); PV("keep-alive-count-after", cnt);
  P("set-keep-alive-interval", tcp_set_keep_alive_interval(s, 30000000000ull));
  tcp_keep_alive_interval(s, &v); PV("keep-alive-interval-ms-after-set", v / 1000000ull);
  P("set-keep-alive-count", tcp_set_keep_alive_count(s, 3));
  tcp_keep_alive_count(s, &cnt); PV("keep-alive-count-after-set", cnt);
  P("set-hop-limit", tcp_set_hop_limit(s, 10));
  tcp_hop_limit(s, &hop); PV("hop-limit-after-set", hop);
  P("set-receive-buffer-size", tcp_set_receive_buffer_size(s, 8192));
  tcp_receive_buffer_size(s, &v); PV("receive-buffer-size-after", v);
  P("set-send-buffer-size", tcp_set_send_buffer_size(s, 8192));
  tcp_send_buffer_size(s, &v); PV("send-buffer-size-after", v);
  tcp_set_receive_buffer_size(s, 1);
  tcp_receive_buffer_size(s, &v); PV("receive-buffer-size-tiny", v);
  tcp_set_receive_buffer_size(s, 1ull << 40);
  tcp_receive_buffer_size(s, &v); PV("receive-buffer-size-huge", v);
  tcp_set_receive_buffer_size(s, 100000);
  tcp_set_send_buffer_size(s, 200000);
  // the options carry over to the connection
  handle_t in, out;
  P("start-connect", tcp_start_connect(s, net, parse_addr(peer, port)));
  P("finish-connect", wait_connect(s, &in, &out));
  tcp_keep_alive_enabled(s, &en); PV("connected-keep-alive-enabled", en);
  tcp_keep_alive_idle_time(s, &v); PV("connected-keep-alive-idle-time-ms", v / 1000000ull);
  tcp_receive_buffer_size(s, &v); PV("connected-receive-buffer-size", v);
  tcp_send_buffer_size(s, &v); PV("connected-send-buffer-size", v);
  P("connected-set-keep-alive-enabled", tcp_set_keep_alive_enabled(s, false));
  tcp_keep_alive_enabled(s, &en); PV("connected-keep-alive-enabled-after", en);
  // the data path works with the small limits: 300 KB through the peer's echo
  size_t total = 300000, sent = 0, got = 0;
  uint8_t *buf = malloc(65536);
  handle_t ps[2] = { out_subscribe(out), in_subscribe(in) };
  uint32_t ready[2];
  int ok = 1;
  while (got < total) {
    if (sent < total) {
      int64_t permit = out_check_write(out);
      if (permit > 0) {
        size_t m = total - sent;
        if ((uint64_t)m > (uint64_t)permit) m = (size_t)permit;
        if (m > 65536) m = 65536;
        for (size_t q = 0; q < m; q++) buf[q] = (uint8_t)(sent + q);
        out_write(out, buf, m);
        sent += m;
      }
    }
    int64_t n = in_read(in, buf, 65536);
    if (n < 0) { ok = 0; break; }
    for (int64_t q = 0; q < n; q++) if (buf[q] != (uint8_t)(got + (size_t)q)) ok = 0;
    got += (size_t)n;
    if (n == 0) poll_list(sent < total ? ps : ps + 1, sent < total ? 2 : 1, ready);
  }
  printf("echo-with-small-buffers=%s\n", ok && got == total ? "ok" : "bad");
  pollable_drop(ps[0]);
  pollable_drop(ps[1]);
  in_drop(in);
  out_drop(out);
  tcp_drop(s);

  // a listener's options are inherited by the connections it accepts
  handle_t l = tcp4();
  tcp_set_keep_alive_enabled(l, true);
  tcp_set_keep_alive_idle_time(l, 20000000000ull);
  tcp_set_receive_buffer_size(l, 16384);
  uint16_t lport;
  if (tcp_start_bind(l, net, addr4(127, 0, 0, 1, 0)) != OK || wait_bind(l) != OK) die("bind");
  if (tcp_start_listen(l) != OK || tcp_finish_listen(l) != OK) die("listen");
  addr_t la;
  tcp_local_address(l, &la);
  lport = la.port;
  handle_t c = tcp4(), cin, cout;
  tcp_start_connect(c, net, addr4(127, 0, 0, 1, lport));
  if (wait_connect(c, &cin, &cout) != OK) die("self connect");
  handle_t a, ain, aout;
  if (wait_accept(l, &a, &ain, &aout) != OK) die("accept");
  tcp_keep_alive_enabled(a, &en); PV("accepted-keep-alive-enabled", en);
  tcp_keep_alive_idle_time(a, &v); PV("accepted-keep-alive-idle-time-s", v / 1000000000ull);
  tcp_receive_buffer_size(a, &v); PV("accepted-receive-buffer-size", v);
}

static void connect_to(const char *addr, int port) {
  handle_t s;
  int ec = create_tcp_socket(strchr(addr, ':') ? AF_V6 : AF_V4, &s);
  if (ec != OK) { P("create-tcp-socket", ec); return; }
  ec = tcp_start_connect(s, net, parse_addr(addr, port));
  P("start-connect", ec);
  if (ec != OK) return;
  handle_t in, out;
  P("finish-connect", wait_connect(s, &in, &out));
}

static void bind_to(const char *addr, int port, int listen) {
  handle_t s;
  int ec = create_tcp_socket(strchr(addr, ':') ? AF_V6 : AF_V4, &s);
  if (ec != OK) { P("create-tcp-socket", ec); return; }
  ec = tcp_start_bind(s, net, parse_addr(addr, port));
  P("start-bind", ec);
  if (ec != OK) return;
  ec = wait_bind(s);
  P("finish-bind", ec);
  if (ec != OK || !listen) return;
  ec = tcp_start_listen(s);
  P("start-listen", ec);
  if (ec == OK) P("finish-listen", tcp_finish_listen(s));
  else PV("still-bound", tcp_start_listen(s) == EC_ACCESS_DENIED); // a denied listen leaves it bound
}

static void reset(const char *addr, int port) {
  handle_t s = tcp4(), in, out;
  tcp_start_connect(s, net, parse_addr(addr, port));
  P("finish-connect", wait_connect(s, &in, &out));
  uint8_t buf[256];
  int64_t n;
  while ((n = in_blocking_read(in, buf, sizeof buf)) > 0) {}
  printf("read=%s\n", n == STREAM_CLOSED ? "closed" : "failed");
  if (n == STREAM_FAILED) P("network-error-code", stream_error_code());
  n = in_read(in, buf, sizeof buf);
  printf("read-again=%s\n", n == STREAM_CLOSED ? "closed" : n == STREAM_FAILED ? "failed" : "data");
}

static void limit(void) {
  uint16_t port;
  handle_t l = listener4(&port);               // slot 1
  handle_t c = tcp4(), cin, cout;
  tcp_start_connect(c, net, addr4(127, 0, 0, 1, port));  // slot 2
  P("finish-connect", wait_connect(c, &cin, &cout));
  handle_t x, y, z;
  P("create-tcp-socket-at-limit", create_tcp_socket(AF_V4, &x));
  P("create-udp-socket-at-limit", create_udp_socket(AF_V4, &x));
  handle_t lp = tcp_subscribe(l);
  pollable_block(lp);
  P("accept-at-limit", tcp_accept(l, &x, &y, &z));
  in_drop(cin);
  out_drop(cout);
  tcp_drop(c);
  P("accept-after-close", tcp_accept(l, &x, &y, &z));
}

static void lookup(const char *name) {
  handle_t st;
  int ec = resolve_addresses(net, name, &st);
  P("resolve-addresses", ec);
  if (ec != OK) return;
  int first = 1;
  for (;;) {
    int has;
    addr_t a;
    ec = resolve_next_address(st, &has, &a);
    if (ec == EC_WOULD_BLOCK) {
      if (first) printf("first-call=would-block\n");
      first = 0;
      block_on(resolve_subscribe(st));
      continue;
    }
    first = 0;
    if (ec != OK) { P("resolve-next-address", ec); break; }
    if (!has) { printf("end\n"); break; }
    a.port = 0;
    printf("address=%s\n", fmt_addr(&a));
  }
  resolve_drop(st);
}

static void v6(void) {
  handle_t s;
  if (create_tcp_socket(AF_V6, &s) != OK) die("create v6");
  PV("address-family", tcp_address_family(s));
  addr_t mapped = {0};
  mapped.v6 = 1;
  mapped.g[5] = 0xffff;
  mapped.g[6] = 0x7f00;
  mapped.g[7] = 1;
  P("start-bind-ipv4-mapped", tcp_start_bind(s, net, mapped));
  P("start-bind-ipv4-address", tcp_start_bind(s, net, addr4(127, 0, 0, 1, 0)));
  mapped.port = 80;
  P("start-connect-ipv4-mapped", tcp_start_connect(s, net, mapped));
  addr_t mc = {0};
  mc.v6 = 1; mc.g[0] = 0xff02; mc.g[7] = 1; mc.port = 80;
  P("start-connect-multicast", tcp_start_connect(s, net, mc));
  P("start-bind", tcp_start_bind(s, net, addr6_loopback(0)));
  P("finish-bind", wait_bind(s));
  P("start-listen", tcp_start_listen(s));
  P("finish-listen", tcp_finish_listen(s));
  addr_t la;
  tcp_local_address(s, &la);
  handle_t c, cin, cout;
  create_tcp_socket(AF_V6, &c);
  P("start-connect", tcp_start_connect(c, net, addr6_loopback(la.port)));
  P("finish-connect", wait_connect(c, &cin, &cout));
  handle_t a, ain, aout;
  P("accept", wait_accept(s, &a, &ain, &aout));
  addr_t r;
  tcp_remote_address(a, &r);
  printf("peer=%s\n", r.v6 && r.g[7] == 1 && r.g[0] == 0 ? "::1" : "other");
  char buf[64];
  out_write_all(cout, (const uint8_t *)"six", 3);
  printf("read=%s\n", read_text(ain, buf, sizeof buf));
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: tcp-probe SCENARIO [ARGS...]");
  net = instance_network();
  const char *sc = argv[1];
  if (!strcmp(sc, "states")) states();
  else if (!strcmp(sc, "options") && argc >= 4) options(argv[2], atoi(argv[3]));
  else if (!strcmp(sc, "connect") && argc >= 4) connect_to(argv[2], atoi(argv[3]));
  else if (!strcmp(sc, "bind") && argc >= 4) bind_to(argv[2], atoi(argv[3]), 0);
  else if (!strcmp(sc, "listen") && argc >= 4) bind_to(argv[2], atoi(argv[3]), 1);
  else if (!strcmp(sc, "reset") && argc >= 4) reset(argv[2], atoi(argv[3]));
  else if (!strcmp(sc, "limit")) limit();
  else if (!strcmp(sc, "lookup") && argc >= 3) lookup(argv[2]);
  else if (!strcmp(sc, "v6")) v6();
  else die("unknown scenario");
  printf("done\n");
  return 0;
}
