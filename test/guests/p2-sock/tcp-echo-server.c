// A wasi:sockets TCP echo server: binds ADDR:PORT itself, listens, and serves every connection
// with non-blocking reads and writes driven by one poll() over all of them.
//
// usage: tcp-echo-server ADDR PORT MAXCONN [splice]
//   prints "listening ADDR:PORT" (the real port) once it accepts; after MAXCONN connections have
//   come and gone (0: never) prints "served N connections, B bytes, max concurrent C" and exits 0.
//   With "splice" the bytes go from each input stream to its output stream with
//   output-stream.splice and never enter guest memory; otherwise read and write.
#include "p2sock.h"

#define BUF (256 * 1024)

typedef struct {
  handle_t sock, in, out, in_p, out_p;
  uint8_t *buf;    // the last read's data (the host's list, ours to free), pending output buf[off..len)
  size_t len, off;
  uint64_t permit; // what is left of the last check-write permit (writes may use it up bit by bit)
  int want_out;    // splice mode: waiting for output capacity
  int open;
} conn_t;

static conn_t *conns;
static size_t nconns, capconns;
static uint64_t total_bytes;
static size_t served, open_now, max_open, polls, events;
static int use_splice;

static void close_conn(conn_t *c) {
  pollable_drop(c->in_p);
  pollable_drop(c->out_p);
  in_drop(c->in);
  out_drop(c->out);
  tcp_drop(c->sock);
  if (c->len) free(c->buf);
  c->open = 0;
  served++;
  open_now--;
}

/** Writes as much pending output as the stream permits; 0 when all is out, 1 when some is left,
 *  -1 when the stream failed. */
static int flush_pending(conn_t *c) {
  while (c->off < c->len) {
    size_t n = c->len - c->off;
    if (c->permit < n) {
      // ask only when what is left of the last permit is not enough
      int64_t permit = out_check_write(c->out);
      if (permit < 0) return -1;
      c->permit = (uint64_t)permit;
      if (permit == 0) return 1;
    }
    if ((uint64_t)n > c->permit) n = (size_t)c->permit;
    if (out_write(c->out, c->buf + c->off, n) < 0) return -1;
    c->permit -= n;
    c->off += n;
  }
  free(c->buf);
  c->off = c->len = 0;
  return 0;
}

/** Splice mode: moves what the input has, as far as the output's permit goes. Returns -1 to close. */
static int serve_splice(conn_t *c) {
  for (int rounds = 0; rounds < 16; rounds++) {
    if (c->permit == 0) {
      int64_t permit = out_check_write(c->out);
      if (permit < 0) return -1;
      c->permit = (uint64_t)permit;
      c->want_out = permit == 0;
      if (permit == 0) return 0;
    }
    uint64_t want = c->permit < BUF ? c->permit : BUF;
    int64_t n = out_splice(c->out, c->in, want);
    if (n < 0) return -1; // the input ended (or either stream failed)
    c->want_out = 0;
    if (n == 0) return 0;
    total_bytes += (uint64_t)n;
    c->permit -= (uint64_t)n;
  }
  return 0;
}

/** Reads and echoes. Reads again only while reads fill the buffer (more is likely waiting); otherwise
 *  back to poll(), which says when there is more. Returns -1 to close. */
