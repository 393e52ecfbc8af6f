/*
 * echo_client — a client for the echo servers, on a connecting bufferevent
 *
 * Reference program for the scenario echo-client (traces/SCENARIOS.md), the C
 * twin of src/bin/echo_client.rs.  Written by the minievent project on top of
 * real libevent 2.1.12; it is not libevent's code.
 *
 * Usage: echo_client [--port P] LINE...     (P defaults to 5555, on 127.0.0.1)
 *
 * bufferevent_socket_new with fd -1 makes a bufferevent without a socket (no
 * syscall); bufferevent_socket_connect then makes the socket (SOCK_NONBLOCK,
 * one call), starts the connect (EINPROGRESS) and adds the write event.  The
 * lines are added to the output at once: the write event is pending already,
 * so adding makes no syscall, and they go out once the connect is done.
 *
 * What the trace should show: socket, connect = -1 EINPROGRESS, epoll_ctl ADD
 * EPOLLOUT; epoll_wait (EPOLLOUT), getsockopt SO_ERROR = [0]: the event
 * callback gets BEV_EVENT_CONNECTED and enables EV_READ (MOD EPOLLIN|EPOLLOUT),
 * then one writev sends every line and MOD EPOLLIN removes EPOLLOUT (the
 * output is empty); epoll_wait (EPOLLIN), ioctl FIONREAD, readv, one printed
 * line per echoed line, then bufferevent_free (DEL, close) and, with no event
 * left, the loop ends and event_base_free closes the base's fds.  When the
 * connect fails, getsockopt says why, both events are deleted and the event
 * callback gets BEV_EVENT_ERROR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

/* How many lines are still to come back, and whether all did. */
struct progress {
    int left;
    int ok;
};

/* Read callback: print each whole line that came back; free the bufferevent
 * (closing the socket) once every line did. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct progress *p = arg;
    char *line;
    size_t n;
    while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_LF)) != NULL) {
        printf("%s\n", line);
        free(line);
        if (p->left > 0)
            p->left--;
    }
    if (p->left == 0) {
        p->ok = 1;
        bufferevent_free(bev);
    }
}

/* Event callback: connected (start reading), or the connection failed or
 * ended before every line came back. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (bufferevent_enable(bev, EV_READ) != 0) {
            fprintf(stderr, "echo_client: bufferevent_enable failed\n");
            bufferevent_free(bev);
        }
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        int e = EVUTIL_SOCKET_ERROR();
        /* The words of Rust's io::Error, which the minievent twin prints. */
        fprintf(stderr, "echo_client: %s (os error %d)\n", strerror(e), e);
    } else if (what & BEV_EVENT_EOF) {
        fprintf(stderr, "echo_client: the server closed the connection\n");
    }
    bufferevent_free(bev);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int port = 5555;
    int nlines = 0;
    char **lines = calloc((size_t)argc, sizeof *lines);
    if (lines == NULL) {
        fprintf(stderr, "echo_client: out of memory\n");
        exit(1);
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
            if (port <= 0 || port > 65535) {
                fprintf(stderr, "echo_client: bad port %s\n", argv[i]);
                exit(2);
            }
        } else {
            lines[nlines++] = argv[i];
        }
    }

    printf("echo_client: connecting to 127.0.0.1:%d\n", port);

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

    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        fprintf(stderr, "bufferevent_socket_new failed\n");
        exit(1);
    }
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("echo_client: bufferevent_socket_connect");
        exit(1);
    }
    struct progress progress = {nlines, nlines == 0};
    bufferevent_setcb(bev, on_read, NULL, on_event, &progress);
    for (int i = 0; i < nlines; i++) {
        if (evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", lines[i]) < 0) {
            fprintf(stderr, "echo_client: evbuffer_add_printf failed\n");
            exit(1);
        }
    }
    if (nlines == 0)
        bufferevent_free(bev);

    if (event_base_dispatch(base) == -1) {
        fprintf(stderr, "event_base_dispatch failed\n");
        exit(1);
    }
    event_base_free(base);
    free(lines);
    return progress.ok ? 0 : 1;
}
