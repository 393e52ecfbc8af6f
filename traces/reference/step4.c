/*
 * step4 — event_base_dispatch
 *
 * Reference program for the scenario step4 (traces/SCENARIOS.md).  Written by
 * the minievent project on top of real libevent 2.1.12; it is not libevent's
 * code.
 *
 * Part 1: 33 socketpairs, each with one byte waiting, each watched by a
 * one-shot EV_READ event.  libevent's epoll backend starts with room for 32
 * events per epoll_wait, so the trace should show epoll_wait(maxevents 32)
 * returning 32; the array then doubles and epoll_wait(maxevents 64) returns
 * the last one.  Every one-shot event is deleted (epoll_ctl DEL) as it fires,
 * so afterwards nothing is pending and dispatch returns 1.
 *
 * Part 2: two timeouts, a pure 50 ms timer and a 20 ms read timeout on an
 * idle fd: epoll_wait times out twice, the 20 ms one fires first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#define NPAIRS 33

/* Print what failed, with errno's text, and stop: this program is evidence. */
static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s returned %d\n", what, rc);
        exit(1);
    }
}

static int count; /* bytes read by on_read */

/* Part 1's callback: consume the one byte (one read() in the trace). */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char buf[1];
    if (read(fd, buf, 1) != 1)
        die("read");
    count += 1;
}

/* Part 2's callbacks: both fire on their timeout, so what is EV_TIMEOUT. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    printf("timer fired (what=%#04x)\n", what);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    printf("read timed out (what=%#04x)\n", what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step4: event_base_dispatch\n");

    struct event_base *base = event_base_new(); /* epoll_create1 = 3, pipe2 = [4, 5] */
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    /* 33 socketpairs [6, 7] ... [70, 71], each with one byte ready to read
     * on its first end. */
    int sv[NPAIRS][2];
    for (int i = 0; i < NPAIRS; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) == -1)
            die("socketpair");
        if (write(sv[i][1], "x", 1) != 1)
            die("write");
    }

    /* event_new + event_add: one epoll_ctl(3, ADD, fd, EPOLLIN) per fd. */
    struct event *ev[NPAIRS];
    for (int i = 0; i < NPAIRS; i++) {
        ev[i] = event_new(base, sv[i][0], EV_READ, on_read, NULL);
        if (ev[i] == NULL) {
            fprintf(stderr, "event_new failed\n");
            exit(1);
        }
        check(event_add(ev[i], NULL), "event_add");
    }

    /* event_base_dispatch(): epoll_wait(3, ..., 32, -1) = 32; 32 callbacks,
     * each read() preceded by the event's DEL; then epoll_wait(3, ..., 64, -1)
     * = 1; its DEL and read(); then no event is left and dispatch returns 1
     * ("no events were pending or active"). */
    printf("dispatch: %d ready fds\n", NPAIRS);
    int rc = event_base_dispatch(base);
    printf("read %d bytes, dispatch returned %d\n", count, rc);

    /* A pure timer (fd -1): event_add with a timeout only touches the
     * min-heap, no syscall. */
    struct timeval t50 = {0, 50 * 1000};
    struct event *t = event_new(base, -1, 0, on_timer, NULL);
    if (t == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }
    check(event_add(t, &t50), "event_add(t)");

    /* A read with a timeout on sv[0][0] (6), which is empty now: ADD 6 EPOLLIN
     * and a 20 ms entry in the min-heap. */
    struct timeval t20 = {0, 20 * 1000};
    struct event *r = event_new(base, sv[0][0], EV_READ, on_idle, NULL);
    if (r == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }
    check(event_add(r, &t20), "event_add(r)");

    /* event_base_dispatch(): epoll_wait with a ~20 ms timeout returns 0, r
     * times out (DEL 6, then its callback prints); epoll_wait with the ~30 ms
     * left returns 0, the timer fires; nothing is pending, dispatch returns 1. */
    printf("dispatch: two timeouts\n");
    rc = event_base_dispatch(base);
    printf("dispatch returned %d\n", rc);

    /* Nothing is pending any more, so the frees make no syscall. */
    for (int i = 0; i < NPAIRS; i++)
        event_free(ev[i]);
    event_free(t);
    event_free(r);
    for (int i = 0; i < NPAIRS; i++) {
        if (close(sv[i][0]) == -1)
            die("close");
        if (close(sv[i][1]) == -1)
            die("close");
    }
    event_base_free(base); /* close(4), close(5), close(3) */
    printf("freed\n");
    return 0;
}
