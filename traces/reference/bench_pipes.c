/*
 * bench_pipes — libevent's test/bench.c method, on libevent: the C twin of
 * src/bin/bench_pipes.rs.
 *
 * -n socketpairs, each read end watched by a persistent EV_READ event; -a of
 * them get a byte; each read callback reads its byte and, while writes remain
 * (-w of them), writes one to the next pair.  The loop runs with
 * EVLOOP_ONCE | EVLOOP_NONBLOCK until every byte written was read.  One line per
 * run (-r runs).  read/write where bench.c uses recv/send, so that the syscall
 * counts compare name for name with the Rust twin.
 *
 * Written by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 */
#include <unistd.h>
#include <sys/socket.h>

#include "bench_common.h"

static unsigned long count, fired, writes, failures;
static int (*pipes)[2];
static unsigned long num_pipes;

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    unsigned long next = ((unsigned long)(ev_intptr_t)arg + 1) % num_pipes;
    char ch;
    ssize_t n = read(fd, &ch, 1);
    (void)what;
    if (n >= 0)
        count += (unsigned long)n;
    else
        failures++;
    if (writes > 0) {
        if (write(pipes[next][1], "e", 1) != 1)
            failures++;
        writes--;
        fired++;
    }
}

static void run_once(struct event_base *base, struct event **events,
                     unsigned long active, unsigned long num_writes)
{
    unsigned long i, space = num_pipes / active;
    struct bench_clock c;

    for (i = 0; i < num_pipes; i++) {
        event_del(events[i]);
        event_add(events[i], NULL);
    }
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    fired = 0;
    for (i = 0; i < active; i++, fired++)
        if (write(pipes[i * space][1], "e", 1) != 1)
            failures++;
    count = 0;
    writes = num_writes;
    c = bench_start();
    while (count != fired && failures == 0)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    bench_print_run(c, count, active + num_writes);
}

int main(int argc, char **argv)
{
    unsigned long active = 1, num_writes = 100, runs = 25, i;
    struct event_base *base;
    struct event **events;
    int c;

    num_pipes = 100;
    while ((c = getopt(argc, argv, "n:a:w:r:")) != -1) {
        switch (c) {
        case 'n': num_pipes = bench_value("-n", optarg); break;
        case 'a': active = bench_value("-a", optarg); break;
        case 'w': num_writes = bench_value("-w", optarg); break;
        case 'r': runs = bench_value("-r", optarg); break;
        default:
            fprintf(stderr, "usage: bench_pipes [-n PAIRS] [-a ACTIVE] [-w WRITES] [-r RUNS]\n");
            return 2;
        }
    }
    if (active > num_pipes)
        active = num_pipes;
    bench_raise_fd_limit(num_pipes * 2 + 50);
    base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "bench_pipes: no event base\n");
        return 1;
    }
    bench_print_method(base);
    pipes = calloc(num_pipes, sizeof *pipes);
    events = calloc(num_pipes, sizeof *events);
    if (pipes == NULL || events == NULL) {
        perror("calloc");
        return 1;
    }
    for (i = 0; i < num_pipes; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pipes[i]) == -1) {
            perror("socketpair");
            return 1;
        }
        events[i] = event_new(base, pipes[i][0], EV_READ | EV_PERSIST, read_cb,
                              (void *)(ev_intptr_t)i);
    }
    for (i = 0; i < runs; i++)
        run_once(base, events, active, num_writes);
    if (failures > 0)
        fprintf(stderr, "bench_pipes: %lu reads or writes failed\n", failures);
    return 0;
}
