// Hand-declared canonical-ABI imports of wasi:sockets@0.2.12 and wasi:io@0.2.12 for C guests built
// for wasm32-wasip1 and then made components (jco embed + jco new --wasi-command). stdio still goes
// through wasi-libc and the preview 1 adapter.
//
// Lowering rules used here: handles are i32; an ip-socket-address flattens to 12 i32 (tag, then the
// IPv4 case's port and 4 octets, or the IPv6 case's port, flow-info, 8 groups and scope-id, zero
// padded); results that do not fit one i32 are written to a return area passed as the last
// argument: the result's discriminant at +0 and its payload at the payload's alignment.
#ifndef P2SOCK_H
#define P2SOCK_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WASI_VER "0.2.12"
#define IMPORT(mod, name) __attribute__((import_module(mod "@" WASI_VER), import_name(name)))

typedef int32_t handle_t;

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  (void)align;
  if (new_size == 0) return (void *)align;
  void *p = realloc(ptr, new_size);
  if (!p) abort();
  return p;
}

// ---- error codes -------------------------------------------------------------------------------

enum {
  EC_UNKNOWN, EC_ACCESS_DENIED, EC_NOT_SUPPORTED, EC_INVALID_ARGUMENT, EC_OUT_OF_MEMORY, EC_TIMEOUT,
  EC_CONCURRENCY_CONFLICT, EC_NOT_IN_PROGRESS, EC_WOULD_BLOCK, EC_INVALID_STATE, EC_NEW_SOCKET_LIMIT,
  EC_ADDRESS_NOT_BINDABLE, EC_ADDRESS_IN_USE, EC_REMOTE_UNREACHABLE, EC_CONNECTION_REFUSED,
  EC_CONNECTION_RESET, EC_CONNECTION_ABORTED, EC_DATAGRAM_TOO_LARGE, EC_NAME_UNRESOLVABLE,
  EC_TEMPORARY_RESOLVER_FAILURE, EC_PERMANENT_RESOLVER_FAILURE,
};
#define OK (-1)

static const char *const EC_NAMES[] = {
  "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
  "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
  "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
  "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
  "temporary-resolver-failure", "permanent-resolver-failure",
};

static inline const char *ec_name(int ec) {
  if (ec == OK) return "ok";
  if (ec >= 0 && ec <= EC_PERMANENT_RESOLVER_FAILURE) return EC_NAMES[ec];
  return "?";
}

static void die(const char *what) {
  fprintf(stderr, "fatal: %s\n", what);
  fflush(stdout);
  exit(3);
}

// ---- return area -------------------------------------------------------------------------------

static uint8_t RET[64] __attribute__((aligned(8)));
static inline uint8_t r8(int o) { return RET[o]; }
static inline uint16_t r16(int o) { uint16_t v; memcpy(&v, RET + o, 2); return v; }
static inline uint32_t r32(int o) { uint32_t v; memcpy(&v, RET + o, 4); return v; }
static inline uint64_t r64(int o) { uint64_t v; memcpy(&v, RET + o, 8); return v; }
/** A result<_, error-code>-like answer: OK, or the error code at `at`. */
static inline int res(int at) { return r8(0) == 0 ? OK : r8(at); }

// ---- addresses ---------------------------------------------------------------------------------

typedef struct {
  int v6;          // 0: IPv4, 1: IPv6
  uint16_t port;
  uint8_t v4[4];
  uint16_t g[8];
  uint32_t flow, scope;
} addr_t;

static addr_t addr4(int a, int b, int c, int d, int port) {
  addr_t x = {0};
  x.v4[0] = a; x.v4[1] = b; x.v4[2] = c; x.v4[3] = d;
  x.port = port;
  return x;
}

static addr_t addr6_loopback(int port) {
  addr_t x = {0};
  x.v6 = 1;
  x.g[7] = 1;
  x.port = port;
  return x;
}

