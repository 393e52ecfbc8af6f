/*
 * step1 — event_base_new
 *
 * Reference program for the scenarios step1, step1-poll, step1-select and
 * step1-show-method (traces/SCENARIOS.md).  Written by the minievent project on
 * top of real libevent 2.1.12; it is not libevent's code.
 *
 * What the trace should show, from the banner on:
 *   - epoll (default): epoll_create1(EPOLL_CLOEXEC) = 3, then pipe2 = [4, 5]
 *     (the signal pipe every backend's init makes), and at event_base_free:
 *     close(4), close(5), close(3).
 *   - EVENT_NOEPOLL=1 (poll) or also EVENT_NOPOLL=1 (select): no epoll fd,
 *     only pipe2 = [3, 4], then close(3), close(4).
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

int main(void)
{
    /* Line-buffered stdout: each printf line becomes exactly one write(1, ...). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step1: event_base_new\n");

    /* event_base_new(): picks the first backend not disabled by EVENT_NO* and
     * runs its init (epoll_create1 / nothing for poll and select), then the
     * signal pipe (pipe2). */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    /* event_base_get_method() / event_base_get_features(): read from the
     * chosen struct eventop, no syscall. */
    printf("method: %s\n", event_base_get_method(base));
    int features = event_base_get_features(base);
    printf("features:%s%s%s%s\n",
           (features & EV_FEATURE_ET) ? " ET" : "",
           (features & EV_FEATURE_O1) ? " O1" : "",
           (features & EV_FEATURE_FDS) ? " FDS" : "",
           (features & EV_FEATURE_EARLY_CLOSE) ? " EARLY_CLOSE" : "");

    /* event_base_free(): the backend's dealloc closes the signal pipe and,
     * for epoll, the epoll fd. */
    event_base_free(base);
    printf("freed\n");
    return 0;
}
