/*
 * echo_listener — the echo server written the way libevent's own samples
 * write one (sample/hello-world.c, sample/le-proxy.c): an evconnlistener
 * accepts, a bufferevent per connection echoes.
 *
 * Reference program for the scenario echo-listener (traces/SCENARIOS.md).
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 *
 * Usage: echo_listener [--port P]     (P defaults to 5555)
 *
 * evconnlistener_new_bind makes the listening socket itself: socket with
 * SOCK_NONBLOCK (one call, no fcntl), setsockopt SO_KEEPALIVE, SO_REUSEADDR
 * for LEV_OPT_REUSEABLE, bind, listen(fd, 128) for a backlog of -1.  It is made
 * LEV_OPT_DISABLED and enabled after the banner, so that the trace (which
 * starts at the banner) shows the epoll_ctl ADD, as the other echo traces do.
 *
 * What the trace should show: epoll_wait (EPOLLIN on the listener), then
 * listener_read_cb's loop: accept4(..., SOCK_NONBLOCK) = 7 (no fcntl: the new
 * socket is non-blocking from the start), our callback ("accepted fd 7",
 * epoll_ctl ADD of the bufferevent's read event), accept4 again = -1 EAGAIN,
 * which ends the loop.  Each message then goes as in echo-bufferevent.  At EOF
 * with nothing queued the bufferevent is freed (close); with bytes still
 * queued (a half-closed client) it is freed only once they are written.
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
#include <event2/listener.h>

/* Read callback: everything that arrived goes to the output buffer. */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (bufferevent_write_buffer(bev, bufferevent_get_input(bev)) != 0) {
        fprintf(stderr, "bufferevent_write_buffer failed\n");
    }
}

/* Write callback, set only after end of file: the output is empty now,
 * so the bufferevent can go (le-proxy.c's close_on_finished_writecb). */
static void on_flushed(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        printf("closed fd %d\n", (int)bufferevent_getfd(bev));
        bufferevent_free(bev);
    }
}

/* Event callback: end of file or an error.  At end of file with bytes still
 * queued, stop reading and free once they are written. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_ERROR) {
        perror("echo_listener: bufferevent");
    } else if (!(what & BEV_EVENT_EOF)) {
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_WRITING) &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        bufferevent_setcb(bev, NULL, on_flushed, NULL, NULL);
        bufferevent_disable(bev, EV_READ);
        return;
    }
    printf("closed fd %d\n", (int)bufferevent_getfd(bev));
    bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket */
}

/* The listener's callback, called by listener_read_cb once per accept4 that
 * returned a connection (already non-blocking). */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int socklen, void *arg)
{
    (void)addr;
    (void)socklen;
    (void)arg;
    struct event_base *base = evconnlistener_get_base(listener);
    printf("accepted fd %d\n", (int)fd);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        fprintf(stderr, "bufferevent_socket_new failed\n");
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
    if (bufferevent_enable(bev, EV_READ) != 0) {
        fprintf(stderr, "bufferevent_enable failed\n");
        bufferevent_free(bev);
    }
}

/* accept4 failed with something else than EAGAIN, EINTR or ECONNABORTED
 * (EMFILE: no fd left).  Like hello-world.c's users, this server only says
 * so; the listener stays enabled (see traces/DIVERGENCES.md). */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    (void)arg;
    perror("echo_listener: accept");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int port = 5555;
    if (argc == 3 && strcmp(argv[1], "--port") == 0) {
        port = atoi(argv[2]);
        if (port <= 0 || port > 65535) {
            fprintf(stderr, "echo_listener: bad port %s\n", argv[2]);
            exit(1);
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: echo_listener [--port P]\n");
        exit(1);
    }

    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct evconnlistener *listener = evconnlistener_new_bind(
        base, on_accept, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED, -1,
        (struct sockaddr *)&sin, sizeof sin);
    if (listener == NULL) {
        perror("echo_listener: evconnlistener_new_bind");
        exit(1);
    }
    evconnlistener_set_error_cb(listener, on_accept_error);

    printf("echo_listener: listening on 127.0.0.1:%d\n", port);

    /* event_add of the listener's EV_READ|EV_PERSIST event: epoll_ctl ADD. */
    if (evconnlistener_enable(listener) != 0) {
        fprintf(stderr, "evconnlistener_enable failed\n");
        exit(1);
    }

    if (event_base_dispatch(base) == -1) {
        fprintf(stderr, "event_base_dispatch failed\n");
        exit(1);
    }

    evconnlistener_free(listener);
    event_base_free(base);
    return 0;
}
