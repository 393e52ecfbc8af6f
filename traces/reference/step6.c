/*
 * step6 — a bufferevent's read path, its read high-water mark and its write path
 *
 * Reference program for the scenario step6 (traces/SCENARIOS.md).
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.  Everything happens on one socketpair, driven by the
 * program itself one loop pass at a time (EVLOOP_ONCE), so the trace is the
 * same on every run.
 *
 * What the trace should show: readv into one, then two chains (iov_len from
 * evbuffer's chain sizes), the read high-water mark deleting the read event
 * (EPOLL_CTL_DEL) and draining below it adding it back, bufferevent_write
 * adding EPOLLOUT, writev capped at 16384 bytes per pass, EPOLLOUT removed
 * when the output is empty, end of file, and bufferevent_free closing fd 6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

static void fail(const char *what)
{
    fprintf(stderr, "%s failed\n", what);
    exit(1);
}

/* Prints the input's length; at the high-water mark it takes 6000 bytes out
 * with bufferevent_read, which resumes reading at once. */
static void on_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    size_t len = evbuffer_get_length(bufferevent_get_input(bev));
    printf("read cb: input %zu\n", len);
    if (len >= 10000) {
        static char sink[6000];
        size_t n = bufferevent_read(bev, sink, sizeof sink);
        printf("took %zu\n", n);
    }
}

/* Runs when the output is empty (write low-water mark 0). */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    printf("write cb: output %zu\n", evbuffer_get_length(bufferevent_get_output(bev)));
}

/* End of file: free the bufferevent, which closes fd 6 (BEV_OPT_CLOSE_ON_FREE). */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    printf("event cb: what=%#x\n", (unsigned)what);
    bufferevent_free(bev);
}

/* One pass of the loop: wait, run the callbacks, return. */
static void once(struct event_base *base)
{
    if (event_base_loop(base, EVLOOP_ONCE) == -1)
        fail("event_base_loop");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step6: bufferevent\n");

    struct event_base *base = event_base_new(); /* epoll 3, signal pipe 4/5 */
    if (base == NULL)
        fail("event_base_new");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) /* [6, 7] */
        fail("socketpair");
    if (evutil_make_socket_nonblocking(sv[0]) == -1 || evutil_make_socket_nonblocking(sv[1]) == -1)
        fail("evutil_make_socket_nonblocking");

    struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        fail("bufferevent_socket_new");
    bufferevent_setcb(bev, on_read, on_write, on_event, NULL);
    bufferevent_setwatermark(bev, EV_READ, 0, 10000);
    printf("enable EV_READ, high-water mark 10000\n");
    if (bufferevent_enable(bev, EV_READ) == -1) /* ADD 6 EPOLLIN */
        fail("bufferevent_enable");

    static char data[20000];
    memset(data, 'x', 12000);
    if (write(sv[1], data, 12000) != 12000) /* the peer sends 12000 bytes */
        fail("write");
    /* Pass 1: FIONREAD says 12000, evbuffer_read takes 4096 into a new chain.
     * Pass 2: 4096 more, in the first chain's room and a new small chain.
     * Pass 3: only 1808 more (up to the mark); at the mark reading stops
     *         (DEL); the callback takes 6000, reading resumes (ADD).
     * Pass 4: the last 2000. */
    for (int pass = 1; pass <= 4; pass++) {
        printf("pass %d\n", pass);
        once(base);
    }

    printf("write 20000\n");
    memset(data, 'y', sizeof data);
    if (bufferevent_write(bev, data, sizeof data) == -1) /* MOD 6 EPOLLIN|EPOLLOUT */
        fail("bufferevent_write");
    /* Two passes: writev writes at most 16384 bytes per pass; then the
     * output is empty, EPOLLOUT goes (MOD 6 EPOLLIN), the write cb runs. */
    for (int pass = 5; pass <= 6; pass++) {
        printf("pass %d\n", pass);
        once(base);
    }

    printf("peer shuts down\n");
    if (shutdown(sv[1], SHUT_WR) == -1)
        fail("shutdown");
    printf("pass 7\n");
    once(base); /* readv returns 0: DEL 6, event cb, bufferevent_free: close(6) */

    close(sv[1]);
    event_base_free(base);
    printf("freed\n");
    return 0;
}