static int serve(conn_t *c) {
  for (int rounds = 0; rounds < 16; rounds++) {
    if (c->len > 0) {
      int r = flush_pending(c);
      if (r != 0) return r < 0 ? -1 : 0;
    }
    int64_t n = in_read_owned(c->in, BUF, &c->buf);
    if (n < 0) return -1; // end of stream or error: done with this one
    if (n == 0) return 0;
    total_bytes += (uint64_t)n;
    c->len = (size_t)n;
    c->off = 0;
    int r = flush_pending(c);
    if (r != 0) return r < 0 ? -1 : 0;
    if (n < BUF) return 0;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) die("usage: tcp-echo-server ADDR PORT MAXCONN");
  addr_t local = parse_addr(argv[1], atoi(argv[2]));
  size_t maxconn = (size_t)atol(argv[3]);
  use_splice = argc > 4 && strcmp(argv[4], "splice") == 0;

  handle_t net = instance_network();
  handle_t listener;
  int ec = create_tcp_socket(local.v6 ? AF_V6 : AF_V4, &listener);
  if (ec != OK) { printf("create: %s\n", ec_name(ec)); return 1; }
  handle_t lp = tcp_subscribe(listener);
  if ((ec = tcp_start_bind(listener, net, local)) != OK) { printf("bind: %s\n", ec_name(ec)); return 1; }
  while ((ec = tcp_finish_bind(listener)) == EC_WOULD_BLOCK) pollable_block(lp);
  if (ec != OK) { printf("bind: %s\n", ec_name(ec)); return 1; }
  if ((ec = tcp_start_listen(listener)) != OK) { printf("listen: %s\n", ec_name(ec)); return 1; }
  while ((ec = tcp_finish_listen(listener)) == EC_WOULD_BLOCK) pollable_block(lp);
  if (ec != OK) { printf("listen: %s\n", ec_name(ec)); return 1; }
  addr_t bound;
  if (tcp_local_address(listener, &bound) != OK) die("local-address");
  printf("listening %s\n", fmt_addr(&bound));
  fflush(stdout);

  handle_t *plist = NULL;
  uint32_t *ready = NULL;
  size_t *who = NULL;
  size_t cap = 0;

  while (maxconn == 0 || served < maxconn || open_now > 0) {
    if (cap < nconns + 1) {
      cap = (nconns + 1) * 2;
      plist = realloc(plist, cap * sizeof *plist);
      ready = realloc(ready, cap * sizeof *ready);
      who = realloc(who, cap * sizeof *who);
    }
    size_t n = 0;
    if (maxconn == 0 || served + open_now < maxconn) {
      plist[n] = lp;
      who[n++] = (size_t)-1;
    }
    for (size_t i = 0; i < nconns; i++) {
      conn_t *c = &conns[i];
      if (!c->open) continue;
      plist[n] = (c->len > 0 || c->want_out) ? c->out_p : c->in_p;
      who[n++] = i;
    }
    size_t k = poll_list(plist, n, ready);
    polls++;
    events += k;
    for (size_t j = 0; j < k; j++) {
      size_t i = who[ready[j]];
      if (i == (size_t)-1) {
        for (;;) {
          handle_t s, in, out;
          ec = tcp_accept(listener, &s, &in, &out);
          if (ec == EC_WOULD_BLOCK) break;
          if (ec != OK) { fprintf(stderr, "accept: %s\n", ec_name(ec)); break; }
          size_t slot = nconns;
          for (size_t q = 0; q < nconns; q++) if (!conns[q].open) { slot = q; break; }
          if (slot == nconns) {
            if (nconns == capconns) {
              capconns = capconns ? capconns * 2 : 64;
              conns = realloc(conns, capconns * sizeof *conns);
            }
            nconns++;
          }
          conn_t *c = &conns[slot];
          c->sock = s; c->in = in; c->out = out;
          c->in_p = in_subscribe(in);
          c->out_p = out_subscribe(out);
          c->len = c->off = 0;
          c->permit = 0;
          c->want_out = 0;
          c->open = 1;
          if (++open_now > max_open) max_open = open_now;
          if ((use_splice ? serve_splice(c) : serve(c)) < 0) close_conn(c);
          if (maxconn != 0 && served + open_now >= maxconn) break;
        }
      } else {
        conn_t *c = &conns[i];
        if (c->open && (use_splice ? serve_splice(c) : serve(c)) < 0) close_conn(c);
      }
    }
  }
  printf("served %zu connections, %llu bytes, max concurrent %zu, polls %zu, events %zu\n", served, (unsigned long long)total_bytes, max_open, polls, events);
  return 0;
}
