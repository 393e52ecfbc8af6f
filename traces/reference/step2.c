/*
 * step2 — event_new makes no syscall
 *
 * Reference program for the scenario step2 (traces/SCENARIOS.md).  Written by
 * the minievent project on top of real libevent 2.1.12; it is not libevent's
 * code.
 *
 * What the trace should show, from the banner on: epoll_create1 = 3,
 * pipe2 = [4, 5], socketpair = [6, 7], and then nothing at all between
 * "event_new x3" and "event_free x3": creating, querying and freeing events
 * that were never added touches only memory.  Then close(6), close(7) and the
 * base's teardown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

/* Print what failed, with errno's text, and stop: this program is evidence. */
static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Never called: none of the events is ever added. */
static void cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step2: event_new\n");

    /* event_base_new(): epoll_create1 + the signal pipe. */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair");

    /* event_new(): allocates and fills a struct event.  No syscall: the
     * backend hears about an fd only at event_add. */
    printf("event_new x3\n");
    struct event *r = event_new(base, sv[0], EV_READ | EV_PERSIST, cb, NULL);
    struct event *w = event_new(base, sv[0], EV_WRITE, cb, NULL);
    struct event *t = event_new(base, -1, 0, cb, NULL); /* a pure timer, as evtimer_new makes */
    if (r == NULL || w == NULL || t == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }

    /* event_pending(): r was never added, so nothing is pending: prints 0. */
    printf("pending: %d\n", event_pending(r, EV_READ | EV_WRITE, NULL));

    /* event_free(): event_del on an event that is not added does nothing,
     * then the memory is freed.  Still no syscall. */
    event_free(r);
    event_free(w);
    event_free(t);
    printf("event_free x3\n");

    if (close(sv[0]) == -1)
        die("close sv[0]");
    if (close(sv[1]) == -1)
        die("close sv[1]");

    /* event_base_free(): close(4), close(5) (signal pipe), close(3) (epoll). */
    event_base_free(base);
    printf("freed\n");
    return 0;
}
