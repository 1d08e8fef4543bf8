/* raw-client: --raw: copy stdin to the socket and the socket to stdout at the same time,
 * half-close at the end of stdin, exit 0 when the server has closed.
 *
 * Check it:  python3 -m conformance check raw-client lab-guides/starters/raw-client/c
 *
 * This is the line-client solution with --raw parsed; the TODOs are the copy itself.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr,
          "usage: echo_client [--raw] HOST [PORT]\n"
          "  e.g. echo_client ::1 2000   (HOST: a name, an IPv4 or an IPv6 address)\n"
          "  --raw: copy stdin to the server and its echo to stdout, bytes not lines\n");
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
  while (len > 0) {
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The session: every line of stdin and its echo. Returns the exit status. */
static int talk(int sock) {
  int prompt = isatty(STDIN_FILENO);
  char* line = NULL;
  size_t size = 0;
  ssize_t len;
  int status = 0;
  for (;;) {
    if (prompt) {
      fputs("Enter line:", stdout);
      fflush(stdout);
    }
    if ((len = getline(&line, &size, stdin)) < 0) break;
    if (line[len - 1] == '\n') len--;
    if ((len == 3 || (len == 4 && line[3] == '\r')) && memcmp(line, "BYE", 3) == 0) break;
    line[len] = '\n'; /* there is room: the '\n' or getline's NUL was there */
    if (write_all(sock, line, (size_t)len + 1) < 0 || recv_all(sock, line, (size_t)len + 1) < 0) {
      fprintf(stderr, "echo_client: lost the connection before the whole echo came back\n");
      status = 1;
      break;
    }
    fputs("Echoed: '", stdout);
    fwrite(line, 1, (size_t)len, stdout);
    fputs("'\n", stdout);
  }
  free(line);
  return status;
}

/* The reader thread: the socket (ARG points to it) to stdout, until the server closes. */
static void* socket_to_stdout(void* arg) {
  int sock = *(int*)arg;
  char buf[65536];
  ssize_t n;
  while ((n = recv(sock, buf, sizeof buf, 0)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
      perror("echo_client: copying the echo");
      return (void*)1;
    }
  }
  return NULL;
}

/* --raw: stdin to the socket and the socket to stdout, both at once. Returns the exit status. */
static int copy_raw(int sock) {
  pthread_t reader;
  int error = pthread_create(&reader, NULL, socket_to_stdout, &sock);
  if (error != 0) {
    fprintf(stderr, "echo_client: cannot start a thread: %s\n", strerror(error));
    return 1;
  }
  char buf[65536];
  int status = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (n < 0 || write_all(sock, buf, (size_t)n) < 0) {
      perror("echo_client: copying stdin");
      status = 1;
      break;
    }
  }
  shutdown(sock, SHUT_WR); /* the half-close: the server closes once the echo is out */
  void* failed;
  pthread_join(reader, &failed);
  return failed != NULL ? 1 : status;
}

int main(int argc, char** argv) {
  int raw = argc > 1 && strcmp(argv[1], "--raw") == 0;
  char** args = argv + 1 + raw;
  int nargs = argc - 1 - raw;
  if (nargs < 1 || nargs > 2 || args[0][0] == '-' || args[0][0] == '\0') usage();
  if (nargs == 2 && !is_port(args[1])) usage();
  /* A server that has gone away makes write fail with EPIPE, rather than kill us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  int sock = connect_to(args[0], nargs == 2 ? args[1] : "2000");
  int status = raw ? copy_raw(sock) : talk(sock);
  close(sock);
  return status;
}