/** "a.b.c.d" or "::1" (only the loopback for IPv6) or "2001:db8::1". */
static addr_t parse_addr(const char *s, int port) {
  if (strchr(s, ':')) {
    addr_t x = {0};
    x.v6 = 1;
    x.port = port;
    if (strcmp(s, "::1") == 0) { x.g[7] = 1; return x; }
    if (strcmp(s, "::") == 0) return x;
    if (strcmp(s, "2001:db8::1") == 0) { x.g[0] = 0x2001; x.g[1] = 0xdb8; x.g[7] = 1; return x; }
    die("unsupported IPv6 literal");
  }
  int a, b, c, d;
  if (sscanf(s, "%d.%d.%d.%d", &a, &b, &c, &d) != 4) die("bad IPv4 literal");
  return addr4(a, b, c, d, port);
}

#define FLAT_ADDR(F) F[0], F[1], F[2], F[3], F[4], F[5], F[6], F[7], F[8], F[9], F[10], F[11]
#define ADDR_PARAMS int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t

static void flatten(const addr_t *a, int32_t F[12]) {
  memset(F, 0, 12 * sizeof(int32_t));
  F[0] = a->v6;
  F[1] = a->port;
  if (!a->v6) {
    for (int i = 0; i < 4; i++) F[2 + i] = a->v4[i];
  } else {
    F[2] = (int32_t)a->flow;
    for (int i = 0; i < 8; i++) F[3 + i] = a->g[i];
    F[11] = (int32_t)a->scope;
  }
}

/** Reads an ip-socket-address stored in memory at `p` (tag, payload at +4). */
static addr_t load_addr(const uint8_t *p) {
  addr_t x = {0};
  x.v6 = p[0];
  memcpy(&x.port, p + 4, 2);
  if (!x.v6) {
    memcpy(x.v4, p + 6, 4);
  } else {
    memcpy(&x.flow, p + 8, 4);
    memcpy(x.g, p + 12, 16);
    memcpy(&x.scope, p + 28, 4);
  }
  return x;
}

static void store_addr(uint8_t *p, const addr_t *a) {
  memset(p, 0, 32);
  p[0] = a->v6;
  memcpy(p + 4, &a->port, 2);
  if (!a->v6) {
    memcpy(p + 6, a->v4, 4);
  } else {
    memcpy(p + 8, &a->flow, 4);
    memcpy(p + 12, a->g, 16);
    memcpy(p + 28, &a->scope, 4);
  }
}

static const char *fmt_addr(const addr_t *a) {
  static char buf[8][64];
  static int k;
  char *b = buf[k++ & 7];
  if (!a->v6) {
    snprintf(b, 64, "%d.%d.%d.%d:%d", a->v4[0], a->v4[1], a->v4[2], a->v4[3], a->port);
  } else {
    snprintf(b, 64, "[%x:%x:%x:%x:%x:%x:%x:%x]:%d", a->g[0], a->g[1], a->g[2], a->g[3], a->g[4], a->g[5], a->g[6], a->g[7], a->port);
  }
  return b;
}

// ---- wasi:io -------------------------------------------------------------------------------------

IMPORT("wasi:io/poll", "[method]pollable.block") extern void pollable_block(handle_t);
IMPORT("wasi:io/poll", "[method]pollable.ready") extern int32_t pollable_ready(handle_t);
IMPORT("wasi:io/poll", "[resource-drop]pollable") extern void pollable_drop(handle_t);
IMPORT("wasi:io/poll", "poll") extern void io_poll(const handle_t *list, size_t n, void *ret);

IMPORT("wasi:io/error", "[resource-drop]error") extern void error_drop(handle_t);
IMPORT("wasi:io/error", "[method]error.to-debug-string") extern void error_to_debug_string(handle_t, void *ret);

