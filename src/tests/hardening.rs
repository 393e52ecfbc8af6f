//! What no safe caller can do to a base: each test here is a way the safe API used to panic,
//! abort, leak or act on the wrong event (issue 9), now a defined outcome — a `Result` with a
//! variant to match, or a base that keeps working. Every backend where the backend matters.

#[macro_use]
mod common;

use common::*;
use minievent::{
    BEV_OPT_CLOSE_ON_FREE, BEV_OPT_NONE, Base, Bufferevent, EV_PERSIST, EV_READ, EV_TIMEOUT,
    EV_WRITE, Error, Ev, LoopExit, LoopFlags,
};
use std::cell::Cell;
use std::os::fd::{FromRawFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

per_backend!(
    a_panicking_callback_leaves_the_base_usable,
    a_panicking_persistent_callback_stays_pending_with_its_callback,
    duration_max_is_a_timeout_that_never_fires,
    a_persistent_event_with_a_duration_max_timeout_re_arms_without_overflow,
    an_fd_no_process_can_have_is_refused_before_the_map_grows,
    event_free_frees_even_when_the_backend_fails,
    an_id_of_another_base_is_refused,
    once_with_no_event_is_refused,
    a_buffer_in_use_is_an_error_not_a_panic,
    the_loop_inside_a_buffer_closure_does_not_panic,
);

/// Runs `f`, which must panic with `message`; the panic is caught, as a caller of `run` would.
fn expect_panic(message: &str, f: impl FnOnce()) {
    let caught = panic::catch_unwind(AssertUnwindSafe(f));
    let payload = caught.expect_err("the callback's panic reaches the caller of run");
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or("<not a &str>");
    assert_eq!(text, message);
}

/// A callback panics inside `dispatch`; the caller catches it. Before: every later `run` said
/// "reentrant invocation" (the running flag stayed set) and the event had lost its callback.
/// Now the loop runs again, and the one-shot event — not pending any more, as when its callback
/// started — still has its callback: added again, it runs.
fn a_panicking_callback_leaves_the_base_usable(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let ev = base
        .event_new(pair.a, EV_READ, move |_, fd, _, _| {
            c.set(c.get() + 1);
            if c.get() == 1 {
                panic!("callback panics");
            }
            assert!(read_one(fd));
        })
        .unwrap();
    base.event_add(ev, None).unwrap();
    pair.send(b"x");
    expect_panic("callback panics", || {
        let _ = base.dispatch();
    });
    assert_eq!(calls.get(), 1);
    assert_eq!(
        base.event_pending(ev, EV_READ | EV_TIMEOUT).unwrap(),
        Ev::NONE,
        "a one-shot event is left as its callback found it: not pending"
    );
    base.event_add(ev, None).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(calls.get(), 2, "the event kept its callback");
}

/// A persistent event whose callback panics stays pending, callback and all: the next run calls
/// it again.
fn a_panicking_persistent_callback_stays_pending_with_its_callback(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let ev = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, fd, _, me| {
            c.set(c.get() + 1);
            assert!(read_one(fd));
            if c.get() == 1 {
                panic!("persistent callback panics");
            }
            base.event_del(me).unwrap();
        })
        .unwrap();
    base.event_add(ev, Some(Duration::from_secs(60))).unwrap();
    pair.send(b"xy");
    expect_panic("persistent callback panics", || {
        let _ = base.run(LoopFlags::ONCE);
    });
    assert_eq!(
        base.event_pending(ev, EV_READ | EV_TIMEOUT).unwrap(),
        EV_READ | EV_TIMEOUT,
        "still added, its timeout re-armed"
    );
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(calls.get(), 2);
}

/// `Duration::MAX` — the Rust way to say "forever" — used to panic with "overflow when adding
/// durations". It is now a timeout that never fires: the event is pending with EV_TIMEOUT, a
/// non-blocking pass runs nothing.
fn duration_max_is_a_timeout_that_never_fires(method: &str) {
    let mut base = base_for(method);
    let fired = Rc::new(Cell::new(false));
    let f = Rc::clone(&fired);
    let timer = base
        .event_new(-1, Ev::NONE, move |_, _, _, _| f.set(true))
        .unwrap();
    base.event_add(timer, Some(Duration::MAX)).unwrap();
    assert_eq!(base.event_pending(timer, EV_TIMEOUT).unwrap(), EV_TIMEOUT);
    assert_eq!(base.run(LoopFlags::NONBLOCK).unwrap(), LoopExit::Done);
    assert!(!fired.get());
    // A nearer timeout still fires first, and the loop does not wait for the far one once the
    // far one is deleted.
    base.loopexit(Some(Duration::from_millis(1))).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::Done);
    assert!(!fired.get());
    base.event_free(timer).unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// An EV_PERSIST fd event with a `Duration::MAX` timeout fires on its fd and is re-armed from
