// rr: a request/response test over one TCP connection, as netperf's TCP_RR (netperf is not
// packaged where this runs). The client sends a request of N bytes, waits for the whole response,
// and repeats; the server echoes each request. Both set TCP_NODELAY, so each request is one segment.
//
// Each transaction's time (clock_gettime(CLOCK_MONOTONIC) around the send and the last read) goes
// into an array allocated before the first one, so the loop itself allocates and prints nothing.
// Every loop ends by itself: the client after its count or its seconds, the server when its one
// connection closes, after its count, or when nothing arrives within its timeout. A response that
// does not arrive within RESPONSE_TIMEOUT_S is an error, not a hang.
//
//   rr server ADDRESS PORT [-s BYTES] [-n COUNT] [-l SECONDS]   prints "listening PORT" (PORT 0: any),
//     waits SECONDS at most for its client, then echoes for SECONDS at most
//   rr client ADDRESS PORT [-s BYTES] [-n COUNT] [-l SECONDS] [-r RATE]   runs for SECONDS (at
//     RATE transactions a second, each started on its own tick, or back to back without -r), then prints:
//   transactions=N seconds=S tps=T p50_us=A p99_us=B min_us=C max_us=D bytes=N
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BYTES 65536
#define MAX_COUNT 10000000L
#define DEFAULT_COUNT 1000000L
#define MAX_SECONDS 3600.0
#define MAX_RATE 1000000.0
#define RESPONSE_TIMEOUT_S 2
#define CONNECT_TIMEOUT_MS 5000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noreturn)) static void die(const char *role, const char *what) {
  fprintf(stderr, "rr %s: %s: %s\n", role, what, errno ? strerror(errno) : "failed");
  exit(1);
}

__attribute__((noreturn)) static void usage(void) {
  fprintf(stderr,
          "usage: rr server ADDRESS PORT [-s BYTES] [-n COUNT] [-l SECONDS]\n"
          "       rr client ADDRESS PORT [-s BYTES] [-n COUNT] [-l SECONDS] [-r RATE]\n"
          "BYTES 1..%d, COUNT 1..%ld, SECONDS (0, %.0f], RATE 1..%.0f transactions a second\n",
          MAX_BYTES, MAX_COUNT, MAX_SECONDS, MAX_RATE);
  exit(2);
}

/** Reads exactly len bytes; 0 when done, -1 on end of stream before the first byte, else dies. */
static int read_all(const char *role, int fd, unsigned char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n > 0) {
      got += (size_t)n;
    } else if (n == 0) {
      if (got == 0) return -1;
      errno = 0;
      die(role, "the connection closed in the middle of a message");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      errno = 0;
      die(role, "no data within the timeout");
    } else if (errno != EINTR) {
      die(role, "read");
    }
  }
  return 0;
}

static void write_all(const char *role, int fd, const unsigned char *buf, size_t len) {
  size_t put = 0;
  while (put < len) {
    ssize_t n = write(fd, buf + put, len - put);
    if (n > 0) put += (size_t)n;
    else if (n < 0 && errno != EINTR) die(role, "write");
  }
}

static void set_timeouts(const char *role, int fd, int seconds) {
  struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) die(role, "SO_RCVTIMEO");
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die(role, "TCP_NODELAY");
}

static struct sockaddr_in address(const char *ip, const char *port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  char *end;
  long p = strtol(port, &end, 10);
  if (*end != '\0' || p < 0 || p > 65535 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1) usage();
  sa.sin_port = htons((uint16_t)p);
  return sa;
}

static int server(struct sockaddr_in sa, size_t bytes, long count, double seconds) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (ls < 0) die("server", "socket");
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0) die("server", "bind");
  if (listen(ls, 1) < 0) die("server", "listen");
  socklen_t len = sizeof sa;
  if (getsockname(ls, (struct sockaddr *)&sa, &len) < 0) die("server", "getsockname");
  printf("listening %u\n", ntohs(sa.sin_port));
  fflush(stdout);
  struct pollfd pfd = {.fd = ls, .events = POLLIN};
  int ready = poll(&pfd, 1, (int)(seconds * 1000));
  if (ready == 0) {
    errno = 0;
    die("server", "no client connected within the timeout");
  }
  if (ready < 0) die("server", "poll");
  int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) die("server", "accept");
  close(ls);
  set_timeouts("server", fd, (int)seconds + 1);
  unsigned char buf[MAX_BYTES];
  long echoed = 0;
  uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
  while (echoed < count && now_ns() < deadline) {
    if (read_all("server", fd, buf, bytes) < 0) break;
    write_all("server", fd, buf, bytes);
    echoed++;
  }
  close(fd);
  fprintf(stderr, "rr server: echoed %ld\n", echoed);
  return 0;
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/** The same rank as the bench's ping percentiles: sorted[min(n - 1, floor(p / 100 * n))]. */
static double percentile_us(const uint64_t *sorted, long n, double p) {
  long i = (long)(p / 100.0 * (double)n);
  return (double)sorted[i < n ? i : n - 1] / 1000.0;
}

