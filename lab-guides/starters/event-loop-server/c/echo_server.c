/* event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded buffers
 * and backpressure.
 *
 * Check it:  python3 -m conformance check event-loop-server lab-guides/starters/event-loop-server/c
 *
 * The loop is poll(), not epoll: one portable POSIX call whose whole state is the array you hand
 * it, so you can see all it waits for (epoll scales further but keeps that state in the kernel).
 * Given: the command line, the listener, accepting, the table of connections and the loop itself.
 * Yours: the TODOs, which decide what each connection waits for and what it does when ready.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr,
          "usage: echo_server [--host HOST] [--port PORT]\n"
          "  e.g. echo_server --host :: --port 2000   (:: serves IPv4 and IPv6 clients)\n");
  exit(2);
}

/* SIGTERM or Ctrl-C: exit 0 at once. _exit is safe in a signal handler; exit is not. */
static void on_signal(int sig) {
  (void)sig;
  _exit(0);
}

static int is_port(const char* text) {
  char* end;
  errno = 0;
  long n = strtol(text, &end, 10);
  return text[0] >= '0' && text[0] <= '9' && *end == '\0' && errno == 0 && n <= 65535;
}

/* host:port, with an IPv6 host in brackets: [::1]:2000 */
static void address(char* out, size_t size, const char* host, const char* port) {
  snprintf(out, size, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
}

/* A socket listening on HOST:PORT; on failure, one line naming the address, and exit 1. */
static int listen_on(const char* host, const char* port) {
  char where[300];
  address(where, sizeof where, host, port);
  struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM};
  struct addrinfo* found;
  int rc = getaddrinfo(host, port, &hints, &found);
  if (rc != 0) {
    fprintf(stderr, "echo_server: cannot listen on %s: %s\n", where, gai_strerror(rc));
    exit(1);
  }
  int fd = -1, reason = 0, on = 1, off = 0;
  for (struct addrinfo* a = found; a != NULL && fd < 0; a = a->ai_next) {
    if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0) {
      reason = errno;
      continue;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    /* Dual stack: an IPv6 socket on :: takes IPv4 clients too, as ::ffff:a.b.c.d. */
    if (a->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
      reason = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    fprintf(stderr, "echo_server: cannot listen on %s: %s\n", where, strerror(reason));
    exit(1);
  }
  return fd;
}

/* "listening on [::]:40213", with the port really bound (--port 0 lets the system pick one). */
static void say_ready(int listener) {
  struct sockaddr_storage bound;
  socklen_t size = sizeof bound;
  char host[80], port[8], where[96];
  getsockname(listener, (struct sockaddr*)&bound, &size);
  getnameinfo((struct sockaddr*)&bound, size, host, sizeof host, port, sizeof port,
              NI_NUMERICHOST | NI_NUMERICSERV);
  address(where, sizeof where, host, port);
  printf("listening on %s\n", where);
  fflush(stdout);
}

#define MAX_CONNS 4096 /* past the usual limit of 1024 descriptors: that one comes first */
#define BUF_SIZE 16384 /* per connection: what bounds the server's memory */

struct conn {
  int fd;
  char buf[BUF_SIZE];
  size_t start, end; /* buf[start..end) has arrived and is not yet echoed */
  int client_done;   /* the client has half-closed: nothing more will arrive */
};

static struct conn conns[MAX_CONNS];
static int nconns;

static void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Accepts every client waiting; returns 1 when out of descriptors (stop accepting for a while). */
static int accept_clients(int listener) {
  while (nconns < MAX_CONNS) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) return errno == EMFILE || errno == ENFILE;
    set_nonblocking(fd);
    conns[nconns++] = (struct conn){.fd = fd};
  }
  return 0;
}

/* What poll() should wait for on this connection. */
static short events_for(const struct conn* c) {
  /* TODO(event-loop-server): ask only for what c can use now. POLLIN while its buffer has room
   * (end < BUF_SIZE) and the client has not half-closed: a full buffer means stop reading, so
   * the client's bytes back up in the kernel and its sends block. That is the backpressure.
   * POLLOUT while the buffer holds bytes not yet echoed (start < end). */
  (void)c;
  return POLLIN;
}

/* c is ready as revents says; returns 1 to keep it, 0 when it is finished (the loop closes it). */
static int on_ready(struct conn* c, short revents) {
  if (revents & POLLERR) return 0; /* reset: nothing can be sent or received any more */
  /* TODO(event-loop-server): on POLLIN, recv() into buf[end..BUF_SIZE): more bytes (end += n),
   * 0 (the client half-closed: set client_done), or -1: EAGAIN means nothing after all, any
   * other error finishes the connection. On POLLOUT, send() buf[start..end) with MSG_NOSIGNAL:
   * it may take only part (start += n; once start == end both go back to 0). When the client
   * has half-closed and everything is echoed, shutdown(fd, SHUT_WR) sends the FIN: finished.
   * Until then, the line below ends every connection at its first byte. */
  (void)c;
  return 0;
}

int main(int argc, char** argv) {
  const char *host = "::", *port = "2000";
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 == argc) usage();
    if (strcmp(argv[i], "--host") == 0 && argv[i + 1][0] != '\0')
      host = argv[i + 1];
    else if (strcmp(argv[i], "--port") == 0 && is_port(argv[i + 1]))
      port = argv[i + 1];
    else
      usage();
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int listener = listen_on(host, port);
  set_nonblocking(listener);
  say_ready(listener);
  static struct pollfd fds[1 + MAX_CONNS];
  int paused = 0; /* out of descriptors: the listener waits 100 ms, so the loop does not spin */
  for (;;) {
    fds[0] = (struct pollfd){.fd = listener, .events = paused || nconns == MAX_CONNS ? 0 : POLLIN};
    for (int i = 0; i < nconns; i++)
      fds[1 + i] = (struct pollfd){.fd = conns[i].fd, .events = events_for(&conns[i])};
    if (poll(fds, 1 + nconns, paused ? 100 : -1) < 0 && errno != EINTR) {
      perror("echo_server: poll");
      return 1;
    }
    paused = 0;
    /* Backwards, because closing moves the last connection into the closed one's slot. */
    for (int i = nconns - 1; i >= 0; i--) {
      if (fds[1 + i].revents != 0 && !on_ready(&conns[i], fds[1 + i].revents)) {
        close(conns[i].fd);
        conns[i] = conns[--nconns];
      }
    }
    if (fds[0].revents & POLLIN) paused = accept_clients(listener);
  }
}
