/*
 * bench_timers — the cost of a timeout, on libevent: the C twin of
 * src/bin/bench_timers.rs.
 *
 * -n pure timer events stay pending with a 60 s timeout; each run re-adds every
 * one of them -p times, then runs the loop once with EVLOOP_ONCE |
 * EVLOOP_NONBLOCK.  With --common the timeout is one common timeout
 * (event_base_init_common_timeout), else each event sits in the min-heap.  One
 * line per run (-r runs).
 *
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 */
#include <unistd.h>

#include "bench_common.h"

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int main(int argc, char **argv)
{
    unsigned long n = 1000, passes = 10, runs = 25, i, p, r;
    struct timeval sixty = {60, 0};
    const struct timeval *timeout = &sixty;
    struct event_base *base;
    struct event **events;
    int c;

    for (i = 1; i < (unsigned long)argc; i++)
        if (strcmp(argv[i], "--common") == 0) {
            argv[i] = "-c";
        }
    while ((c = getopt(argc, argv, "n:p:r:c")) != -1) {
        switch (c) {
        case 'n': n = bench_value("-n", optarg); break;
        case 'p': passes = bench_value("-p", optarg); break;
        case 'r': runs = bench_value("-r", optarg); break;
        case 'c': timeout = NULL; break;
        default:
            fprintf(stderr, "usage: bench_timers [-n TIMERS] [-p PASSES] [-r RUNS] [--common]\n");
            return 2;
        }
    }
    base = event_base_new();
    events = calloc(n, sizeof *events);
    if (base == NULL || events == NULL) {
        fprintf(stderr, "bench_timers: no event base or no memory\n");
        return 1;
    }
    bench_print_method(base);
    if (timeout == NULL)
        timeout = event_base_init_common_timeout(base, &sixty);
    for (i = 0; i < n; i++) {
        events[i] = event_new(base, -1, 0, on_timer, NULL);
        event_add(events[i], timeout);
    }
    for (r = 0; r < runs; r++) {
        unsigned long added = 0;
        struct bench_clock clock = bench_start();
        for (p = 0; p < passes; p++)
            for (i = 0; i < n; i++)
                if (event_add(events[i], timeout) == 0)
                    added++;
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        bench_print_run(clock, added, n * passes);
    }
    return 0;
}
