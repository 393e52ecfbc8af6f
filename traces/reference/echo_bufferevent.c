/*
 * echo_bufferevent — the bufferevent echo server
 *
 * Reference program for the scenario echo-bufferevent (traces/SCENARIOS.md).
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.  It is written the way a typical tutorial (the walk-through post) writes
 * an echo server with a bufferevent, including the walk-through post's half-close bug.
 *
 * Usage: echo_bufferevent [--port P]     (P defaults to 5555)
 *
 * The listening socket and the accept callback are the same as echo_event.c's,
 * so the two traces start alike.  Per connection the walk-through post then makes a
 * bufferevent (bufferevent_socket_new with BEV_OPT_CLOSE_ON_FREE), sets a read
 * and an event callback, and enables EV_READ.
 *
 * What the trace should show per message: epoll_wait (EPOLLIN), ioctl FIONREAD
 * (how much to read), readv into the input evbuffer, epoll_ctl MOD adding
 * EPOLLOUT (the output evbuffer got data), epoll_wait (EPOLLOUT), writev of the
 * output evbuffer, epoll_ctl MOD removing EPOLLOUT (the output is empty).  At
 * EOF: ioctl, readv returning 0, epoll_ctl DEL (reading disabled), the message,
 * and close from bufferevent_free (BEV_OPT_CLOSE_ON_FREE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

/* Print what failed, with errno's text, and stop: this program is evidence. */
static void die(const char *what)
{
    perror(what);
    exit(1);
}

// ANCHOR: callbacks
/* Read callback: everything that arrived goes to the output buffer.
 * bufferevent_write_buffer moves the input's chains to the output (no copy);
 * the output's callback then adds EV_WRITE, and libevent writes it with
 * writev when the socket is writable. */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0) {
        fprintf(stderr, "bufferevent_write_buffer failed\n");
    }
}

/* Event callback: end of file or an error.
 * The walk-through post's bug, kept on purpose: it frees the bufferevent at once, and with
 * it the output evbuffer — whatever was still queued there is never written.
 * A client that half-closes (shutdown(SHUT_WR)) while its echo is still
 * queued loses the rest of it.  minievent's echo_bufferevent waits until the
 * output is empty before it frees.  In the lock-step session nothing is
 * queued at EOF, so both traces are the same. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        printf("closed fd %d\n", (int)bufferevent_getfd(bev));
        /* BEV_OPT_CLOSE_ON_FREE: the bufferevent closes the socket. */
        bufferevent_free(bev);
    }
}
// ANCHOR_END: callbacks

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

    /* No syscall: two events assigned (EV_READ|EV_PERSIST, EV_WRITE|EV_PERSIST)
     * and two empty evbuffers. */
    struct bufferevent *bev = bufferevent_socket_new(base, c, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        fprintf(stderr, "bufferevent_socket_new failed\n");
        exit(1);
    }
    bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
    /* event_add of the read event: epoll_ctl(3, ADD, c, EPOLLIN). */
    if (bufferevent_enable(bev, EV_READ) != 0) {
        fprintf(stderr, "bufferevent_enable failed\n");
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
            fprintf(stderr, "echo_bufferevent: bad port %s\n", argv[2]);
            exit(1);
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: echo_bufferevent [--port P]\n");
        exit(1);
    }

    /* event_base_new(): epoll_create1 = 3, pipe2 = [4, 5]. */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    /* The listening socket, set up by hand as in echo_event.c. */
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

    printf("echo_bufferevent: listening on 127.0.0.1:%d\n", port);

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

    /* event_base_dispatch(): runs until SIGTERM kills the process. */
    if (event_base_dispatch(base) == -1) {
        fprintf(stderr, "event_base_dispatch failed\n");
        exit(1);
    }

    event_free(listener);
    close(fd);
    event_base_free(base);
    return 0;
}
