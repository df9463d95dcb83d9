// A TCP echo server for WASI preview 1. It cannot open sockets itself: it serves on the listening
// socket the host preopened (wasinet run --listen ADDR), found at fd LISTEN_FDS_FIRST_FD (default 3).
// argv[1]: how many connections to serve before exiting (default: forever).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *first = getenv("LISTEN_FDS_FIRST_FD");
  int listener = first ? atoi(first) : 3;
  long remaining = argc > 1 ? atol(argv[1]) : -1;
  while (remaining != 0) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int conn = accept(listener, (struct sockaddr *)&peer, &len);
    if (conn < 0) { perror("accept"); return 1; }
    char buf[4096];
    ssize_t n;
    size_t total = 0;
    while ((n = recv(conn, buf, sizeof buf, 0)) > 0) {
      for (ssize_t off = 0; off < n;) {
        ssize_t w = send(conn, buf + off, n - off, 0);
        if (w < 0) { perror("send"); return 1; }
        off += w;
      }
      total += n;
    }
    printf("echo: connection closed after %zu bytes\n", total);
    fflush(stdout);
    close(conn);
    if (remaining > 0) remaining--;
  }
  return 0;
}
