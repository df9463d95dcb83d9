// Blocking echo server: one connection at a time, blocking accept() then recv()/send() until the
// peer's EOF. Usage: echo-blocking [N]: exit 0 after serving N connections (default: forever).
// Tests the host's blocking suspension (JSPI) and serves the latency benchmark.
#include <sys/socket.h>
#include "sock-common.h"

int main(int argc, char **argv) {
  long limit = arg_long(argc, argv, 1, 0);
  int lfd = first_listen_fd();
  static char buf[65536];
  say("echo-blocking: listening fd %d\n", lfd);
  for (long served = 0; limit == 0 || served < limit; served++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (c < 0) die("accept");
    unsigned long long total = 0;
    for (;;) {
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "echo-blocking: recv: %s\n", strerror(errno));
        break;
      }
      if (n == 0) break;
      if (send_all(c, buf, (size_t)n, 0) < 0) {
        fprintf(stderr, "echo-blocking: send: %s\n", strerror(errno));
        break;
      }
      total += (unsigned long long)n;
    }
    close(c);
    say("echo-blocking: connection %ld done, %llu bytes\n", served + 1, total);
  }
  say("echo-blocking: served %ld\n", limit);
  return 0;
}
