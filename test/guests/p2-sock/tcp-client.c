// A wasi:sockets TCP client: opens CONNS connections to ADDR:PORT at once (start-connect on all,
// then finish-connect as each becomes ready), sends BYTES of a per-connection pattern on each,
// reads the echo back and checks every byte, with one poll() driving all of them.
//
// usage: tcp-client ADDR PORT CONNS BYTES
//   prints "conn0 local A remote B" and finally "ok CONNS connections, BYTES bytes each" (exit 0),
//   or a line naming the failure (exit 1).
#include "p2sock.h"

#define CHUNK (32 * 1024)

typedef struct {
  handle_t sock, in, out, sp, in_p, out_p;
  size_t sent, got;
  int connected, send_done, done;
} conn_t;

static uint8_t pat(size_t conn, size_t i) { return (uint8_t)(i * 7 + conn * 13 + (i >> 10)); }

int main(int argc, char **argv) {
  if (argc < 5) die("usage: tcp-client ADDR PORT CONNS BYTES");
  addr_t remote = parse_addr(argv[1], atoi(argv[2]));
  size_t nconn = (size_t)atol(argv[3]);
  size_t bytes = (size_t)atol(argv[4]);
  handle_t net = instance_network();
  conn_t *c = calloc(nconn, sizeof *c);
  handle_t *plist = malloc((2 * nconn + 1) * sizeof *plist);
  uint32_t *ready = malloc((2 * nconn + 1) * sizeof *ready);
  size_t *who = malloc((2 * nconn + 1) * sizeof *who);
  uint8_t *buf = malloc(CHUNK);
  int ec;

  for (size_t i = 0; i < nconn; i++) {
    if ((ec = create_tcp_socket(remote.v6 ? AF_V6 : AF_V4, &c[i].sock)) != OK) { printf("create %zu: %s\n", i, ec_name(ec)); return 1; }
    c[i].sp = tcp_subscribe(c[i].sock);
    if ((ec = tcp_start_connect(c[i].sock, net, remote)) != OK) { printf("start-connect %zu: %s\n", i, ec_name(ec)); return 1; }
  }

  size_t finished = 0;
  while (finished < nconn) {
    size_t n = 0;
    for (size_t i = 0; i < nconn; i++) {
      if (c[i].done) continue;
      if (!c[i].connected) { plist[n] = c[i].sp; who[n++] = i; continue; }
      if (!c[i].send_done) { plist[n] = c[i].out_p; who[n++] = i; }
      plist[n] = c[i].in_p;
      who[n++] = i;
    }
    size_t k = poll_list(plist, n, ready);
    for (size_t j = 0; j < k; j++) {
      size_t i = who[ready[j]];
      conn_t *x = &c[i];
      if (x->done) continue;
      if (!x->connected) {
        ec = tcp_finish_connect(x->sock, &x->in, &x->out);
        if (ec == EC_WOULD_BLOCK) continue;
        if (ec != OK) { printf("finish-connect %zu: %s\n", i, ec_name(ec)); return 1; }
        x->connected = 1;
        x->in_p = in_subscribe(x->in);
        x->out_p = out_subscribe(x->out);
        if (i == 0) {
          addr_t l, r;
          if (tcp_local_address(x->sock, &l) != OK || tcp_remote_address(x->sock, &r) != OK) die("addresses");
          printf("conn0 local %s remote %s\n", fmt_addr(&l), fmt_addr(&r));
        }
        continue;
      }
      // send what the stream permits
      while (!x->send_done) {
        if (x->sent == bytes) {
          if ((ec = tcp_shutdown(x->sock, SHUT_SEND)) != OK) { printf("shutdown %zu: %s\n", i, ec_name(ec)); return 1; }
          x->send_done = 1;
          break;
        }
        int64_t permit = out_check_write(x->out);
        if (permit < 0) { printf("check-write %zu failed\n", i); return 1; }
        if (permit == 0) break;
        size_t m = bytes - x->sent;
        if (m > CHUNK) m = CHUNK;
        if ((uint64_t)m > (uint64_t)permit) m = (size_t)permit;
        for (size_t q = 0; q < m; q++) buf[q] = pat(i, x->sent + q);
        if (out_write(x->out, buf, m) < 0) { printf("write %zu failed\n", i); return 1; }
        x->sent += m;
      }
      // read what has arrived, every byte checked
      for (;;) {
        int64_t r = in_read(x->in, buf, CHUNK);
        if (r == 0) break;
        if (r == STREAM_CLOSED) {
          if (x->got != bytes) { printf("conn %zu: end of stream after %zu of %zu bytes\n", i, x->got, bytes); return 1; }
          x->done = 1;
          finished++;
          pollable_drop(x->in_p);
          pollable_drop(x->out_p);
          pollable_drop(x->sp);
          in_drop(x->in);
          out_drop(x->out);
          tcp_drop(x->sock);
          break;
        }
        if (r < 0) { printf("conn %zu: read failed: %s\n", i, ec_name(stream_error_code())); return 1; }
        for (int64_t q = 0; q < r; q++) {
          if (buf[q] != pat(i, x->got + (size_t)q)) { printf("conn %zu: byte %zu differs\n", i, x->got + (size_t)q); return 1; }
        }
        x->got += (size_t)r;
        if (x->got > bytes) { printf("conn %zu: more bytes than sent\n", i); return 1; }
      }
    }
  }
  printf("ok %zu connections, %zu bytes each\n", nconn, bytes);
  return 0;
}
