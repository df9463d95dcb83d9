// Shared helpers for the socket test guests (wasm32-wasip1, wasi-libc). p1 guests cannot create
// sockets: they serve on listeners the host preopened (`wasinet run --listen ADDR`), announced to the
// guest through LISTEN_FDS (count) and LISTEN_FDS_FIRST_FD (first fd).
#ifndef SOCK_COMMON_H
#define SOCK_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if (*end || n < 0 || n > 1 << 20) return dflt;
  return (int)n;
}

/** First preopened listener fd (LISTEN_FDS_FIRST_FD, default 3). */
static int first_listen_fd(void) { return env_int("LISTEN_FDS_FIRST_FD", 3); }

/** Number of preopened listeners (LISTEN_FDS, default 1). */
static int listen_fd_count(void) { return env_int("LISTEN_FDS", 1); }

/** argv[i] as a non-negative int, or dflt when absent. */
static long arg_long(int argc, char **argv, int i, long dflt) {
  if (i >= argc) return dflt;
  char *end;
  long n = strtol(argv[i], &end, 10);
  if (*end || n < 0) {
    fprintf(stderr, "%s: bad number '%s'\n", argv[0], argv[i]);
    exit(2);
  }
  return n;
}

static void die(const char *what) {
  fprintf(stderr, "guest: %s: %s (errno %d)\n", what, strerror(errno), errno);
  exit(1);
}

/** Sends all of buf on a blocking socket; returns 0, or -1 with errno set. */
static int send_all(int fd, const void *buf, size_t len, int use_write) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = use_write ? write(fd, p, len) : send(fd, p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/** Prints a line on stdout and flushes it, so tests can wait for it. */
#define say(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)

#endif