IMPORT("wasi:io/streams", "[method]input-stream.read") extern void in_read_(handle_t, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]input-stream.blocking-read") extern void in_blocking_read_(handle_t, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]input-stream.subscribe") extern handle_t in_subscribe(handle_t);
IMPORT("wasi:io/streams", "[resource-drop]input-stream") extern void in_drop(handle_t);
IMPORT("wasi:io/streams", "[method]output-stream.check-write") extern void out_check_write_(handle_t, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.write") extern void out_write_(handle_t, const void *, size_t, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.blocking-write-and-flush") extern void out_bwf_(handle_t, const void *, size_t, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.blocking-flush") extern void out_blocking_flush_(handle_t, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.splice") extern void out_splice_(handle_t, handle_t src, int64_t len, void *ret);
IMPORT("wasi:io/streams", "[method]output-stream.subscribe") extern handle_t out_subscribe(handle_t);
IMPORT("wasi:io/streams", "[resource-drop]output-stream") extern void out_drop(handle_t);

/** The error resource of the last `last-operation-failed`, or -1. */
static handle_t last_stream_error = -1;

#define STREAM_CLOSED (-1)
#define STREAM_FAILED (-2)

/** Reads a stream-error at `at`: STREAM_CLOSED, or STREAM_FAILED with last_stream_error set. */
static int64_t stream_err(int at) {
  if (r8(at) == 1) return STREAM_CLOSED;
  if (last_stream_error >= 0) error_drop(last_stream_error);
  last_stream_error = (handle_t)r32(at + 4);
  return STREAM_FAILED;
}

static int64_t take_list(uint8_t *buf, size_t max) {
  uint8_t *p = (uint8_t *)(uintptr_t)r32(4);
  size_t n = r32(8);
  if (n > max) die("read returned more than asked");
  if (n) {
    memcpy(buf, p, n);
    free(p); // an empty list's pointer is not an allocation (cabi_realloc of size 0)
  }
  return (int64_t)n;
}

/** Bytes read (0: none available yet), or STREAM_CLOSED / STREAM_FAILED. */
static int64_t in_read(handle_t s, uint8_t *buf, size_t max) {
  in_read_(s, (int64_t)max, RET);
  if (r8(0) != 0) return stream_err(4);
  return take_list(buf, max);
}

/** Like in_read, but hands over the host's list itself (no copy): *data must be free()d when the
 *  count is > 0. */
static int64_t in_read_owned(handle_t s, size_t max, uint8_t **data) {
  in_read_(s, (int64_t)max, RET);
  if (r8(0) != 0) return stream_err(4);
  *data = (uint8_t *)(uintptr_t)r32(4);
  size_t n = r32(8);
  if (n > max) die("read returned more than asked");
  return (int64_t)n;
}

static int64_t in_blocking_read(handle_t s, uint8_t *buf, size_t max) {
  in_blocking_read_(s, (int64_t)max, RET);
  if (r8(0) != 0) return stream_err(4);
  return take_list(buf, max);
}

/** check-write's permit, or STREAM_CLOSED / STREAM_FAILED. */
static int64_t out_check_write(handle_t s) {
  out_check_write_(s, RET);
  if (r8(0) != 0) return stream_err(8);
  return (int64_t)r64(8);
}

static int64_t out_write(handle_t s, const void *p, size_t n) {
  out_write_(s, p, n, RET);
  if (r8(0) != 0) return stream_err(4);
  return 0;
}

/** Moves up to `len` bytes from `src` to `dst` without them entering guest memory: the count (0:
 *  nothing to move right now), or STREAM_CLOSED / STREAM_FAILED (either stream). */
static int64_t out_splice(handle_t dst, handle_t src, uint64_t len) {
  out_splice_(dst, src, (int64_t)len, RET);
  if (r8(0) != 0) return stream_err(8);
  return (int64_t)r64(8);
}

/** Writes everything (blocking-write-and-flush in chunks of at most 4096). */
static int64_t out_write_all(handle_t s, const uint8_t *p, size_t n) {
  while (n > 0) {
    size_t k = n > 4096 ? 4096 : n;
    out_bwf_(s, p, k, RET);
    if (r8(0) != 0) return stream_err(4);
    p += k;
    n -= k;
  }
  return 0;
}

