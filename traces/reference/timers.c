/*
 * timers — what a wait's timeout comes from
 *
 * Reference program for the scenarios timers-* (traces/SCENARIOS.md).  Written
 * by the minievent project on top of real libevent 2.1.12; it is not
 * libevent's code.
 *
 * timers pure:          one 50 ms timer on a base that never had an fd.
 * timers common:        1000 events on one 20 ms common timeout, then the same
 *                       1000 events with a plain 20 ms timeout (the heap).
 * timers max-dispatch:  three events made active by hand (event_active) on a
 *                       base configured with
 *                       event_config_set_max_dispatch_interval(cfg, NULL, 1, 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#define N 1000

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

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    printf("timer fired (what=%#04x)\n", what);
}

static int pure(void)
{
    printf("timers: pure\n");
    struct event_base *base = event_base_new();
    if (!base)
        die("event_base_new");
    struct event *t = evtimer_new(base, on_timer, NULL);
    struct timeval tv = {0, 50000};
    check(event_add(t, &tv), "event_add");
    printf("dispatch: one 50 ms timer\n");
    int r = event_base_dispatch(base);
    printf("dispatch returned %d\n", r);
    event_free(t);
    event_base_free(base);
    printf("freed\n");
    return 0;
}

static int fired;

static void on_count(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fired += 1;
}

static int common(void)
{
    printf("timers: common\n");
    struct event_base *base = event_base_new();
    if (!base)
        die("event_base_new");
    struct timeval twenty = {0, 20000};
    const struct timeval *ct = event_base_init_common_timeout(base, &twenty);
    if (!ct)
        die("event_base_init_common_timeout");
    static struct event *events[N];
    for (int i = 0; i < N; i++)
        events[i] = evtimer_new(base, on_count, NULL);
    for (int i = 0; i < N; i++)
        check(event_add(events[i], ct), "event_add");
    printf("dispatch: %d events on one 20 ms common timeout\n", N);
    int r = event_base_dispatch(base);
    printf("fired %d, dispatch returned %d\n", fired, r);
    fired = 0;
    for (int i = 0; i < N; i++)
        check(event_add(events[i], &twenty), "event_add");
    printf("dispatch: %d events on the heap, 20 ms each\n", N);
    r = event_base_dispatch(base);
    printf("fired %d, dispatch returned %d\n", fired, r);
    for (int i = 0; i < N; i++)
        event_free(events[i]);
    event_base_free(base);
    printf("freed\n");
    return 0;
}

static void on_active(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    printf("callback %d (what=%#04x)\n", *(int *)arg, what);
}

static int max_dispatch(void)
{
    printf("timers: max-dispatch\n");
    struct event_config *cfg = event_config_new();
    if (!cfg)
        die("event_config_new");
    check(event_config_set_max_dispatch_interval(cfg, NULL, 1, 0),
          "event_config_set_max_dispatch_interval");
    struct event_base *base = event_base_new_with_config(cfg);
    if (!base)
        die("event_base_new_with_config");
    event_config_free(cfg);
    static int labels[3] = {1, 2, 3};
    struct event *ev[3];
    for (int i = 0; i < 3; i++)
        ev[i] = evtimer_new(base, on_active, &labels[i]);
    for (int i = 0; i < 3; i++)
        event_active(ev[i], EV_TIMEOUT, 0);
    printf("dispatch: three active events, at most one callback per pass\n");
    int r = event_base_dispatch(base);
    printf("dispatch returned %d\n", r);
    for (int i = 0; i < 3; i++)
        event_free(ev[i]);
    event_base_free(base);
    printf("freed\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "pure") == 0)
        return pure();
    if (strcmp(mode, "common") == 0)
        return common();
    if (strcmp(mode, "max-dispatch") == 0)
        return max_dispatch();
    fprintf(stderr, "usage: timers pure|common|max-dispatch\n");
    return 2;
}