/// now + MAX: a saturating deadline, not an overflow panic in the loop.
fn a_persistent_event_with_a_duration_max_timeout_re_arms_without_overflow(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let log = Log::new();
    let l = log.clone();
    let ev = base
        .event_new(pair.a, EV_READ | EV_PERSIST, move |base, fd, what, me| {
            l.push("read", what);
            assert!(read_one(fd));
            base.event_del(me).unwrap();
        })
        .unwrap();
    base.event_add(ev, Some(Duration::MAX)).unwrap();
    pair.send(b"x");
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert_eq!(log.labels(), ["read"]);
}

/// fd `i32::MAX` used to abort the process ("memory allocation of 68719476736 bytes failed") and
/// fd 2^26 to pin 2 GiB: the fd map grew before any check. Now an fd no open file can have is
/// refused with `FdOutOfRange`, nothing grows, and the base goes on.
fn an_fd_no_process_can_have_is_refused_before_the_map_grows(method: &str) {
    let mut base = base_for(method);
    let limit = minievent::util::open_files_hard_limit();
    let mut huge = vec![i32::MAX];
    if limit <= 1 << 26 {
        huge.push(1 << 26);
    }
    for fd in huge {
        let ev = base.event_new(fd, EV_READ, |_, _, _, _| {}).unwrap();
        let err = base.event_add(ev, None).unwrap_err();
        assert!(
            matches!(err, Error::FdOutOfRange { fd: f, limit: l } if f == fd && l == limit),
            "{err:?}"
        );
        assert_eq!(base.event_pending(ev, EV_READ).unwrap(), Ev::NONE);
        base.event_free(ev).unwrap();
    }
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
}

/// An fd with a reader and a writer is closed behind the base's back; freeing the reader makes
/// the backend drop EV_READ from a closed fd. On epoll that is `MOD` → EBADF, an error that
/// `event_free` used to return *instead of* freeing (a leak). Now it frees and still reports it.
fn event_free_frees_even_when_the_backend_fails(method: &str) {
    let mut base = base_for(method);
    let mut pair = Pair::new();
    let r = base.event_new(pair.a, EV_READ, |_, _, _, _| {}).unwrap();
    let w = base.event_new(pair.a, EV_WRITE, |_, _, _, _| {}).unwrap();
    base.event_add(r, None).unwrap();
    base.event_add(w, None).unwrap();
    close(pair.a).unwrap();
    let freed = base.event_free(r);
    if method == "epoll" {
        assert_eq!(
            freed.unwrap_err().raw_os_error(),
            Some(libc::EBADF),
            "epoll_ctl(MOD) on the closed fd fails, and that is reported"
        );
    } else {
        freed.unwrap(); // poll and select make no syscall to forget an fd
    }
    assert!(
        matches!(base.event_pending(r, EV_READ), Err(Error::StaleEvent { id }) if id == r),
        "the event was freed all the same"
    );
    let _ = base.event_free(w);
    pair.a = -1; // closed above
}

/// An `EventId` of one base handed to another used to act on whatever event had the same slot
/// there. It carries its base now: `ForeignEvent`, and the other base's event is untouched.
fn an_id_of_another_base_is_refused(method: &str) {
    let mut one = base_for(method);
    let mut other = base_for(method);
    let pair = Pair::new();
    let mine = one.event_new(pair.a, EV_READ, |_, _, _, _| {}).unwrap();
    let theirs = other.event_new(pair.a, EV_WRITE, |_, _, _, _| {}).unwrap();
    other.event_add(theirs, None).unwrap();
    let foreign =
        |r: minievent::Result<()>| matches!(r, Err(Error::ForeignEvent { id }) if id == mine);
    assert!(foreign(other.event_add(mine, None)));
    assert!(foreign(other.event_del(mine)));
    assert!(foreign(other.event_active(mine, EV_READ)));
    assert!(foreign(other.event_free(mine)));
    assert!(foreign(other.event_pending(mine, EV_READ).map(drop)));
    assert_eq!(other.event_pending(theirs, EV_WRITE).unwrap(), EV_WRITE);
    assert_eq!(one.event_pending(mine, EV_READ).unwrap(), Ev::NONE);
    other.event_free(theirs).unwrap();
    one.event_free(mine).unwrap();
}