/** poll(): fills `ready` with the indexes that are ready; returns how many. */
static size_t poll_list(const handle_t *list, size_t n, uint32_t *ready) {
  io_poll(list, n, RET);
  uint32_t *p = (uint32_t *)(uintptr_t)r32(0);
  size_t k = r32(4);
  if (k > n) die("poll returned too many indexes");
  if (k) {
    memcpy(ready, p, k * sizeof(uint32_t));
    free(p);
  }
  return k;
}

/** Waits for `p` and drops it. */
static void block_on(handle_t p) {
  pollable_block(p);
  pollable_drop(p);
}

// ---- wasi:sockets/network, instance-network ----------------------------------------------------

IMPORT("wasi:sockets/instance-network", "instance-network") extern handle_t instance_network(void);
IMPORT("wasi:sockets/network", "[resource-drop]network") extern void network_drop(handle_t);
IMPORT("wasi:sockets/network", "network-error-code") extern void network_error_code_(handle_t err, void *ret);

/** The error-code of a stream's failure (last_stream_error), or OK when it has none. */
static int stream_error_code(void) {
  if (last_stream_error < 0) return OK;
  network_error_code_(last_stream_error, RET);
  return r8(0) ? r8(1) : OK;
}

enum { AF_V4 = 0, AF_V6 = 1 };
enum { SHUT_RECEIVE = 0, SHUT_SEND = 1, SHUT_BOTH = 2 };

// ---- wasi:sockets/tcp ----------------------------------------------------------------------------

#define TCP "wasi:sockets/tcp"
IMPORT("wasi:sockets/tcp-create-socket", "create-tcp-socket") extern void create_tcp_socket_(int32_t family, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-bind") extern void tcp_start_bind_(handle_t, handle_t, ADDR_PARAMS, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-bind") extern void tcp_finish_bind_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-connect") extern void tcp_start_connect_(handle_t, handle_t, ADDR_PARAMS, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-connect") extern void tcp_finish_connect_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.start-listen") extern void tcp_start_listen_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.finish-listen") extern void tcp_finish_listen_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.accept") extern void tcp_accept_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.local-address") extern void tcp_local_address_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.remote-address") extern void tcp_remote_address_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.is-listening") extern int32_t tcp_is_listening(handle_t);
IMPORT(TCP, "[method]tcp-socket.address-family") extern int32_t tcp_address_family(handle_t);
IMPORT(TCP, "[method]tcp-socket.set-listen-backlog-size") extern void tcp_set_listen_backlog_size_(handle_t, int64_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.keep-alive-enabled") extern void tcp_keep_alive_enabled_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-enabled") extern void tcp_set_keep_alive_enabled_(handle_t, int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.keep-alive-idle-time") extern void tcp_keep_alive_idle_time_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-idle-time") extern void tcp_set_keep_alive_idle_time_(handle_t, int64_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.keep-alive-interval") extern void tcp_keep_alive_interval_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-interval") extern void tcp_set_keep_alive_interval_(handle_t, int64_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.keep-alive-count") extern void tcp_keep_alive_count_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-count") extern void tcp_set_keep_alive_count_(handle_t, int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.hop-limit") extern void tcp_hop_limit_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-hop-limit") extern void tcp_set_hop_limit_(handle_t, int32_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.receive-buffer-size") extern void tcp_receive_buffer_size_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-receive-buffer-size") extern void tcp_set_receive_buffer_size_(handle_t, int64_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.send-buffer-size") extern void tcp_send_buffer_size_(handle_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.set-send-buffer-size") extern void tcp_set_send_buffer_size_(handle_t, int64_t, void *ret);
IMPORT(TCP, "[method]tcp-socket.subscribe") extern handle_t tcp_subscribe(handle_t);
IMPORT(TCP, "[method]tcp-socket.shutdown") extern void tcp_shutdown_(handle_t, int32_t, void *ret);
IMPORT(TCP, "[resource-drop]tcp-socket") extern void tcp_drop(handle_t);

static int create_tcp_socket(int family, handle_t *out) {
  create_tcp_socket_(family, RET);
  if (r8(0)) return r8(4);
  *out = (handle_t)r32(4);
  return OK;
}

