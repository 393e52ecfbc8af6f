/*
 * step7 — signal events
 *
 * Reference program for the scenarios step7, step7-poll and step7-select
 * (traces/SCENARIOS.md).  Written by the minievent project on top of real
 * libevent 2.1.12; it is not libevent's code.
 *
 * Part 1, one shot: event_new(SIGUSR1, EV_SIGNAL) -- not evsignal_new, which
 * adds EV_PERSIST -- and event_add install the handler
 * (rt_sigaction) and, for the base's first signal, add the read end of the
 * signal pipe to the backend.  kill(getpid(), SIGUSR1): the handler writes
 * one byte (10) into the pipe.  event_base_dispatch wakes up, the internal
 * event reads the pipe until EAGAIN, and the signal event's callback runs; it
 * was one-shot, so it was deleted first, which restored the old action.
 *
 * Part 2, persistent: an EV_SIGNAL|EV_PERSIST event on SIGUSR2 is raised
 * twice before one loop pass: both bytes are read at once and the callback
 * runs twice (ncalls 2); raised once more, it runs once again.  The callback
 * deletes the event after its third call, which restores the action, and
 * the loop ends.  Then the base is freed: the internal event is deleted and
 * the pipe and backend closed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <event2/event.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int calls;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct event *self = arg;
    calls++;
    printf("signal %d, what 0x%x, call %d\n", (int)sig, what, calls);
    if (sig == SIGUSR2 && calls == 3)
        event_del(self);
}

static void send_signal(int sig)
{
    if (kill(getpid(), sig) == -1)
        die("kill");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step7: signal events\n");

    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    struct event *once = event_new(base, SIGUSR1, EV_SIGNAL, on_signal, event_self_cbarg());
    if (once == NULL || event_add(once, NULL) == -1) {
        fprintf(stderr, "event_new/event_add failed\n");
        exit(1);
    }
    printf("added SIGUSR1\n");
    send_signal(SIGUSR1);
    printf("sent SIGUSR1\n");
    printf("dispatch: %d\n", event_base_dispatch(base));
    event_free(once);

    calls = 0;
    /* evsignal_new: EV_SIGNAL | EV_PERSIST. */
    struct event *persist = evsignal_new(base, SIGUSR2, on_signal, event_self_cbarg());
    if (persist == NULL || event_add(persist, NULL) == -1) {
        fprintf(stderr, "evsignal_new/event_add failed\n");
        exit(1);
    }
    printf("added SIGUSR2 persist\n");
    send_signal(SIGUSR2);
    send_signal(SIGUSR2);
    printf("sent SIGUSR2 x2\n");
    printf("loop once: %d\n", event_base_loop(base, EVLOOP_ONCE));
    send_signal(SIGUSR2);
    printf("sent SIGUSR2\n");
    printf("dispatch: %d\n", event_base_dispatch(base));
    event_free(persist);

    event_base_free(base);
    printf("freed\n");
    return 0;
}
