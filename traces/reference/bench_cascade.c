/*
 * bench_cascade — libevent's test/bench_cascade.c method, on libevent: the C
 * twin of src/bin/bench_cascade.rs.
 *
 * Each run makes -n socketpairs, adds a one-shot EV_READ event with a 60 s
 * timeout on each read end, writes one byte into the first pair and dispatches;
 * each callback reads its byte and writes one into the next pair.  The time
 * covers adding the events, not making the pairs.  One line per run (-r runs).
 * read/write where bench_cascade.c uses recv/send.
 *
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 */
#include <unistd.h>
#include <sys/socket.h>

#include "bench_common.h"

static unsigned long fired;

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    int next = (int)(ev_intptr_t)arg;
    char ch;
    (void)what;
    if (read(fd, &ch, 1) < 0)
        perror("read");
    if (next >= 0 && write(next, "e", 1) < 0)
        perror("write");
    fired++;
}

static void run_once(struct event_base *base, unsigned long n)
{
    int (*pairs)[2] = calloc(n, sizeof *pairs);
    struct event **events = calloc(n, sizeof *events);
    struct timeval sixty = {60, 0};
    struct bench_clock c;
    unsigned long i;

    if (pairs == NULL || events == NULL) {
        perror("calloc");
        exit(1);
    }
    for (i = 0; i < n; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]) == -1) {
            perror("socketpair");
            exit(1);
        }
    fired = 0;
    c = bench_start();
    for (i = 0; i < n; i++) {
        int next = i + 1 < n ? pairs[i + 1][1] : -1;
        events[i] = event_new(base, pairs[i][0], EV_READ, read_cb, (void *)(ev_intptr_t)next);
        event_add(events[i], &sixty);
    }
    if (write(pairs[0][1], "e", 1) != 1)
        perror("write");
    event_base_dispatch(base);
    bench_print_run(c, fired, n);
    for (i = 0; i < n; i++) {
        event_free(events[i]);
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
    free(events);
    free(pairs);
}

int main(int argc, char **argv)
{
    unsigned long n = 100, runs = 25, i;
    struct event_base *base;
    int c;

    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        switch (c) {
        case 'n': n = bench_value("-n", optarg); break;
        case 'r': runs = bench_value("-r", optarg); break;
        default:
            fprintf(stderr, "usage: bench_cascade [-n PAIRS] [-r RUNS]\n");
            return 2;
        }
    }
    bench_raise_fd_limit(n * 2 + 50);
    base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "bench_cascade: no event base\n");
        return 1;
    }
    bench_print_method(base);
    for (i = 0; i < runs; i++)
        run_once(base, n);
    return 0;
}