static int connect_within(struct sockaddr_in sa) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("client", "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("client", "connect");
  struct pollfd pfd = {.fd = fd, .events = POLLOUT};
  int ready = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
  int err = 0;
  socklen_t len = sizeof err;
  if (ready == 0) {
    errno = ETIMEDOUT;
    die("client", "connect");
  }
  if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) die("client", "connect");
  if (err != 0) {
    errno = err;
    die("client", "connect");
  }
  if (fcntl(fd, F_SETFL, 0) < 0) die("client", "fcntl");
  return fd;
}

static int client(struct sockaddr_in sa, size_t bytes, long count, double seconds, double rate) {
  uint64_t *samples = malloc((size_t)count * sizeof *samples);
  if (samples == NULL) die("client", "allocating the samples");
  // Touch every page now, so no page fault lands inside a timed transaction.
  memset(samples, 0, (size_t)count * sizeof *samples);
  unsigned char request[MAX_BYTES], response[MAX_BYTES];
  int fd = connect_within(sa);
  set_timeouts("client", fd, RESPONSE_TIMEOUT_S);
  long n = 0;
  uint64_t started = now_ns();
  uint64_t deadline = started + (uint64_t)(seconds * 1e9);
  uint64_t ended = started;
  // A paced client starts transaction n at started + n / rate, sleeping until then (never busy).
  uint64_t interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
  while (n < count && ended < deadline) {
    if (interval > 0) {
      uint64_t at = started + (uint64_t)n * interval;
      if (at >= deadline) break;
      struct timespec ts = {.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
      }
    }
    // Each request carries its own byte, so an echo of a stale or foreign message is caught.
    memset(request, (int)(n & 0xff), bytes);
    uint64_t t0 = now_ns();
    write_all("client", fd, request, bytes);
    if (read_all("client", fd, response, bytes) < 0) {
      errno = 0;
      die("client", "the server closed the connection");
    }
    ended = now_ns();
    if (memcmp(request, response, bytes) != 0) {
      errno = 0;
      die("client", "a response differs from its request");
    }
    samples[n++] = ended - t0;
  }
  shutdown(fd, SHUT_WR);
  close(fd);
  qsort(samples, (size_t)n, sizeof *samples, compare);
  double elapsed = (double)(ended - started) / 1e9;
  printf("transactions=%ld seconds=%.6f tps=%.1f p50_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f bytes=%zu\n", n, elapsed, (double)n / elapsed,
         percentile_us(samples, n, 50), percentile_us(samples, n, 99), (double)samples[0] / 1000.0, (double)samples[n - 1] / 1000.0, bytes);
  free(samples);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  const char *role = argv[1];
  struct sockaddr_in sa = address(argv[2], argv[3]);
  long bytes = 1, count = DEFAULT_COUNT;
  double seconds = 10, rate = 0;
  for (int i = 4; i < argc; i += 2) {
    if (i + 1 >= argc) usage();
    char *end;
    if (strcmp(argv[i], "-s") == 0) bytes = strtol(argv[i + 1], &end, 10);
    else if (strcmp(argv[i], "-n") == 0) count = strtol(argv[i + 1], &end, 10);
    else if (strcmp(argv[i], "-l") == 0) seconds = strtod(argv[i + 1], &end);
    else if (strcmp(argv[i], "-r") == 0 && strcmp(role, "client") == 0) rate = strtod(argv[i + 1], &end);
    else usage();
    if (*end != '\0') usage();
  }
  if (bytes < 1 || bytes > MAX_BYTES || count < 1 || count > MAX_COUNT || !(seconds > 0 && seconds <= MAX_SECONDS) || rate < 0 || rate > MAX_RATE) usage();
  if (strcmp(role, "server") == 0) return server(sa, (size_t)bytes, count, seconds);
  if (strcmp(role, "client") == 0) return client(sa, (size_t)bytes, count, seconds, rate);
  usage();
}
