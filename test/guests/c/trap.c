// Traps on purpose. Usage: trap [accept]: with "accept", first accepts one connection on the
// listener and reads a line from it, so the trap happens with a client connected.
#include <sys/socket.h>
#include "sock-common.h"

__attribute__((noinline)) static void crash_here(volatile int *p) {
  if (*p == 42) __builtin_trap();
}

int main(int argc, char **argv) {
  say("trap: starting\n");
  if (argc > 1 && strcmp(argv[1], "accept") == 0) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(first_listen_fd(), (struct sockaddr *)&peer, &plen);
    if (c < 0) die("accept");
    char buf[64];
    ssize_t n = recv(c, buf, sizeof buf, 0);
    say("trap: got %zd bytes\n", n);
  }
  volatile int v = 42;
  crash_here(&v);
  say("trap: not reached\n");
  return 0;
}
