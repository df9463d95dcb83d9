// poll()-driven echo server: non-blocking accept (accept4 with SOCK_NONBLOCK on a listener set
// O_NONBLOCK through fcntl), a buffer per connection, partial writes finished on POLLOUT, many
// clients at once. Serves every listener in LISTEN_FDS_FIRST_FD .. +LISTEN_FDS-1.
// Usage: echo-poll [N]: exit 0 once N connections were accepted and all of them closed (default:
// forever). On exit prints "echo-poll: served N connections, B bytes, max concurrent M, polls P,
// events E" (E/P: how many ready fds one poll() returned on average).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include "sock-common.h"

#define MAX_LISTENERS 16
#define MAX_CONNS 1024
#define BUF_SIZE 65536

struct conn {
  int fd;
  int eof;
  size_t off, len; // pending bytes are buf[off..len)
  char *buf;
};

static struct conn conns[MAX_CONNS];
static int nconns;
static struct pollfd pfds[MAX_LISTENERS + MAX_CONNS];

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) die("fcntl(F_GETFL)");
  if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl(F_SETFL, O_NONBLOCK)");
}

static int would_block(void) { return errno == EAGAIN || errno == EWOULDBLOCK; }

int main(int argc, char **argv) {
  long limit = arg_long(argc, argv, 1, 0);
  int first = first_listen_fd(), nl = listen_fd_count();
  if (nl < 1 || nl > MAX_LISTENERS) {
    fprintf(stderr, "echo-poll: bad LISTEN_FDS %d\n", nl);
    return 2;
  }
  for (int j = 0; j < nl; j++) set_nonblock(first + j);
  say("echo-poll: %d listener(s) from fd %d\n", nl, first);

  long accepted = 0, closed = 0;
  int max_concurrent = 0, accept_blocked = 0;
  unsigned long long bytes = 0, polls = 0, events = 0;

  while (!(limit && closed >= limit)) {
    int np = 0;
    int accepting = (!limit || accepted < limit) && nconns < MAX_CONNS && !accept_blocked;
    if (accepting)
      for (int j = 0; j < nl; j++) pfds[np++] = (struct pollfd){ .fd = first + j, .events = POLLIN };
    int base = np, polled = nconns;
    for (int i = 0; i < nconns; i++) {
      struct conn *c = &conns[i];
      short ev = 0;
      if (!c->eof && c->len < BUF_SIZE) ev |= POLLIN;
      if (c->len > c->off) ev |= POLLOUT;
      pfds[np++] = (struct pollfd){ .fd = c->fd, .events = ev };
    }
    if (np == 0) {
      fprintf(stderr, "echo-poll: nothing to poll\n");
      return 1;
    }
    int r = poll(pfds, (nfds_t)np, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    polls++;
    events += (unsigned long long)r;

    // Connections first (their pollfds map 1:1 onto conns[0..polled)); closed ones get fd -1.
    for (int i = 0; i < polled; i++) {
      struct conn *c = &conns[i];
      short re = pfds[base + i].revents;
      int broken = 0;
      if ((re & (POLLIN | POLLHUP | POLLERR)) && !c->eof && c->len < BUF_SIZE) {
        ssize_t n = recv(c->fd, c->buf + c->len, BUF_SIZE - c->len, 0);
        if (n > 0) c->len += (size_t)n, bytes += (unsigned long long)n;
        else if (n == 0) c->eof = 1;
        else if (!would_block() && errno != EINTR) broken = 1;
      }
      // Write optimistically right after reading: one poll per round trip.
      if (!broken && c->len > c->off) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, 0);
        if (n > 0) c->off += (size_t)n;
        else if (n < 0 && !would_block() && errno != EINTR) broken = 1;
      }
      if (c->off == c->len) c->off = c->len = 0;
      else if (c->off > BUF_SIZE / 2) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
      }
      if (broken || (c->eof && c->len == 0)) {
        if (broken) fprintf(stderr, "echo-poll: fd %d: %s\n", c->fd, strerror(errno));
        close(c->fd);
        free(c->buf);
        c->fd = -1;
        closed++;
        accept_blocked = 0;
      }
    }
    int k = 0;
    for (int i = 0; i < nconns; i++)
      if (conns[i].fd >= 0) conns[k++] = conns[i];
    nconns = k;

    if (accepting) {
      for (int j = 0; j < nl; j++) {
        if (!(pfds[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        while (nconns < MAX_CONNS && (!limit || accepted < limit)) {
          struct sockaddr_storage peer;
          socklen_t plen = sizeof peer;
          int fd = accept4(first + j, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
          if (fd < 0) {
            if (would_block() || errno == EINTR) break;
            if (errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS) {
              accept_blocked = nconns > 0; // retry once a connection closes
              fprintf(stderr, "echo-poll: accept: %s\n", strerror(errno));
              break;
            }
            die("accept4");
          }
          char *buf = malloc(BUF_SIZE);
          if (!buf) die("malloc");
          conns[nconns++] = (struct conn){ .fd = fd, .buf = buf };
          accepted++;
          if (nconns > max_concurrent) max_concurrent = nconns;
        }
      }
    }
  }
  say("echo-poll: served %ld connections, %llu bytes, max concurrent %d, polls %llu, events %llu\n",
      closed, bytes, max_concurrent, polls, events);
  return 0;
}