/// `event_base_once` with neither EV_TIMEOUT nor an fd event is -1 in libevent; minievent used
/// to run it at once.
fn once_with_no_event_is_refused(method: &str) {
    let mut base = base_for(method);
    let ran = Rc::new(Cell::new(false));
    let r = Rc::clone(&ran);
    let err = base
        .once(-1, Ev::NONE, None, move |_, _, _| r.set(true))
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(!ran.get());
    // EV_TIMEOUT alone is a timer, as in libevent.
    let r = Rc::clone(&ran);
    base.once(-1, EV_TIMEOUT, None, move |_, _, _| r.set(true))
        .unwrap();
    assert_eq!(base.dispatch().unwrap(), LoopExit::NoEvents);
    assert!(ran.get());
}

/// A bufferevent on `pair.a`, reading; the test plays the peer on `pair.b`.
fn reading_bufferevent(base: &mut Base, pair: &Pair) -> Bufferevent {
    minievent::util::make_socket_nonblocking(pair.a).unwrap();
    let bev = Bufferevent::socket_new(base, pair.a, BEV_OPT_NONE).unwrap();
    bev.enable(base, EV_READ).unwrap();
    bev
}

/// The buffers are reached through closures; a closure inside a closure on the same buffer gets
/// `BufferBorrowed`, not a `RefCell` panic.
fn a_buffer_in_use_is_an_error_not_a_panic(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let bev = reading_bufferevent(&mut base, &pair);
    let nested = bev.with_input(|_| bev.with_input(|buf| buf.len())).unwrap();
    assert!(
        matches!(nested, Err(Error::BufferBorrowed { .. })),
        "{nested:?}"
    );
    let input = bev.get_input();
    let nested = input.with(|_| bev.write_buffer(&mut base, &input)).unwrap();
    assert!(
        matches!(nested, Err(Error::BufferBorrowed { .. })),
        "{nested:?}"
    );
    bev.free(&mut base).unwrap();
}

/// Before, a user could keep `get_input().borrow()` alive across `run()`, and the loop panicked
/// ("RefCell already borrowed") when data arrived. Now the borrow lives inside a closure; even a
/// loop run from inside that closure does not panic: the read is left for a later pass.
fn the_loop_inside_a_buffer_closure_does_not_panic(method: &str) {
    let mut base = base_for(method);
    let pair = Pair::new();
    let bev = reading_bufferevent(&mut base, &pair);
    pair.send(b"hello");
    bev.with_input(|buf| {
        assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
        assert!(
            buf.is_empty(),
            "the loop could not read into a buffer in use"
        );
    })
    .unwrap();
    assert_eq!(base.run(LoopFlags::ONCE).unwrap(), LoopExit::Done);
    assert_eq!(bev.with_input(|buf| buf.to_vec()).unwrap(), b"hello");
    bev.free(&mut base).unwrap();
}

/// BEV_OPT_CLOSE_ON_FREE on a raw fd would close an fd the bufferevent does not own (and trip
/// std's I/O-safety abort if an `OwnedFd` elsewhere has it): refused, pointing at
/// `socket_new_owned`, which takes the `OwnedFd` and closes it on free.
#[test]
fn close_on_free_needs_ownership() {
    let mut base = Base::new().unwrap();
    let pair = Pair::new();
    let err = Bufferevent::socket_new(&mut base, pair.a, BEV_OPT_CLOSE_ON_FREE).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(why) if why.contains("socket_new_owned")),
        "{err:?}"
    );
    let [a, b] = minievent::util::socketpair().unwrap();
    // SAFETY: `a` is fresh from socketpair; the bufferevent takes it.
    let owned = unsafe { OwnedFd::from_raw_fd(a) };
    let bev = Bufferevent::socket_new_owned(&mut base, owned, BEV_OPT_NONE).unwrap();
    assert_eq!(bev.getfd(), a);
    bev.free(&mut base).unwrap();
    // The bufferevent closed `a`: the peer sees end of file.
    assert_eq!(minievent::util::read(b, &mut [0u8; 1]).unwrap(), 0);
    close(b).unwrap();
}
