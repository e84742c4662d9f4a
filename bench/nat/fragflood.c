// fragflood: a flood of orphan IPv4 fragments, for measuring what the NAT's fragment queue costs
// under one. Every frame is a later fragment (offset > 0, more fragments to follow) of a UDP
// datagram whose first fragment never comes: a random IP ID and offset each, from one of SOURCES
// addresses counted up from SRC, so a NAT holds each one until its queue or the source's share is
// full and then drops them. With -x (the control) every fragment ends beyond 65535 bytes instead,
// which a NAT refuses before it looks for the datagram or holds anything (fragment_oversize).
//
// Frames go out of an AF_PACKET datagram socket to DSTMAC (the gateway), so the sending namespace's
// IP stack never sees them. They are paced at RATE a second in small batches (sendmmsg), each batch
// sleeping until its time (clock_nanosleep), so the flood costs its sender little CPU. The run ends
// by itself after SECONDS or COUNT frames, or early on SIGTERM or SIGINT, and then prints:
//   sent=N failed=F seconds=S
//
//   fragflood -i IFNAME -m DSTMAC -s SRC [-n SOURCES] -d DST -r RATE -l SECONDS -c COUNT [-p CPU] [-x]
//   prints "sending" once the socket is open.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IP_HEADER_BYTES 20
/** A multiple of 8, as every fragment but the last must carry. */
#define PAYLOAD_BYTES 32
#define PACKET_BYTES (IP_HEADER_BYTES + PAYLOAD_BYTES)
#define IP_MF 0x2000
/** Offsets in 8-byte units, 1..MAX_OFFSET: never a first fragment, and always within 65535 bytes. */
#define MAX_OFFSET 8000
/** -x: offsets from OVERSIZE_OFFSET up to the field's largest, where 32 bytes end past 65535. */
#define OVERSIZE_OFFSET 8188
#define LARGEST_OFFSET 8191
#define MAX_BATCH 64
#define MAX_RATE 1000000.0
#define MAX_SECONDS 60.0
#define MAX_COUNT 10000000L
#define MAX_SOURCES 256
/** Batches a second when paced: each is one wake-up and one sendmmsg. */
#define WAKES_PER_SECOND 1000

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void usage(void) {
  fprintf(stderr, "usage: fragflood -i IFNAME -m DSTMAC -s SRC [-n SOURCES] -d DST -r RATE -l SECONDS -c COUNT [-p CPU] [-x]\n");
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stopping) {
  }
}

