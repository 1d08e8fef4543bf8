/* multi-server: many clients at once: a thread per connection.
 *
 * Check it:  python3 -m conformance check multi-server lab-guides/starters/multi-server/c
 *
 * This is the careful-server solution; the TODOs are what keeps it to one client at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
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

/* Sends all LEN bytes of BUF; returns 0, or -1 once the connection is gone. */
static int send_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL); /* a reset client: EPIPE, not SIGPIPE */
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Echoes everything the client sends until it closes its side. */
static void serve(int client) {
  char buf[4096];
  ssize_t n;
  for (;;) {
    n = recv(client, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue; /* interrupted before any byte came: nothing lost */
    if (n <= 0 || send_all(client, buf, (size_t)n) < 0) return; /* closed, reset or gone */
  }
}

/* One session, in a thread of its own. */
static void* session(void* arg) {
  int client = (int)(intptr_t)arg;
  serve(client);
  close(client);
  return NULL;
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
  say_ready(listener);
  for (;;) {
    int client = accept(listener, NULL, NULL);
    if (client < 0) {
      /* Out of descriptors: wait for some to be freed rather than spin. Others: try again. */
      if (errno == EMFILE || errno == ENFILE) nanosleep(&(struct timespec){0, 100000000}, NULL);
      continue;
    }
    pthread_t thread;
    /* By value: a pointer to `client` would see the next accept overwrite it. */
    int error = pthread_create(&thread, NULL, session, (void*)(intptr_t)client);
    if (error != 0) {
      fprintf(stderr, "echo_server: cannot start a thread: %s\n", strerror(error));
      close(client);
      continue;
    }
    pthread_detach(thread);
  }
}
