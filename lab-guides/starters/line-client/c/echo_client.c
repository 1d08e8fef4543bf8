/* line-client: the chapter's client, fixed: read stdin line by line, send each line with its
 * newline, wait for the whole echo (however the stream splits it) and print Echoed: 'LINE'.
 * A line BYE (or BYE\r) ends the session without being sent; so does the end of input (exit 0).
 * Failing to connect or losing the connection: one line on stderr, exit 1.
 *
 * Check it:  python3 -m conformance check line-client lab-guides/starters/line-client/c
 *
 * The command line and connecting are done; your part is the TODOs.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr,
          "usage: echo_client HOST [PORT]\n"
          "  e.g. echo_client ::1 2000   (HOST: a name, an IPv4 or an IPv6 address)\n");
  exit(2);
}

static int is_port(const char* text) {
  char* end;
  errno = 0;
  long n = strtol(text, &end, 10);
  return text[0] >= '0' && text[0] <= '9' && *end == '\0' && errno == 0 && n <= 65535;
}

/* A socket connected to HOST:PORT, trying each address the name has; on failure, one line
 * naming the address, and exit 1. */
static int connect_to(const char* host, const char* port) {
  char where[300];
  snprintf(where, sizeof where, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  struct addrinfo* found;
  int rc = getaddrinfo(host, port, &hints, &found);
  if (rc != 0) {
    fprintf(stderr, "echo_client: cannot connect to %s: %s\n", where, gai_strerror(rc));
    exit(1);
  }
  int fd = -1, reason = 0;
  for (struct addrinfo* a = found; a != NULL && fd < 0; a = a->ai_next) {
    if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0) {
      reason = errno;
    } else if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
      reason = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    fprintf(stderr, "echo_client: cannot connect to %s: %s\n", where, strerror(reason));
    exit(1);
  }
  return fd;
}

/* Writes all LEN bytes of BUF, looping over short counts and EINTR; 0, or -1 on an error. */
static int write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads exactly LEN bytes into BUF; 0, or -1 if the connection ends or fails first. */
static int recv_all(int fd, char* buf, size_t len) {
  /* TODO(line-client): one recv() may return any part of what is on its way: a few bytes, or
   * the rest of the echo at once. Loop until all LEN bytes are in (buf += n, len -= n), trying
   * again after EINTR. recv returning 0 means the server has closed: return -1, like an error. */
  (void)fd, (void)buf, (void)len;
  return -1;
}

/* The session: every line of stdin and its echo. Returns the exit status. */
static int talk(int sock) {
  /* TODO(line-client): read stdin line by line with getline() (it gives the length: lines are
   * bytes and may hold NUL). Stop, returning 0, at the end of input or at a line BYE or BYE\r
   * (not sent). Otherwise drop the line's "\n" if it has one, then write_all the line and a
   * "\n" (the buffer has room for it at line[len]) and recv_all its len + 1 bytes of echo
   * (into the same buffer, now sent). Print Echoed: 'ECHO' and a newline with fwrite (ECHO
   * without its "\n"). If either call fails: one line on stderr, return 1. Print the prompt
   * "Enter line:" (and fflush it) only when stdin is a terminal: isatty(STDIN_FILENO). */
  (void)sock, (void)write_all, (void)recv_all; /* placeholder: keeps the compiler quiet */
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || argv[1][0] == '-' || argv[1][0] == '\0') usage();
  if (argc == 3 && !is_port(argv[2])) usage();
  /* A server that has gone away makes write fail with EPIPE, rather than kill us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  int sock = connect_to(argv[1], argc == 3 ? argv[2] : "2000");
  int status = talk(sock);
  close(sock);
  return status;
}
