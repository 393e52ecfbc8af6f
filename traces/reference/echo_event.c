/*
 * echo_event — the raw-event echo server
 *
 * Reference program for the scenario echo-event (traces/SCENARIOS.md).
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.  It is written the way a typical tutorial (the walk-through post) writes
 * an echo server with raw events, including the walk-through post's short-write bug.
 *
 * Usage: echo_event [--port P]     (P defaults to 5555)
 *
 * What the trace should show, from the banner on: epoll_ctl ADD of the
 * listening socket, epoll_wait, accept, fcntl F_GETFL/F_SETFL, the banner of
 * the connection, ADD of the connection, then per message one epoll_wait,
 * one read and one write; at EOF a read returning 0, DEL, close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

/* Print what failed, with errno's text, and stop: this program is evidence. */
static void die(const char *what)
{
    perror(what);
    exit(1);
}

// ANCHOR: on_read
/* The connection's EV_READ|EV_PERSIST callback; arg is the event itself
 * (event_self_cbarg), so it can free itself. */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct event *ev = arg;
    char buf[4096];

    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        /* Echo the bytes back with a single write().
         * The walk-through post's bug, kept on purpose: write() on a non-blocking socket
         * may take only part of buf (a short write) when the send buffer is
         * full; the tail is silently dropped here.  minievent's echo_event
         * keeps it and waits for EV_WRITE instead.  In the lock-step session
         * no write is short, so both traces are the same. */
        ssize_t m = write(fd, buf, (size_t)n);
        if (m == -1 && errno != EAGAIN) {
            perror("write");
        }
        return;
    }
    if (n == -1 && errno == EAGAIN)
        return; /* nothing to read after all: wait for the next EV_READ */

    /* n == 0 (the peer shut down its side) or a hard error: event_free
     * deletes the event (epoll_ctl DEL), then the fd is closed. */
    printf("closed fd %d\n", (int)fd);
    event_free(ev);
    close(fd);
}
// ANCHOR_END: on_read

/* The listener's EV_READ|EV_PERSIST callback: one accept per readiness. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct event_base *base = arg;
    struct sockaddr_storage addr; /* room for any address family, as libevent's samples do */
    socklen_t len = sizeof addr;

    int c = accept(fd, (struct sockaddr *)&addr, &len);
    if (c == -1) {
        if (errno == EAGAIN)
            return; /* the connection went away before we got to it */
        die("accept");
    }
    /* evutil_make_socket_nonblocking(): fcntl F_GETFL, then F_SETFL. */
    if (evutil_make_socket_nonblocking(c) == -1) {
        fprintf(stderr, "evutil_make_socket_nonblocking failed\n");
        exit(1);
    }
    printf("accepted fd %d\n", c);

    /* event_new + event_add: epoll_ctl(3, ADD, c, EPOLLIN). */
    struct event *ev = event_new(base, c, EV_READ | EV_PERSIST, on_read, event_self_cbarg());
    if (ev == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }
    if (event_add(ev, NULL) != 0) {
        fprintf(stderr, "event_add failed\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int port = 5555;
    if (argc == 3 && strcmp(argv[1], "--port") == 0) {
        port = atoi(argv[2]);
        if (port <= 0 || port > 65535) {
            fprintf(stderr, "echo_event: bad port %s\n", argv[2]);
            exit(1);
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: echo_event [--port P]\n");
        exit(1);
    }

    /* event_base_new(): epoll_create1 = 3, pipe2 = [4, 5]. */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    /* The listening socket, set up by hand as the walk-through post does. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1)
        die("socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        die("setsockopt");
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
        die("bind");
    if (listen(fd, 16) == -1)
        die("listen");
    if (evutil_make_socket_nonblocking(fd) == -1) { /* fcntl F_GETFL, F_SETFL */
        fprintf(stderr, "evutil_make_socket_nonblocking failed\n");
        exit(1);
    }

    printf("echo_event: listening on 127.0.0.1:%d\n", port);

    /* The listener: EV_READ|EV_PERSIST, epoll_ctl(3, ADD, fd, EPOLLIN). */
    struct event *listener = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, base);
    if (listener == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }
    if (event_add(listener, NULL) != 0) {
        fprintf(stderr, "event_add failed\n");
        exit(1);
    }

    /* event_base_dispatch(): runs until SIGTERM kills the process (the
     * listener is persistent, so it never runs out of events). */
    if (event_base_dispatch(base) == -1) {
        fprintf(stderr, "event_base_dispatch failed\n");
        exit(1);
    }

    event_free(listener);
    close(fd);
    event_base_free(base);
    return 0;
}
