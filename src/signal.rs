//! Signal events. libevent: signal.c (`evsig_init_`, `evsig_add`, `evsig_del`, `evsig_handler`,
//! `evsig_cb`, `evsig_set_handler_`, `evsig_restore_handler_`, `evsig_set_base_`, `evsig_dealloc_`).
//!
//! Each of libevent's Linux backends ends its `init` with `evsig_init_(base)`, which makes an internal
//! pipe (`pipe2(O_NONBLOCK|O_CLOEXEC)`, via `evutil_make_internal_pipe_`) for signal handlers to write
//! to. It is created whether or not signals are ever used, so it is in every trace of `event_base_new`:
//! minievent creates it too, right after the backend, and closes it before the backend on teardown,
//! in libevent's order.
//!
//! A signal event (`EV_SIGNAL`, its "fd" the signal number) never reaches the backend. When the first
//! event of a signal is added, `evsig_add` installs [`evsig_handler`] with `sigaction` (saving the old
//! action) and, on the base's very first signal, adds the internal read event on the pipe's read end
//! — that `epoll_ctl(ADD)` is the pipe's first appearance in a trace after `pipe2`. The handler only
//! writes the signal number, one byte, into the pipe. The loop then wakes up like for any readable
//! fd, and the internal event's callback, [`Base::evsig_cb`], reads the bytes, counts them per signal
//! and activates each signal's events with `EV_SIGNAL` and that count (`ncalls`). Deleting a signal's
//! last event puts the saved action back.
//!
//! Signal dispositions are process-wide, so only one base receives signals at a time: the one that
//! added a signal (or started its loop) last. libevent keeps that base in globals (`evsig_base`,
//! `evsig_base_fd`); so does this file, the fd in an atomic the handler can read.

use crate::base::Base;
use crate::error::{Error, Result};
use crate::event::{EV_PERSIST, EV_READ, EV_SIGNAL, EventId};
use crate::sys::{Fd, cvt};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

/// One more than the highest signal number on Linux (`SIGRTMAX` is 64). libevent: `NSIG`.
pub const NSIG: i32 = 65;

/// Which base receives signals: its id (0: none) and how many signals it has added.
/// libevent: `evsig_base` and `evsig_base_n_signals_added`, under `evsig_base_lock`.
struct EvsigGlobal {
    base: u32,
    n_signals_added: i32,
}

// ANCHOR: evsig_globals
/// libevent: `evsig_base`, `evsig_base_n_signals_added` (and `evsig_base_lock`).
static EVSIG_BASE: Mutex<EvsigGlobal> = Mutex::new(EvsigGlobal {
    base: 0,
    n_signals_added: 0,
});

/// The write end of the receiving base's pipe, -1 when no base receives signals. An atomic,
/// because the signal handler reads it and a handler may take no lock. libevent: `evsig_base_fd`.
static EVSIG_BASE_FD: AtomicI32 = AtomicI32::new(-1);
// ANCHOR_END: evsig_globals

/// The global state, even if a thread panicked while holding the lock (it holds no invariant a
/// panic could break half-way).
fn global() -> std::sync::MutexGuard<'static, EvsigGlobal> {
    EVSIG_BASE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A base's signal state. libevent: `struct evsig_info` (`base->sig`).
pub struct Evsig {
    /// `[read end, write end]`, dropped in that order. libevent: `ev_signal_pair`. `None` only
    /// inside [`Base::reinit`], between closing the old pipe and making the new one.
    pair: Option<[Fd; 2]>,
    /// The internal read event on `pair[0]`, made when the first signal is added (libevent
    /// assigns it in `evsig_init_`, which costs no syscall either). libevent: `ev_signal`.
    pub(crate) ev_signal: Option<EventId>,
    /// Whether `ev_signal` is added. libevent: `ev_signal_added`.
    pub(crate) ev_signal_added: bool,
    /// How many signals have a handler installed by this base. libevent: `ev_n_signals_added`.
    pub(crate) ev_n_signals_added: i32,
    /// The action each signal had before this base installed its handler. libevent: `sh_old`.
    sh_old: Vec<Option<Box<libc::sigaction>>>,
}

impl std::fmt::Debug for Evsig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evsig")
            .field("pair", &self.pair)
            .field("ev_signal", &self.ev_signal)
            .field("ev_signal_added", &self.ev_signal_added)
            .field("ev_n_signals_added", &self.ev_n_signals_added)
            .finish_non_exhaustive()
    }
}

