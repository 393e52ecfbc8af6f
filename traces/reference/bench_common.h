/*
 * bench_common.h — what the benchmark programs bench_pipes.c, bench_cascade.c
 * and bench_timers.c share, as src/bin/bench_common/ does for their minievent
 * twins: the fd limit, the clocks, and the output `just bench` reads:
 *
 *   method epoll
 *   run WALL_NS CPU_NS OPS EXPECTED
 *
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

/* A value above 0 for -X, or exit 2 naming the option. */
static unsigned long bench_value(const char *opt, const char *text)
{
    char *end;
    unsigned long v = strtoul(text ? text : "", &end, 10);
    if (text == NULL || *end != '\0' || v == 0) {
        fprintf(stderr, "%s needs a whole number above 0\n", opt);
        exit(2);
    }
    return v;
}

/* RLIMIT_NOFILE to `fds`, as bench.c does; without privilege, to the hard limit. */
static inline void bench_raise_fd_limit(unsigned long fds)
{
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = fds;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static long long bench_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A run's start: wall clock and CPU time. */
struct bench_clock {
    long long wall, cpu;
};

static struct bench_clock bench_start(void)
{
    struct bench_clock c;
    c.wall = bench_ns(CLOCK_MONOTONIC);
    c.cpu = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
    return c;
}

/* Prints `run WALL_NS CPU_NS OPS EXPECTED` for the run started at `c`. */
static void bench_print_run(struct bench_clock c, unsigned long ops, unsigned long expected)
{
    long long cpu = bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c.cpu;
    long long wall = bench_ns(CLOCK_MONOTONIC) - c.wall;
    printf("run %lld %lld %lu %lu\n", wall, cpu, ops, expected);
}

static void bench_print_method(struct event_base *base)
{
    printf("method %s\n", event_base_get_method(base));
}

#endif
