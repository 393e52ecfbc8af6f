/*
 * step7_fork — event_reinit in a forked child
 *
 * Reference program for the scenarios step7-fork, step7-fork-poll and
 * step7-fork-select (traces/SCENARIOS.md).  Written by the minievent project
 * on top of real libevent 2.1.12; it is not libevent's code.
 *
 * The parent makes a base with a read event on a socketpair and a signal
 * event, then forks.  The child calls event_reinit: the backend is rebuilt
 * (epoll: a new epoll fd) with a new signal pipe, and every added event is
 * added again; then the peer end is written to, one loop pass runs the read
 * callback, and the child frees everything and exits.  The parent waits for
 * the child before it prints anything more, so the trace (strace -f) is the
 * same on every run: the parent's lines, the child's, the parent's again.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    char c;
    (void)arg;
    if (read(fd, &c, 1) != 1)
        die("read");
    printf("child: fd %d readable (what 0x%x), read '%c'\n", (int)fd, what, c);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)arg;
    printf("signal %d, what 0x%x\n", (int)sig, what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step7_fork: event_reinit after fork\n");

    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair");
    struct event *rd = event_new(base, sv[0], EV_READ, on_read, NULL);
    struct event *sig = evsignal_new(base, SIGUSR1, on_signal, NULL);
    if (rd == NULL || sig == NULL || event_add(rd, NULL) == -1 || event_add(sig, NULL) == -1) {
        fprintf(stderr, "event_new/event_add failed\n");
        exit(1);
    }
    printf("parent: added a read event and a signal event; fork\n");

    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        printf("child: event_reinit\n");
        if (event_reinit(base) == -1) {
            fprintf(stderr, "event_reinit failed\n");
            exit(1);
        }
        if (write(sv[1], "x", 1) != 1)
            die("write");
        printf("child: loop once: %d\n", event_base_loop(base, EVLOOP_ONCE));
        event_free(rd);
        event_free(sig);
        event_base_free(base);
        printf("child: freed\n");
        exit(0);
    }

    int status;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    event_free(rd);
    event_free(sig);
    if (close(sv[0]) == -1 || close(sv[1]) == -1)
        die("close");
    event_base_free(base);
    printf("parent: freed\n");
    return 0;
}