impl Evsig {
    // ANCHOR: evsig_init
    /// libevent: `evsig_init_()`.
    pub fn init() -> Result<Evsig> {
        let mut pair = [-1; 2];
        // SAFETY: pair has room for the two fds pipe2 writes.
        cvt(
            unsafe { libc::pipe2(pair.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) },
            "pipe2",
        )?;
        // SAFETY: pipe2 succeeded: both fds are open and nobody else owns them.
        let pair = pair.map(|fd| Fd::from(unsafe { OwnedFd::from_raw_fd(fd) }));
        Ok(Evsig {
            pair: Some(pair),
            ev_signal: None,
            ev_signal_added: false,
            ev_n_signals_added: 0,
            sh_old: Vec::new(),
        })
    }
    // ANCHOR_END: evsig_init

    /// The pipe's read end, which the internal event watches.
    pub(crate) fn read_fd(&self) -> RawFd {
        self.pair.as_ref().map_or(-1, |p| p[0].as_raw_fd())
    }

    /// The pipe's write end, which the handler writes to.
    pub(crate) fn write_fd(&self) -> RawFd {
        self.pair.as_ref().map_or(-1, |p| p[1].as_raw_fd())
    }

    /// Closes the pipe (read end, then write end). libevent: the two `EVUTIL_CLOSESOCKET`s of
    /// `event_reinit()`.
    pub(crate) fn close_pipe(&mut self) {
        self.pair = None;
    }

    /// A new pipe, after [`Evsig::close_pipe`]; the internal event will be a new one too.
    /// libevent: `evsig_init_()` as the re-initialised backend's `init` calls it.
    pub(crate) fn reopen_pipe(&mut self) -> Result<()> {
        self.pair = Evsig::init()?.pair;
        Ok(())
    }

    /// Restores every saved action. libevent: the `evsig_restore_handler_` loop of
    /// `evsig_dealloc_()`.
    pub(crate) fn restore_all(&mut self) {
        for signo in 0..self.sh_old.len() {
            if self.sh_old[signo].is_some() {
                // Already warned about by restore_handler; teardown goes on.
                let _ = self.restore_handler(signo as i32);
            }
        }
    }

    // ANCHOR: evsig_set_handler
    /// Installs `handler` for `signo` (all signals blocked while it runs, `SA_RESTART`) and keeps
    /// the action it replaces. libevent: `evsig_set_handler_()`.
    fn set_handler(&mut self, signo: i32, handler: extern "C" fn(libc::c_int)) -> Result<()> {
        let index = usize::try_from(signo).expect("a checked signal number");
        if index >= self.sh_old.len() {
            self.sh_old.resize_with(index + 1, || None);
        }
        // SAFETY: sigaction is plain old data; all-zero is a valid (empty) value.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = handler as libc::sighandler_t;
        sa.sa_flags |= libc::SA_RESTART;
        // SAFETY: sa.sa_mask is a valid sigset_t to fill.
        unsafe { libc::sigfillset(&mut sa.sa_mask) };
        // SAFETY: as above.
        let mut old: Box<libc::sigaction> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: both pointers are valid sigaction structs; the handler is async-signal-safe.
        cvt(
            unsafe { libc::sigaction(signo, &sa, &mut *old) },
            "sigaction",
        )
        .inspect_err(|e| crate::log::warn(&format!("sigaction: {}", crate::log::strerror(e))))?;
        self.sh_old[index] = Some(old);
        Ok(())
    }
    // ANCHOR_END: evsig_set_handler

    // ANCHOR: evsig_restore_handler
    /// Puts back the action `signo` had before [`Evsig::set_handler`]. libevent:
    /// `evsig_restore_handler_()`.
    fn restore_handler(&mut self, signo: i32) -> Result<()> {
        let Some(old) = usize::try_from(signo)
            .ok()
            .and_then(|i| self.sh_old.get_mut(i))
            .and_then(Option::take)
        else {
            return Ok(()); // nothing saved: nothing to restore (libevent returns 0 too)
        };
        // SAFETY: `old` is the action sigaction gave back when the handler was installed.
        cvt(
            unsafe { libc::sigaction(signo, &*old, std::ptr::null_mut()) },
            "sigaction",
        )
        .inspect_err(|e| crate::log::warn(&format!("sigaction: {}", crate::log::strerror(e))))?;
        Ok(())
    }
    // ANCHOR_END: evsig_restore_handler
}