static int tcp_start_bind(handle_t s, handle_t net, addr_t a) {
  int32_t F[12];
  flatten(&a, F);
  tcp_start_bind_(s, net, FLAT_ADDR(F), RET);
  return res(1);
}

static int tcp_finish_bind(handle_t s) { tcp_finish_bind_(s, RET); return res(1); }

static int tcp_start_connect(handle_t s, handle_t net, addr_t a) {
  int32_t F[12];
  flatten(&a, F);
  tcp_start_connect_(s, net, FLAT_ADDR(F), RET);
  return res(1);
}

static int tcp_finish_connect(handle_t s, handle_t *in, handle_t *out) {
  tcp_finish_connect_(s, RET);
  if (r8(0)) return r8(4);
  *in = (handle_t)r32(4);
  *out = (handle_t)r32(8);
  return OK;
}

static int tcp_start_listen(handle_t s) { tcp_start_listen_(s, RET); return res(1); }
static int tcp_finish_listen(handle_t s) { tcp_finish_listen_(s, RET); return res(1); }

static int tcp_accept(handle_t s, handle_t *client, handle_t *in, handle_t *out) {
  tcp_accept_(s, RET);
  if (r8(0)) return r8(4);
  *client = (handle_t)r32(4);
  *in = (handle_t)r32(8);
  *out = (handle_t)r32(12);
  return OK;
}

static int tcp_local_address(handle_t s, addr_t *a) {
  tcp_local_address_(s, RET);
  if (r8(0)) return r8(4);
  *a = load_addr(RET + 4);
  return OK;
}

static int tcp_remote_address(handle_t s, addr_t *a) {
  tcp_remote_address_(s, RET);
  if (r8(0)) return r8(4);
  *a = load_addr(RET + 4);
  return OK;
}

static int tcp_shutdown(handle_t s, int how) { tcp_shutdown_(s, how, RET); return res(1); }
static int tcp_set_listen_backlog_size(handle_t s, uint64_t v) { tcp_set_listen_backlog_size_(s, (int64_t)v, RET); return res(1); }

static int tcp_keep_alive_enabled(handle_t s, bool *v) {
  tcp_keep_alive_enabled_(s, RET);
  if (r8(0)) return r8(1);
  *v = r8(1) != 0;
  return OK;
}
static int tcp_set_keep_alive_enabled(handle_t s, bool v) { tcp_set_keep_alive_enabled_(s, v, RET); return res(1); }

/** For the u64 getters (durations, buffer sizes): the value at +8. */
static int get_u64(uint64_t *v) {
  if (r8(0)) return r8(8);
  *v = r64(8);
  return OK;
}
static int tcp_keep_alive_idle_time(handle_t s, uint64_t *v) { tcp_keep_alive_idle_time_(s, RET); return get_u64(v); }
static int tcp_set_keep_alive_idle_time(handle_t s, uint64_t v) { tcp_set_keep_alive_idle_time_(s, (int64_t)v, RET); return res(1); }
static int tcp_keep_alive_interval(handle_t s, uint64_t *v) { tcp_keep_alive_interval_(s, RET); return get_u64(v); }
static int tcp_set_keep_alive_interval(handle_t s, uint64_t v) { tcp_set_keep_alive_interval_(s, (int64_t)v, RET); return res(1); }
static int tcp_keep_alive_count(handle_t s, uint32_t *v) {
  tcp_keep_alive_count_(s, RET);
  if (r8(0)) return r8(4);
  *v = r32(4);
  return OK;
}
static int tcp_set_keep_alive_count(handle_t s, uint32_t v) { tcp_set_keep_alive_count_(s, (int32_t)v, RET); return res(1); }
static int tcp_hop_limit(handle_t s, uint8_t *v) {
  tcp_hop_limit_(s, RET);
  if (r8(0)) return r8(1);
  *v = r8(1);
  return OK;
}
static int tcp_set_hop_limit(handle_t s, uint8_t v) { tcp_set_hop_limit_(s, v, RET); return res(1); }
static int tcp_receive_buffer_size(handle_t s, uint64_t *v) { tcp_receive_buffer_size_(s, RET); return get_u64(v); }
static int tcp_set_receive_buffer_size(handle_t s, uint64_t v) { tcp_set_receive_buffer_size_(s, (int64_t)v, RET); return res(1); }
static int tcp_send_buffer_size(handle_t s, uint64_t *v) { tcp_send_buffer_size_(s, RET); return get_u64(v); }
static int tcp_set_send_buffer_size(handle_t s, uint64_t v) { tcp_set_send_buffer_size_(s, (int64_t)v, RET); return res(1); }

