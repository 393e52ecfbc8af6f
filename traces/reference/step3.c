/*
 * step3 — event_add, event_del and the epoll fallbacks
 *
 * Reference program for the scenario step3 (traces/SCENARIOS.md).  Written by
 * the minievent project on top of real libevent 2.1.12; it is not libevent's
 * code.
 *
 * fds: epoll 3, signal pipe 4/5, the socketpair 6/7.
 *
 * libevent's epoll backend (without the changelist, the default) turns every
 * change of an fd's read/write interest into one epoll_ctl call at once.
 * When that call fails it has three fallbacks, all provoked here:
 *   - DEL failing with ENOENT, EBADF or EPERM is ignored;
 *   - ADD failing with EEXIST is retried as MOD;
 *   - MOD failing with ENOENT is retried as ADD.
 * Any other failure is reported with a warning on stderr and event_add
 * returns -1 (shown with /dev/null, which epoll refuses with EPERM).
 */
#include <fcntl.h>
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

/* event_add / event_del must succeed everywhere except where said otherwise. */
static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s returned %d\n", what, rc);
        exit(1);
    }
}

/* Never called: the loop never runs in this program. */
static void cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("step3: event_add\n");

    struct event_base *base = event_base_new(); /* epoll_create1 = 3, pipe2 = [4, 5] */
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        exit(1);
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) /* [6, 7] */
        die("socketpair");

    struct event *r = event_new(base, sv[0], EV_READ | EV_PERSIST, cb, NULL);
    struct event *w = event_new(base, sv[0], EV_WRITE | EV_PERSIST, cb, NULL);
    if (r == NULL || w == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }

    /* --- The plain path: evmap counts readers and writers per fd, and the
     * backend gets the union of their interests. --- */
    printf("add read\n");
    check(event_add(r, NULL), "event_add(r)"); /* epoll_ctl(3, ADD, 6, EPOLLIN) */
    printf("add write\n");
    check(event_add(w, NULL), "event_add(w)"); /* epoll_ctl(3, MOD, 6, EPOLLIN|EPOLLOUT) */
    printf("del read\n");
    check(event_del(r), "event_del(r)"); /* epoll_ctl(3, MOD, 6, EPOLLOUT) */
    printf("del write\n");
    check(event_del(w), "event_del(w)"); /* epoll_ctl(3, DEL, 6) */

    /* --- EBADF on DEL is ignored; EEXIST on ADD is retried as MOD.
     * An epoll registration belongs to the pair (open file, fd number). --- */
    printf("dup'd fd: EEXIST -> MOD\n");
    check(event_add(r, NULL), "event_add(r)"); /* ADD 6 */
    int d = dup(sv[0]); /* 8: a second fd for the same open file */
    if (d == -1)
        die("dup");
    /* Closing fd 6 does not remove the registration: the file is still open
     * as fd 8, so the kernel keeps the epitem for (file, 6). */
    if (close(sv[0]) == -1)
        die("close sv[0]");
    /* DEL 6 fails with EBADF (fd 6 is closed); libevent ignores it and
     * event_del returns 0. */
    check(event_del(r), "event_del(r) on a closed fd");
    if (dup2(d, sv[0]) != sv[0]) /* fd 6 is the same file again */
        die("dup2");
    /* ADD 6 fails with EEXIST (the old epitem is still there); libevent
     * retries it as MOD 6 EPOLLIN, which succeeds. */
    check(event_add(r, NULL), "event_add(r) after dup2");
    check(event_del(r), "event_del(r)"); /* DEL 6 */
    if (close(d) == -1)
        die("close d");

    /* --- ENOENT on MOD is retried as ADD. --- */
    printf("reopened fd: ENOENT -> ADD\n");
    check(event_add(r, NULL), "event_add(r)"); /* ADD 6 */
    /* Close both ends without event_del: the file goes away, and the kernel
     * drops its epitem, but libevent's evmap still counts r as a reader of 6. */
    if (close(sv[0]) == -1)
        die("close sv[0]");
    if (close(sv[1]) == -1)
        die("close sv[1]");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) /* [6, 7] again */
        die("socketpair");
    /* evmap believes 6 is registered for reading, so adding a writer is a
     * MOD 6 EPOLLIN|EPOLLOUT: it fails with ENOENT, retried as ADD. */
    check(event_add(w, NULL), "event_add(w) on the reopened fd");
    check(event_del(w), "event_del(w)"); /* MOD 6 EPOLLIN */
    check(event_del(r), "event_del(r)"); /* DEL 6 */

    /* --- A failure with no fallback: epoll refuses regular files and
     * /dev/null with EPERM.  libevent prints a [warn] line on stderr and
     * event_add returns -1. --- */
    printf("not pollable: EPERM\n");
    int n = open("/dev/null", O_RDONLY | O_CLOEXEC); /* 8 */
    if (n == -1)
        die("open /dev/null");
    struct event *x = event_new(base, n, EV_READ, cb, NULL);
    if (x == NULL) {
        fprintf(stderr, "event_new failed\n");
        exit(1);
    }
    /* Expected to fail: the value is printed, not checked. */
    int rc = event_add(x, NULL); /* epoll_ctl(3, ADD, 8, EPOLLIN) -> EPERM */
    printf("event_add: %d\n", rc);
    event_free(x); /* x is not pending: no syscall */
    if (close(n) == -1)
        die("close n");

    event_free(r); /* neither r nor w is pending any more: no syscall */
    event_free(w);
    if (close(sv[0]) == -1)
        die("close sv[0]");
    if (close(sv[1]) == -1)
        die("close sv[1]");
    event_base_free(base); /* close(4), close(5), close(3) */
    printf("freed\n");
    return 0;
}