// ANCHOR: evsig_handler
/// The signal handler: writes the signal number, one byte, into the receiving base's pipe.
/// Only async-signal-safe work: an atomic load, `write(2)`, and errno saved and restored so
/// that the interrupted code does not see the handler's errno. libevent: `evsig_handler()`.
extern "C" fn evsig_handler(sig: libc::c_int) {
    // SAFETY: __errno_location returns this thread's errno, valid for the thread's lifetime.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: as above.
    let save_errno = unsafe { *errno };
    let fd = EVSIG_BASE_FD.load(Ordering::SeqCst);
    if fd < 0 {
        // libevent warns with event_warnx here; formatting is not async-signal-safe, so the
        // line is assembled by hand on the stack.
        let mut line = *b"[warn] evsig_handler: received signal NN, but have no base configured\n";
        let at = line.iter().position(|&b| b == b'N').expect("the NN slot");
        let mut len = line.len();
        let sig = sig.clamp(0, 99) as u8;
        if sig < 10 {
            line[at] = b'0' + sig;
            line.copy_within(at + 2.., at + 1);
            len -= 1;
        } else {
            line[at] = b'0' + sig / 10;
            line[at + 1] = b'0' + sig % 10;
        }
        // SAFETY: line[..len] is initialised; write(2) is async-signal-safe.
        unsafe { libc::write(2, line.as_ptr().cast(), len) };
    } else {
        let msg = sig as u8;
        // SAFETY: one byte from a valid address; write(2) is async-signal-safe. A failure (a full
        // pipe) has nowhere to go: libevent ignores it too.
        unsafe { libc::write(fd, (&raw const msg).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *errno = save_errno };
}
// ANCHOR_END: evsig_handler

impl Base {
    /// Makes this base the one that receives signals. libevent: `evsig_set_base_()`, called by
    /// `event_base_loop()` when the base has signal events.
    pub(crate) fn evsig_set_base(&self) {
        let mut global = global();
        global.base = self.id;
        global.n_signals_added = self.sig.ev_n_signals_added;
        EVSIG_BASE_FD.store(self.sig.write_fd(), Ordering::SeqCst);
    }

    // ANCHOR: evsig_add
    /// The first event of `signo` was added: make this base the receiving one (warning if another
    /// base had signals), install the handler, and add the internal pipe event if this is the
    /// base's first signal. libevent: `evsig_add()`.
    pub(crate) fn evsig_add(&mut self, signo: i32) -> Result<()> {
        {
            let mut global = global();
            if global.base != self.id && global.n_signals_added != 0 {
                // libevent's words; it prints the two bases' addresses, minievent their ids.
                crate::log::warn(&format!(
                    "Added a signal to event base #{} with signals already added to event_base #{}.  \
                     Only one can have signals at a time with the {} backend.  The base with the \
                     most recently added signal or the most recent event_base_loop() call gets \
                     preference; do not rely on this behavior in future Libevent versions.",
                    self.id, global.base, self.method.name
                ));
            }
            global.base = self.id;
            self.sig.ev_n_signals_added += 1;
            global.n_signals_added = self.sig.ev_n_signals_added;
            EVSIG_BASE_FD.store(self.sig.write_fd(), Ordering::SeqCst);
        }
        let added = self.sig.set_handler(signo, evsig_handler).and_then(|()| {
            if self.sig.ev_signal_added {
                return Ok(());
            }
            let id = match self.sig.ev_signal {
                Some(id) => id,
                None => {
                    let id = self.event_new_internal(self.sig.read_fd())?;
                    self.sig.ev_signal = Some(id);
                    id
                }
            };
            self.event_add_nolock(id, None, false)?;
            self.sig.ev_signal_added = true;
            Ok(())
        });
        if added.is_err() {
            let mut global = global();
            global.n_signals_added -= 1;
            self.sig.ev_n_signals_added -= 1;
        }
        added
    }
    // ANCHOR_END: evsig_add

    /// The internal event on the signal pipe: persistent, priority 0, not counted as an event that
    /// keeps the loop running. libevent: the `event_assign` + `EVLIST_INTERNAL` +
    /// `event_priority_set(0)` of `evsig_init_()`.
    fn event_new_internal(&mut self, fd: RawFd) -> Result<EventId> {
        let id = self.event_new(fd, EV_READ | EV_PERSIST, |base: &mut Base, fd, _, _| {
            base.evsig_cb(fd)
        })?;
        let ev = self.ev_mut(id)?;
        ev.internal = true;
        ev.pri = 0;
        Ok(id)
    }

    // ANCHOR: evsig_del
    /// The last event of `signo` was deleted: put the old action back. libevent: `evsig_del()`.
    pub(crate) fn evsig_del(&mut self, signo: i32) -> Result<()> {
        {
            let mut global = global();
            global.n_signals_added -= 1;
            self.sig.ev_n_signals_added -= 1;
        }
        self.sig.restore_handler(signo)
    }
    // ANCHOR_END: evsig_del

    // ANCHOR: evsig_cb
    /// The internal event's callback: reads the pipe until it is empty (1024 bytes per `read`),
    /// counts each signal number, then activates every signal's events with its count.
    /// libevent: `evsig_cb()`.
    pub(crate) fn evsig_cb(&mut self, fd: RawFd) {
        let mut signals = [0u8; 1024];
        let mut ncaught = [0u32; NSIG as usize];
        loop {
            // SAFETY: reads at most signals.len() bytes into the buffer.
            let n = unsafe { libc::read(fd, signals.as_mut_ptr().cast(), signals.len()) };
            if n < 0 {
                let err = std::io::Error::last_os_error();
                if !matches!(
                    err.raw_os_error(),
                    Some(libc::EAGAIN | libc::EINTR) // EVUTIL_ERR_RW_RETRIABLE
                ) {
                    crate::log::warn(&format!("evsig_cb: recv: {err}"));
                }
                break;
            }
            if n == 0 {
                break;
            }
            for &sig in &signals[..n as usize] {
                if let Some(count) = ncaught.get_mut(usize::from(sig)) {
                    *count += 1;
                }
            }
        }
        for (sig, &n) in ncaught.iter().enumerate() {
            if n != 0 {
                self.evmap_signal_active(sig as i32, n);
            }
        }
    }
    // ANCHOR_END: evsig_cb

    // ANCHOR: evmap_signal_active
    /// Activates every event of `signo`, most recently added first, with `EV_SIGNAL` and `ncalls`.
    /// libevent: `evmap_signal_active_()`.
    pub(crate) fn evmap_signal_active(&mut self, signo: i32, ncalls: u32) {
        for id in self.sigmap.events(signo) {
            self.activate_n(id, EV_SIGNAL, ncalls);
        }
    }
    // ANCHOR_END: evmap_signal_active

    /// Activates the events of `signo` as if it had arrived once: no handler, no pipe.
    /// libevent: `event_base_active_by_signal()`.
    pub fn active_by_signal(&mut self, signo: i32) {
        self.evmap_signal_active(signo, 1);
    }

    // ANCHOR: evsig_dealloc
    /// Teardown: delete the internal event, restore every action still saved, and stop being the
    /// receiving base; the pipe is closed after this, with the `Evsig`. libevent: `evsig_dealloc_()`.
    pub(crate) fn evsig_dealloc(&mut self) {
        if self.sig.ev_signal_added {
            if let Some(id) = self.sig.ev_signal {
                // Teardown: nowhere to report a failure (libevent ignores it too).
                let _ = self.event_del(id);
            }
            self.sig.ev_signal_added = false;
        }
        self.sig.restore_all();
        self.evsig_forget_base();
    }
    // ANCHOR_END: evsig_dealloc

    /// Stops being the base that receives signals, if it is. libevent: the end of
    /// `evsig_dealloc_()`.
    pub(crate) fn evsig_forget_base(&self) {
        let mut global = global();
        if global.base == self.id {
            global.base = 0;
            global.n_signals_added = 0;
            EVSIG_BASE_FD.store(-1, Ordering::SeqCst);
        }
    }
}

/// Checks a signal number before it indexes the signal map. libevent: the `sig < 0 || sig >= NSIG`
/// test of `evmap_signal_add_()`, which fails without a message.
pub(crate) fn check_signo(signo: RawFd) -> Result<i32> {
    if (0..NSIG).contains(&signo) {
        Ok(signo)
    } else {
        Err(Error::Invalid(format!(
            "evmap_signal_add_: {signo} is not a signal number (0 to {})",
            NSIG - 1
        )))
    }
}