// ---- wasi:sockets/udp ----------------------------------------------------------------------------

#define UDP "wasi:sockets/udp"
IMPORT("wasi:sockets/udp-create-socket", "create-udp-socket") extern void create_udp_socket_(int32_t family, void *ret);
IMPORT(UDP, "[method]udp-socket.start-bind") extern void udp_start_bind_(handle_t, handle_t, ADDR_PARAMS, void *ret);
IMPORT(UDP, "[method]udp-socket.finish-bind") extern void udp_finish_bind_(handle_t, void *ret);
IMPORT(UDP, "[method]udp-socket.stream") extern void udp_stream_(handle_t, int32_t is_some, ADDR_PARAMS, void *ret);
IMPORT(UDP, "[method]udp-socket.local-address") extern void udp_local_address_(handle_t, void *ret);
IMPORT(UDP, "[method]udp-socket.remote-address") extern void udp_remote_address_(handle_t, void *ret);
IMPORT(UDP, "[method]udp-socket.subscribe") extern handle_t udp_subscribe(handle_t);
IMPORT(UDP, "[method]udp-socket.unicast-hop-limit") extern void udp_unicast_hop_limit_(handle_t, void *ret);
IMPORT(UDP, "[method]udp-socket.set-unicast-hop-limit") extern void udp_set_unicast_hop_limit_(handle_t, int32_t, void *ret);
IMPORT(UDP, "[method]udp-socket.receive-buffer-size") extern void udp_receive_buffer_size_(handle_t, void *ret);
IMPORT(UDP, "[method]udp-socket.set-receive-buffer-size") extern void udp_set_receive_buffer_size_(handle_t, int64_t, void *ret);
IMPORT(UDP, "[resource-drop]udp-socket") extern void udp_drop(handle_t);
IMPORT(UDP, "[method]incoming-datagram-stream.receive") extern void udp_receive_(handle_t, int64_t max, void *ret);
IMPORT(UDP, "[method]incoming-datagram-stream.subscribe") extern handle_t udp_in_subscribe(handle_t);
IMPORT(UDP, "[resource-drop]incoming-datagram-stream") extern void udp_in_drop(handle_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.check-send") extern void udp_check_send_(handle_t, void *ret);
IMPORT(UDP, "[method]outgoing-datagram-stream.send") extern void udp_send_(handle_t, const void *list, size_t n, void *ret);
IMPORT(UDP, "[method]outgoing-datagram-stream.subscribe") extern handle_t udp_out_subscribe(handle_t);
IMPORT(UDP, "[resource-drop]outgoing-datagram-stream") extern void udp_out_drop(handle_t);

static int create_udp_socket(int family, handle_t *out) {
  create_udp_socket_(family, RET);
  if (r8(0)) return r8(4);
  *out = (handle_t)r32(4);
  return OK;
}

static int udp_start_bind(handle_t s, handle_t net, addr_t a) {
  int32_t F[12];
  flatten(&a, F);
  udp_start_bind_(s, net, FLAT_ADDR(F), RET);
  return res(1);
}

static int udp_finish_bind(handle_t s) { udp_finish_bind_(s, RET); return res(1); }

/** stream(remote): remote NULL for none. */
static int udp_stream(handle_t s, const addr_t *remote, handle_t *in, handle_t *out) {
  int32_t F[12];
  addr_t none = {0};
  flatten(remote ? remote : &none, F);
  udp_stream_(s, remote != NULL, FLAT_ADDR(F), RET);
  if (r8(0)) return r8(4);
  *in = (handle_t)r32(4);
  *out = (handle_t)r32(8);
  return OK;
}

static int udp_local_address(handle_t s, addr_t *a) {
  udp_local_address_(s, RET);
  if (r8(0)) return r8(4);
  *a = load_addr(RET + 4);
  return OK;
}

static int udp_remote_address(handle_t s, addr_t *a) {
  udp_remote_address_(s, RET);
  if (r8(0)) return r8(4);
  *a = load_addr(RET + 4);
  return OK;
}

static int udp_check_send(handle_t s, uint64_t *permit) { udp_check_send_(s, RET); return get_u64(permit); }

/** One outgoing-datagram in memory (44 bytes): data list at +0, option<ip-socket-address> at +8. */
typedef struct {
  uint8_t bytes[44];
} out_datagram_t;

static void set_datagram(out_datagram_t *d, const uint8_t *data, size_t n, const addr_t *to) {
  memset(d, 0, sizeof *d);
  uint32_t p = (uint32_t)(uintptr_t)data, len = (uint32_t)n;
  memcpy(d->bytes, &p, 4);
  memcpy(d->bytes + 4, &len, 4);
  if (to) {
    d->bytes[8] = 1;
    store_addr(d->bytes + 12, to);
  }
}

static int udp_send(handle_t s, const out_datagram_t *list, size_t n, uint64_t *sent) {
  udp_send_(s, list, n, RET);
  return get_u64(sent);
}

typedef struct {
  uint8_t *data;   // malloc'd by the host through cabi_realloc: free() it
  size_t len;
  addr_t from;
} in_datagram_t;

/** Up to `max` datagrams into `out`; returns OK and sets *n, or an error code. */
static int udp_receive(handle_t s, in_datagram_t *out, size_t max, size_t *n) {
  udp_receive_(s, (int64_t)max, RET);
  if (r8(0)) return r8(4);
  uint8_t *list = (uint8_t *)(uintptr_t)r32(4);
  size_t k = r32(8);
  if (k > max) die("receive returned more than asked");
  for (size_t i = 0; i < k; i++) {
    uint8_t *e = list + i * 40;
    uint32_t p, len;
    memcpy(&p, e, 4);
    memcpy(&len, e + 4, 4);
    out[i].data = (uint8_t *)(uintptr_t)p;
    out[i].len = len;
    out[i].from = load_addr(e + 8);
  }
  if (k) free(list);
  *n = k;
  return OK;
}

// ---- wasi:sockets/ip-name-lookup -------------------------------------------------------------------

#define LOOKUP "wasi:sockets/ip-name-lookup"
IMPORT(LOOKUP, "resolve-addresses") extern void resolve_addresses_(handle_t net, const char *name, size_t len, void *ret);
IMPORT(LOOKUP, "[method]resolve-address-stream.resolve-next-address") extern void resolve_next_address_(handle_t, void *ret);
IMPORT(LOOKUP, "[method]resolve-address-stream.subscribe") extern handle_t resolve_subscribe(handle_t);
IMPORT(LOOKUP, "[resource-drop]resolve-address-stream") extern void resolve_drop(handle_t);

static int resolve_addresses(handle_t net, const char *name, handle_t *stream) {
  resolve_addresses_(net, name, strlen(name), RET);
  if (r8(0)) return r8(4);
  *stream = (handle_t)r32(4);
  return OK;
}

/** OK with *has = 0 at the end, or 1 and the address (port 0); or an error code. */
static int resolve_next_address(handle_t s, int *has, addr_t *a) {
  resolve_next_address_(s, RET);
  if (r8(0)) return r8(2);
  *has = r8(2);
  if (!*has) return OK;
  memset(a, 0, sizeof *a);
  a->v6 = r8(4);
  if (!a->v6) {
    memcpy(a->v4, RET + 6, 4);
  } else {
    memcpy(a->g, RET + 6, 16);
  }
  return OK;
}

#endif
