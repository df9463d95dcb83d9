// Blocking echo server like echo-blocking, but moving the bytes with read()/write() (fd_read /
// fd_write on a socket fd) instead of recv()/send(). Usage: echo-rw [N]: exit 0 after serving N
// connections (default: forever).
#include <sys/socket.h>
#include "sock-common.h"

int main(int argc, char **argv) {
  long limit = arg_long(argc, argv, 1, 0);
  int lfd = first_listen_fd();
  static char buf[65536];
  say("echo-rw: listening fd %d\n", lfd);
  for (long served = 0; limit == 0 || served < limit; served++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (c < 0) die("accept");
    unsigned long long total = 0;
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "echo-rw: read: %s\n", strerror(errno));
        break;
      }
      if (n == 0) break;
      if (send_all(c, buf, (size_t)n, 1) < 0) {
        fprintf(stderr, "echo-rw: write: %s\n", strerror(errno));
        break;
      }
      total += (unsigned long long)n;
    }
    close(c);
    say("echo-rw: connection %ld done, %llu bytes\n", served + 1, total);
  }
  say("echo-rw: served %ld\n", limit);
  return 0;
}
