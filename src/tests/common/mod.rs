//! Helpers shared by the integration tests in `src/tests/` (each test file includes this module with
//! `#[macro_use] mod common;`; not every file uses every helper).
#![allow(dead_code)]

use minievent::util::{read, socketpair, write};
use minievent::{Base, BaseFlags, Config, Ev, EventId, LoopExit, LoopFlags};
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Duration;

/// `close(fd)` on an fd the test made and owns (the library's `sys::close` is `unsafe`: closing
/// an fd is only sound for its owner).
pub fn close(fd: RawFd) -> minievent::Result<()> {
    // SAFETY: the tests close only fds they made themselves.
    unsafe { minievent::sys::close(fd) }
}

/// `dup2(fd, to)` onto an fd number the test owns (or has closed).
pub fn dup2(fd: RawFd, to: RawFd) -> minievent::Result<RawFd> {
    // SAFETY: `to` is the test's own fd, or one it closed.
    unsafe { minievent::util::dup2(fd, to) }
}

/// The three backends of `eventops[]` on Linux, in preference order.
pub const METHODS: [&str; 3] = ["epoll", "poll", "select"];

/// A config that can only pick `method`: the other two are avoided, and `EVENT_NO*` in the test
/// runner's environment is ignored so the choice does not depend on who runs the tests.
pub fn config_for(method: &str) -> Config {
    METHODS
        .iter()
        .filter(|&&m| m != method)
        .fold(Config::new(), |cfg, m| cfg.avoid_method(m))
        .set_flag(BaseFlags::IGNORE_ENV)
}

/// A base on `method`, checked to really be on it.
pub fn base_for(method: &str) -> Base {
    let base = Base::with_config(&config_for(method)).expect("a base on every Linux backend");
    assert_eq!(
        base.method(),
        method,
        "config_for({method}) picked another backend"
    );
    base
}

/// Generates one `#[test]` per backend for each named `fn name(method: &str)`:
/// `epoll::name`, `poll::name`, `select::name`.
#[macro_export]
macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        mod epoll { $( #[test] fn $test() { super::$test("epoll") } )* }
        mod poll { $( #[test] fn $test() { super::$test("poll") } )* }
        mod select { $( #[test] fn $test() { super::$test("select") } )* }
    };
}

/// A connected AF_UNIX socket pair, closed on drop. Events watch `a`; the test plays the peer on `b`.
pub struct Pair {
    pub a: RawFd,
    pub b: RawFd,
}

impl Pair {
    pub fn new() -> Pair {
        let [a, b] = socketpair().expect("socketpair");
        Pair { a, b }
    }

    /// The peer sends `data` to `a`.
    pub fn send(&self, data: &[u8]) {
        assert_eq!(write(self.b, data).expect("write to the peer"), data.len());
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for fd in [self.a, self.b] {
            if fd >= 0 {
                let _ = close(fd);
            }
        }
    }
}

/// Reads one byte from `fd` (the callbacks use it to consume what the peer sent).
pub fn read_one(fd: RawFd) -> bool {
    matches!(read(fd, &mut [0u8; 1]), Ok(1))
}

/// What callbacks saw, in order: `(label, what)`.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<(&'static str, Ev)>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    pub fn push(&self, label: &'static str, what: Ev) {
        self.0.borrow_mut().push((label, what));
    }

    /// A callback that only records `(label, what)`.
    pub fn recorder(
        &self,
        label: &'static str,
    ) -> impl FnMut(&mut Base, RawFd, Ev, EventId) + 'static {
        let log = self.clone();
        move |_, _, what, _| log.push(label, what)
    }

    pub fn entries(&self) -> Vec<(&'static str, Ev)> {
        self.0.borrow().clone()
    }

    pub fn labels(&self) -> Vec<&'static str> {
        self.0.borrow().iter().map(|&(label, _)| label).collect()
    }

    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// A one-shot timer that breaks the loop after `after`, so a test whose behaviour broke fails with
/// a message instead of hanging. Returns its id: `event_pending(guard, EV_TIMEOUT)` tells whether it
/// is still waiting (it did not fire).
pub fn guard(base: &mut Base, after: Duration) -> EventId {
    let guard = base
        .event_new(-1, Ev::NONE, |base, _, _, _| {
            eprintln!("guard timer fired: the loop would have run on");
            base.loopbreak();
        })
        .expect("a pure timer");
    base.event_add(guard, Some(after)).expect("adding a timer");
    guard
}

/// `run(EVLOOP_ONCE)` with a [`guard`] timer, so that when the event a test waits for never comes
/// the loop returns after [`SOON`] (and the test's assertions fail) instead of blocking forever.
/// The guard is freed before returning, so it never outlives the call.
pub fn run_once_guarded(base: &mut Base) -> LoopExit {
    let guard = guard(base, SOON);
    let exit = base
        .run(LoopFlags::ONCE)
        .expect("event_base_loop(EVLOOP_ONCE)");
    base.event_free(guard)
        .expect("the guard exists until freed here");
    exit
}

/// A generous bound for anything that should happen "soon" on a shared, slow machine.
pub const SOON: Duration = Duration::from_secs(10);