/** xorshift32: the IDs and offsets need to differ, not to be unpredictable. */
static uint32_t next_random(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static uint16_t ip_checksum(const uint8_t *header) {
  uint32_t sum = 0;
  for (int i = 0; i < IP_HEADER_BYTES; i += 2) sum += (uint32_t)(header[i] << 8 | header[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/** Writes a fresh orphan fragment into packet: the fixed fields were set once, the ID, offset and source change. */
static void forge(uint8_t *packet, uint32_t *state, uint32_t src, uint32_t sources, int oversize) {
  uint32_t r = next_random(state);
  uint16_t id = (uint16_t)r;
  uint16_t offset = (uint16_t)(oversize ? OVERSIZE_OFFSET + (r >> 16) % (LARGEST_OFFSET - OVERSIZE_OFFSET + 1) : 1 + (r >> 16) % MAX_OFFSET);
  uint32_t from = htonl(src + next_random(state) % sources);
  uint16_t frag = htons(IP_MF | offset);
  uint16_t id_be = htons(id);
  memcpy(packet + 4, &id_be, 2);
  memcpy(packet + 6, &frag, 2);
  memcpy(packet + 12, &from, 4);
  packet[10] = packet[11] = 0;
  uint16_t sum = htons(ip_checksum(packet));
  memcpy(packet + 10, &sum, 2);
}

static double number(const char *text, double min, double max, const char *what) {
  char *end;
  double v = strtod(text, &end);
  if (*text == '\0' || *end != '\0' || !(v >= min && v <= max)) {
    fprintf(stderr, "fragflood: %s must be a number in [%g, %g], not \"%s\"\n", what, min, max, text);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *ifname = NULL, *mac = NULL, *src_text = NULL, *dst_text = NULL;
  double rate = 0, seconds = 0;
  long count = 0, sources = 1, cpu = -1;
  int oversize = 0, opt;
  while ((opt = getopt(argc, argv, "i:m:s:n:d:r:l:c:p:x")) != -1) {
    switch (opt) {
      case 'i': ifname = optarg; break;
      case 'm': mac = optarg; break;
      case 's': src_text = optarg; break;
      case 'n': sources = (long)number(optarg, 1, MAX_SOURCES, "-n SOURCES"); break;
      case 'd': dst_text = optarg; break;
      case 'r': rate = number(optarg, 1, MAX_RATE, "-r RATE"); break;
      case 'l': seconds = number(optarg, 0.001, MAX_SECONDS, "-l SECONDS"); break;
      case 'c': count = (long)number(optarg, 1, MAX_COUNT, "-c COUNT"); break;
      case 'p': cpu = (long)number(optarg, 0, 1023, "-p CPU"); break;
      case 'x': oversize = 1; break;
      default: usage();
    }
  }
  if (!ifname || !mac || !src_text || !dst_text || rate == 0 || seconds == 0 || count == 0) usage();

  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6};
  to.sll_ifindex = (int)if_nametoindex(ifname);
  if (to.sll_ifindex == 0) {
    fprintf(stderr, "fragflood: no interface %s here\n", ifname);
    return 1;
  }
  if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &to.sll_addr[0], &to.sll_addr[1], &to.sll_addr[2], &to.sll_addr[3], &to.sll_addr[4], &to.sll_addr[5]) != 6) {
    fprintf(stderr, "fragflood: -m wants a MAC address (aa:bb:cc:dd:ee:ff), not \"%s\"\n", mac);
    return 2;
  }
  struct in_addr src, dst;
  if (inet_pton(AF_INET, src_text, &src) != 1 || inet_pton(AF_INET, dst_text, &dst) != 1) {
    fprintf(stderr, "fragflood: -s and -d want IPv4 addresses\n");
    return 2;
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("fragflood: sched_setaffinity");
  }
  int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  if (fd < 0) {
    perror("fragflood: socket(AF_PACKET)");
    return 1;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  static uint8_t packets[MAX_BATCH][PACKET_BYTES];
  struct iovec iov[MAX_BATCH];
  struct mmsghdr msgs[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < MAX_BATCH; i++) {
    uint8_t *p = packets[i];
    p[0] = 0x45;
    p[2] = PACKET_BYTES >> 8;
    p[3] = PACKET_BYTES & 0xff;
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    memcpy(p + 16, &dst, 4);
    iov[i] = (struct iovec){.iov_base = p, .iov_len = PACKET_BYTES};
    msgs[i].msg_hdr = (struct msghdr){.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1};
  }
  long batch = (long)(rate / WAKES_PER_SECOND);
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  uint32_t state = (uint32_t)now_ns() | 1;
  uint32_t first_source = ntohl(src.s_addr);

  printf("sending\n");
  fflush(stdout);
  uint64_t started = now_ns();
  uint64_t deadline = started + (uint64_t)(seconds * 1e9);
  long sent = 0, failed = 0;
  while (!stopping && sent < count) {
    uint64_t due = started + (uint64_t)((double)sent / rate * 1e9);
    if (due >= deadline) break;
    sleep_until(due);
    if (stopping) break;
    long n = batch < count - sent ? batch : count - sent;
    for (long i = 0; i < n; i++) forge(packets[i], &state, first_source, (uint32_t)sources, oversize);
    int done = sendmmsg(fd, msgs, (unsigned)n, 0);
    // A full queue (ENOBUFS) loses the rest of the batch; pacing goes on as if they were sent.
    if (done < n) failed += n - (done < 0 ? 0 : done);
    sent += n;
  }
  double elapsed = (double)(now_ns() - started) / 1e9;
  close(fd);
  printf("sent=%ld failed=%ld seconds=%.3f\n", sent - failed, failed, elapsed);
  return 0;
}
