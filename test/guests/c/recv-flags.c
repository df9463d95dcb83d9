// One connection exercising recv flags and half-close, in lock-step with the test's client:
//  1. client sends "hello" and waits for a line;
//  2. guest: recv(MSG_PEEK) twice, then recv(MSG_WAITALL) of 5, must all see "hello"; then a
//     recv on the socket made O_NONBLOCK must fail with EAGAIN (the client is waiting). Reply:
//     "peek=5:hello again=5:hello read=5:hello nb=6\n"  (nb = errno of the non-blocking recv)
//  3. client sends 100000 bytes in slow chunks; guest recv(MSG_WAITALL) must return all of them
//     in one call. Reply: "waitall=100000 sum=<32-bit sum of the bytes>\n"
//  4. guest shutdown(SHUT_WR): the client sees EOF but can still send; send() now fails (EPIPE).
//  5. client sends "bye" and ends; guest reads up to EOF. Guest prints on stdout:
//     "recv-flags: send-after-shutdown=-1 errno=<EPIPE> after-shutdown=bye eof"
#include <fcntl.h>
#include <sys/socket.h>
#include "sock-common.h"

#define BIG 100000

int main(void) {
  struct sockaddr_storage peer;
  socklen_t plen = sizeof peer;
  int c = accept(first_listen_fd(), (struct sockaddr *)&peer, &plen);
  if (c < 0) die("accept");
  say("recv-flags: accepted\n");

  char p1[6] = { 0 }, p2[6] = { 0 }, r[6] = { 0 };
  ssize_t n1 = recv(c, p1, 5, MSG_PEEK);
  ssize_t n2 = recv(c, p2, 5, MSG_PEEK);
  ssize_t n3 = recv(c, r, 5, MSG_WAITALL);
  if (n1 < 0 || n2 < 0 || n3 < 0) die("recv hello");

  int fl = fcntl(c, F_GETFL);
  if (fl < 0 || fcntl(c, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK");
  char x;
  ssize_t nb = recv(c, &x, 1, 0);
  int nb_errno = nb < 0 ? errno : 0;
  if (fcntl(c, F_SETFL, fl) < 0) die("fcntl restore");

  char line[128];
  int len = snprintf(line, sizeof line, "peek=%zd:%s again=%zd:%s read=%zd:%s nb=%d\n",
                     n1, p1, n2, p2, n3, r, nb < 0 ? nb_errno : 0);
  if (send_all(c, line, (size_t)len, 0) < 0) die("send line 1");

  static unsigned char big[BIG];
  ssize_t nw = recv(c, big, BIG, MSG_WAITALL);
  if (nw < 0) die("recv waitall");
  unsigned int sum = 0;
  for (ssize_t i = 0; i < nw; i++) sum += big[i];
  len = snprintf(line, sizeof line, "waitall=%zd sum=%u\n", nw, sum);
  if (send_all(c, line, (size_t)len, 0) < 0) die("send line 2");

  if (shutdown(c, SHUT_WR) < 0) die("shutdown");
  ssize_t sa = send(c, "z", 1, 0);
  int sa_errno = sa < 0 ? errno : 0;

  char rest[64] = { 0 };
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(c, rest + got, sizeof rest - 1 - got, 0);
    if (n < 0) die("recv after shutdown");
    if (n == 0) break;
    got += (size_t)n;
    if (got >= sizeof rest - 1) break;
  }
  close(c);
  say("recv-flags: send-after-shutdown=%zd errno=%d after-shutdown=%s eof\n", sa, sa_errno, rest);
  return 0;
}
