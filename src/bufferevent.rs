//! The bufferevent: a socket with an input and an output [`Evbuffer`], read and written by the
//! loop on its own. libevent: bufferevent.c (`bufferevent_enable`, `_disable`, `_setcb`,
//! `_setwatermark`, `_write`, `_write_buffer`, `_read`, `_free`, the watermark and suspend logic)
//! and include/event2/bufferevent.h (`BEV_EVENT_*`, `BEV_OPT_*`); the socket half — the
//! constructors, the read and write callbacks — is in bufferevent_sock.rs, as libevent splits it.
//!
//! Callbacks get `&mut Base` and the [`Bufferevent`] itself, so they can write, enable, disable
//! or free it, as libevent's get the `struct bufferevent *`. The buffers are reached through
//! closures ([`Bufferevent::with_input`], [`EvbufferRef::with`]), so a user's borrow of a buffer
//! can never be alive when the loop needs it.

use crate::base::Base;
use crate::buffer::Evbuffer;
use crate::error::{Error, Result};
use crate::event::{EV_READ, EV_TIMEOUT, EV_WRITE, Ev, EventId};
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::num::NonZeroI32;
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

// ANCHOR: bev_event
bitflags::bitflags! {
    /// What happened, as the event callback is told. libevent: the `short what` of a
    /// `bufferevent_event_cb` (`BEV_EVENT_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
    pub struct BevEvent: u16 {
        /// It happened while reading. libevent: `BEV_EVENT_READING`.
        const READING = 0x01;
        /// It happened while writing. libevent: `BEV_EVENT_WRITING`.
        const WRITING = 0x02;
        /// End of file: the peer will send nothing more. libevent: `BEV_EVENT_EOF`.
        const EOF = 0x10;
        /// An unrecoverable error; [`Bufferevent::socket_error`] says which. libevent: `BEV_EVENT_ERROR`.
        const ERROR = 0x20;
        /// A read or write timeout expired ([`Bufferevent::set_timeouts`]). libevent:
        /// `BEV_EVENT_TIMEOUT`.
        const TIMEOUT = 0x40;
        /// A connect finished ([`Bufferevent::socket_connect`]). libevent: `BEV_EVENT_CONNECTED`.
        const CONNECTED = 0x80;
    }
}

/// libevent: `BEV_EVENT_READING`.
pub const BEV_EVENT_READING: BevEvent = BevEvent::READING;
/// libevent: `BEV_EVENT_WRITING`.
pub const BEV_EVENT_WRITING: BevEvent = BevEvent::WRITING;
/// libevent: `BEV_EVENT_EOF`.
pub const BEV_EVENT_EOF: BevEvent = BevEvent::EOF;
/// libevent: `BEV_EVENT_ERROR`.
pub const BEV_EVENT_ERROR: BevEvent = BevEvent::ERROR;
/// libevent: `BEV_EVENT_TIMEOUT`.
pub const BEV_EVENT_TIMEOUT: BevEvent = BevEvent::TIMEOUT;
/// libevent: `BEV_EVENT_CONNECTED`.
pub const BEV_EVENT_CONNECTED: BevEvent = BevEvent::CONNECTED;
// ANCHOR_END: bev_event

impl fmt::Debug for BevEvent {
    /// `BEV_EVENT_READING|BEV_EVENT_EOF`, or `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unknown = self.bits() & !BevEvent::all().bits();
        crate::event::fmt_flags(
            f,
            "BEV_EVENT_",
            self.iter_names().map(|(name, _)| name),
            unknown,
        )
    }
}

bitflags::bitflags! {
    /// Options of a bufferevent. libevent: `enum bufferevent_options` (`BEV_OPT_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
    pub struct BevOptions: u8 {
        /// Close the socket when the bufferevent is freed: given by
        /// [`Bufferevent::socket_new_owned`], which takes the socket's `OwnedFd`.
        /// libevent: `BEV_OPT_CLOSE_ON_FREE`.
        const CLOSE_ON_FREE = 0x01;
        /// minievent-only, not in libevent: eager socket I/O, fewer syscalls per message
        /// (see [`BEV_OPT_MINIEVENT_EAGER`]).
        const MINIEVENT_EAGER = 0x80;
    }
}

/// No option. libevent: `0`.
pub const BEV_OPT_NONE: BevOptions = BevOptions::empty();
/// libevent: `BEV_OPT_CLOSE_ON_FREE`.
pub const BEV_OPT_CLOSE_ON_FREE: BevOptions = BevOptions::CLOSE_ON_FREE;

// ANCHOR: eager
/// **minievent-only, not libevent's**: the "beyond libevent" mode of a socket bufferevent, which
/// departs from libevent's `bufferevent_readcb` / `bufferevent_writecb` in two ways, each only
/// where it saves a syscall and changes nothing a callback can see:
///
/// - *No FIONREAD probe while the output is empty.* libevent's `evbuffer_read` asks
///   `ioctl(FIONREAD)` how much is waiting before every `readv`; here the `readv` asks for up to
///   [`EVBUFFER_MAX_READ`](crate::buffer::EVBUFFER_MAX_READ) (4096) bytes straight away, into the
///   input's room (the kernel says how much it gave). While the output still holds bytes (a peer
///   that reads slowly) the probe is made as in libevent, so queued chains are sized to what was
///   read and a backed-up connection holds no more memory than libevent's would.
/// - *The output is written right after the read callback.* libevent's output callback adds the
///   write event when the read callback fills the output (`epoll_ctl` MOD +EPOLLOUT), the next
///   loop pass `writev`s it, and emptying the output deletes the event again (`epoll_ctl` MOD
///   -EPOLLOUT). Here, when the read callback returns, the output is `writev`n at once. Only if
///   the socket takes part of it, or none (`EAGAIN`), is the write event added, and the rest goes
///   out exactly as in libevent, from the write event, when the socket is writable.
///
/// An echoed message then costs `epoll_wait`, `readv`, `writev` — 3 syscalls instead of
/// libevent's 7. Watermarks, back-pressure, timeouts, end of file and errors behave as without
/// the option; the write callback runs after the inline write when the output is down to the
/// write low-water mark, as it would from the write event. Output added outside the read
/// callback (from a timer, say) takes the write event, as in libevent.
pub const BEV_OPT_MINIEVENT_EAGER: BevOptions = BevOptions::MINIEVENT_EAGER;
// ANCHOR_END: eager

// ANCHOR: constants
/// The most one read callback reads (without rate limits). libevent: `MAX_SINGLE_READ_DEFAULT`.
pub const MAX_SINGLE_READ_DEFAULT: usize = 16384;
/// The most one write callback writes. libevent: `MAX_SINGLE_WRITE_DEFAULT`.
pub const MAX_SINGLE_WRITE_DEFAULT: usize = 16384;
/// Reading is suspended by the read high-water mark. libevent: `BEV_SUSPEND_WM`.
pub(crate) const BEV_SUSPEND_WM: u8 = 0x01;
/// Once more deferred callbacks than this were activated in one loop pass, the next ones wait
/// for the next pass (so 33 run at once). libevent: `MAX_DEFERREDS_QUEUED`.
pub(crate) const MAX_DEFERREDS_QUEUED: u32 = 32;
// ANCHOR_END: constants

/// A low and a high water mark; 0 means "none". libevent: `struct event_watermark`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Watermark {
    /// Read: the read callback runs only once the input has this much. Write: the write
    /// callback runs once the output is down to this much.
    pub low: usize,
    /// Read: reading stops while the input has this much (back-pressure). Write: unused.
    pub high: usize,
}

/// A buffer shared between a bufferevent and its user; cloning it clones the handle. The buffer
/// is reached only inside a closure ([`EvbufferRef::with`]), so no borrow of it can outlive the
/// call and meet the loop's own use of it. libevent: `struct evbuffer *` as
/// `bufferevent_get_input()` / `_get_output()` return it.
#[derive(Clone)]
pub struct EvbufferRef(Holder);

/// Where an [`EvbufferRef`]'s buffer lives.
#[derive(Clone)]
enum Holder {
    /// A buffer of its own ([`EvbufferRef::new`]).
    Alone(Rc<BufferCell>),
    /// A bufferevent's input or output, which live inside the bufferevent (one allocation for
    /// the bufferevent and its two buffers, as libevent's are three: fewer bytes per connection).
    Input(Rc<Inner>),
    Output(Rc<Inner>),
}

/// An evbuffer as a bufferevent or an [`EvbufferRef`] holds it: reached only through
/// [`with_call`](Self::with_call).
#[derive(Default)]
pub(crate) struct BufferCell(RefCell<Evbuffer>);

impl BufferCell {
    /// Runs `f` on the buffer; fails, naming `call`, when a closure further up the stack has it.
    #[inline]
    pub(crate) fn with_call<R>(
        &self,
        call: &'static str,
        f: impl FnOnce(&mut Evbuffer) -> R,
    ) -> Result<R> {
        let mut buf = self
            .0
            .try_borrow_mut()
            .map_err(|_| Error::BufferBorrowed { call })?;
        Ok(f(&mut buf))
    }
}

impl Default for EvbufferRef {
    fn default() -> EvbufferRef {
        EvbufferRef(Holder::Alone(Rc::default()))
    }
}

impl EvbufferRef {
    /// A new, empty buffer to hand to [`Bufferevent::read_buffer`]. libevent: `evbuffer_new()`.
    pub fn new() -> EvbufferRef {
        EvbufferRef::default()
    }

    /// Runs `f` on the buffer. Fails, without running `f`, when a closure further up the stack
    /// already has this buffer (`with` inside `with` of the same buffer).
    pub fn with<R>(&self, f: impl FnOnce(&mut Evbuffer) -> R) -> Result<R> {
        self.with_call("EvbufferRef::with", f)
    }

    /// [`EvbufferRef::with`], whose error names `call`.
    pub(crate) fn with_call<R>(
        &self,
        call: &'static str,
        f: impl FnOnce(&mut Evbuffer) -> R,
    ) -> Result<R> {
        self.cell().with_call(call, f)
    }

    /// The buffer.
    fn cell(&self) -> &BufferCell {
        match &self.0 {
            Holder::Alone(cell) => cell,
            Holder::Input(bev) => &bev.input,
            Holder::Output(bev) => &bev.output,
        }
    }

    /// The handle names `buffer`.
    fn is(&self, buffer: &BufferCell) -> bool {
        std::ptr::eq(self.cell(), buffer)
    }
}

impl fmt::Debug for EvbufferRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cell().0.try_borrow() {
            Ok(buf) => write!(f, "EvbufferRef({} bytes)", buf.len()),
            Err(_) => f.write_str("EvbufferRef(<in use>)"),
        }
    }
}

/// A read or write callback. libevent: `bufferevent_data_cb`
/// (`void (*)(struct bufferevent *bev, void *ctx)`); the ctx is what the closure captures.
pub type DataCallback = Box<dyn FnMut(&mut Base, &Bufferevent)>;

/// An event callback: EOF, error. libevent: `bufferevent_event_cb`
/// (`void (*)(struct bufferevent *bev, short what, void *ctx)`).
pub type EventCallback = Box<dyn FnMut(&mut Base, &Bufferevent, BevEvent)>;

// ANCHOR: bufferevent
/// A bufferevent over a socket; cloning it clones the handle, not the bufferevent.
/// libevent: `struct bufferevent *` made by `bufferevent_socket_new()`.
#[derive(Clone)]
pub struct Bufferevent(pub(crate) Rc<Inner>);

pub(crate) struct Inner {
    /// libevent: `event_get_fd(&bev->ev_read)`.
    pub(crate) fd: RawFd,
    /// The socket when the bufferevent owns it ([`Bufferevent::socket_new_owned`]): dropped —
    /// closed — by `free`. libevent: `BEV_OPT_CLOSE_ON_FREE` in `be_socket_destruct()`.
    pub(crate) owned: Cell<Option<crate::sys::Fd>>,
    /// `EV_READ|EV_PERSIST` on the fd. libevent: `bev->ev_read`. Set by the constructor right
    /// after the bufferevent is made: the event's callback holds the bufferevent.
    pub(crate) ev_read: OnceCell<EventId>,
    /// `EV_WRITE|EV_PERSIST` on the fd. libevent: `bev->ev_write`. Set as `ev_read` is.
    pub(crate) ev_write: OnceCell<EventId>,
    /// libevent: `bev->input`.
    pub(crate) input: BufferCell,
    /// libevent: `bev->output`.
    pub(crate) output: BufferCell,
    /// Everything that changes, the callbacks included: one `RefCell` (each borrow is short,
    /// and none is held while a user's callback runs).
    pub(crate) state: RefCell<State>,
}

/// libevent: the fields of `struct bufferevent` and `struct bufferevent_private` that a socket
/// bufferevent without rate limits uses.
pub(crate) struct State {
    /// The user's callbacks. libevent: `bev->readcb`, `writecb`, `errorcb`.
    pub(crate) cbs: Callbacks,
    /// What the user enabled. libevent: `bev->enabled` (EV_WRITE at creation).
    pub(crate) enabled: Ev,
    /// Why reading is suspended (`BEV_SUSPEND_*`), 0 if it is not. libevent: `read_suspended`.
    pub(crate) read_suspended: u8,
    /// libevent: `write_suspended` (nothing suspends writing in a plain socket bufferevent).
    pub(crate) write_suspended: u8,
    /// libevent: `bev->wm_read`, `bev->wm_write`.
    pub(crate) wm_read: Watermark,
    pub(crate) wm_write: Watermark,
    /// The read and write events' timeouts (`None`: none). libevent: `bev->timeout_read`,
    /// `timeout_write` (a cleared `timeval` is none).
    pub(crate) timeout_read: Option<Duration>,
    pub(crate) timeout_write: Option<Duration>,
    /// A connect is in progress: the next write event finishes it. libevent: `connecting`.
    pub(crate) connecting: bool,
    /// A read callback is scheduled to run again (see [`Bufferevent::inbuf_wm_check`]).
    /// libevent: `readcb_pending`.
    pub(crate) readcb_pending: bool,
    /// Deferred re-runs of the read callback since the last real read (see `inbuf_wm_check`).
    /// (At most `MAX_DEFERREDS_QUEUED + 2`.)
    pub(crate) deferred_in_a_row: u8,
    /// The errno of the last read or write error, for the event callback. libevent: `errno`.
    pub(crate) socket_error: Option<NonZeroI32>,
    /// `free` was called: every later call is refused, nothing runs any more.
    pub(crate) freed: bool,
    /// [`BEV_OPT_MINIEVENT_EAGER`]: the read callback is running, and the output it fills is
    /// written right after it returns rather than by the write event (see `write_inline`).
    pub(crate) write_inline: bool,
    /// [`BEV_OPT_MINIEVENT_EAGER`] was given (minievent-only).
    pub(crate) eager: bool,
    /// The most one read callback reads. libevent: `max_single_read`.
    pub(crate) max_single_read: usize,
    /// The most one write callback writes. libevent: `max_single_write`.
    pub(crate) max_single_write: usize,
}

/// The user's callbacks. libevent: `bev->readcb`, `writecb`, `errorcb` (the ctx is captured).
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) readcb: Option<DataCallback>,
    pub(crate) writecb: Option<DataCallback>,
    pub(crate) eventcb: Option<EventCallback>,
    /// Bumped by every `setcb`, so a callback that was running is not put back over a new one.
    generation: u32,
}
// ANCHOR_END: bufferevent

impl fmt::Debug for Bufferevent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bufferevent")
            .field("fd", &self.0.fd)
            .field("enabled", &self.get_enabled())
            .finish_non_exhaustive()
    }
}

/// The error for a call on a freed bufferevent.
fn freed(call: &str) -> Error {
    Error::Invalid(format!(
        "{call}: the bufferevent was freed (bufferevent_free)"
    ))
}

impl Bufferevent {
    /// Sets the three callbacks (`None`: no such callback). libevent: `bufferevent_setcb()`.
    pub fn setcb(
        &self,
        readcb: Option<DataCallback>,
        writecb: Option<DataCallback>,
        eventcb: Option<EventCallback>,
    ) {
        let old = {
            let cbs = &mut self.0.state.borrow_mut().cbs;
            cbs.generation = cbs.generation.wrapping_add(1);
            (
                std::mem::replace(&mut cbs.readcb, readcb),
                std::mem::replace(&mut cbs.writecb, writecb),
                std::mem::replace(&mut cbs.eventcb, eventcb),
            )
        };
        // Dropped once the state is no longer borrowed: a capture's drop may use the
        // bufferevent.
        drop(old);
    }

    /// The read event. libevent: `bev->ev_read`.
    pub(crate) fn ev_read(&self) -> EventId {
        *self.0.ev_read.get().expect("set by the constructor")
    }

    /// The write event. libevent: `bev->ev_write`.
    pub(crate) fn ev_write(&self) -> EventId {
        *self.0.ev_write.get().expect("set by the constructor")
    }

    /// The socket. libevent: `bufferevent_getfd()`.
    pub fn getfd(&self) -> RawFd {
        self.0.fd
    }

    /// A handle to the input buffer: what was read and not yet consumed. libevent:
    /// `bufferevent_get_input()`.
    ///
    /// Changes made through it directly are noticed (watermarks) when the running callback
    /// returns, or at the next call on the bufferevent; [`read`](Self::read) and
    /// [`read_buffer`](Self::read_buffer) act at once.
    pub fn get_input(&self) -> EvbufferRef {
        EvbufferRef(Holder::Input(Rc::clone(&self.0)))
    }

    /// A handle to the output buffer: what is still to be written. libevent:
    /// `bufferevent_get_output()`.
    ///
    /// Bytes added through it directly are noticed (writing starts) when the running callback
    /// returns, or at the next call on the bufferevent; [`write`](Self::write) and
    /// [`write_buffer`](Self::write_buffer) act at once.
    pub fn get_output(&self) -> EvbufferRef {
        EvbufferRef(Holder::Output(Rc::clone(&self.0)))
    }

    /// Runs `f` on the input buffer (see [`get_input`](Self::get_input)); an error if an
    /// enclosing closure has it. libevent: `bufferevent_get_input()` and an evbuffer call.
    pub fn with_input<R>(&self, f: impl FnOnce(&mut Evbuffer) -> R) -> Result<R> {
        self.0.input.with_call("bufferevent_get_input", f)
    }

    /// Runs `f` on the output buffer (see [`get_output`](Self::get_output)); an error if an
    /// enclosing closure has it. libevent: `bufferevent_get_output()` and an evbuffer call.
    pub fn with_output<R>(&self, f: impl FnOnce(&mut Evbuffer) -> R) -> Result<R> {
        self.0.output.with_call("bufferevent_get_output", f)
    }

    /// What is enabled: `EV_READ`, `EV_WRITE`. libevent: `bufferevent_get_enabled()`.
    pub fn get_enabled(&self) -> Ev {
        self.0.state.borrow().enabled
    }

    /// The errno of the read or write error an event callback with `BEV_EVENT_ERROR` reports.
    /// libevent: `EVUTIL_SOCKET_ERROR()` inside the event callback.
    pub fn socket_error(&self) -> Option<std::io::Error> {
        self.0
            .state
            .borrow()
            .socket_error
            .map(|errno| std::io::Error::from_raw_os_error(errno.get()))
    }

    /// `true` once [`free`](Self::free) was called. libevent has none: there a freed
    /// bufferevent is freed memory.
    pub fn is_freed(&self) -> bool {
        self.0.state.borrow().freed
    }

    /// Fails with a clear error once the bufferevent is freed.
    fn check_alive(&self, call: &str) -> Result<()> {
        if self.is_freed() {
            Err(freed(call))
        } else {
            Ok(())
        }
    }

    // ANCHOR: enable_disable
    /// Enables reading and/or writing. A suspended side (read high-water mark) is only marked
    /// enabled; it resumes when the suspension ends. libevent: `bufferevent_enable()`.
    pub fn enable(&self, base: &mut Base, event: Ev) -> Result<()> {
        self.check_alive("bufferevent_enable")?;
        let mut impl_events = event;
        {
            let mut st = self.0.state.borrow_mut();
            if st.read_suspended != 0 {
                impl_events.remove(EV_READ);
            }
            if st.write_suspended != 0 {
                impl_events.remove(EV_WRITE);
            }
            st.enabled |= event;
        }
        self.be_socket_enable(base, impl_events)
    }

    /// Disables reading and/or writing. libevent: `bufferevent_disable()`.
    pub fn disable(&self, base: &mut Base, event: Ev) -> Result<()> {
        self.check_alive("bufferevent_disable")?;
        {
            let mut st = self.0.state.borrow_mut();
            st.enabled.remove(event);
        }
        self.be_socket_disable(base, event)
    }

    // ANCHOR_END: enable_disable

    // ANCHOR: suspend
    /// Stops reading for `why` without changing what the user enabled; the read event is deleted
    /// only by the first reason. libevent: `bufferevent_suspend_read_()`.
    pub(crate) fn suspend_read(&self, base: &mut Base, why: u8) -> Result<()> {
        let first = {
            let mut st = self.0.state.borrow_mut();
            let first = st.read_suspended == 0;
            st.read_suspended |= why;
            first
        };
        if first {
            self.be_socket_disable(base, EV_READ)
        } else {
            Ok(())
        }
    }

    /// Lifts the suspension `why`; when none is left and reading is enabled, the read event is
    /// added again. libevent: `bufferevent_unsuspend_read_()`.
    fn unsuspend_read(&self, base: &mut Base, why: u8) -> Result<()> {
        let resume = {
            let mut st = self.0.state.borrow_mut();
            st.read_suspended &= !why;
            st.read_suspended == 0 && st.enabled.contains(EV_READ)
        };
        if resume {
            self.be_socket_enable(base, EV_READ)
        } else {
            Ok(())
        }
    }
    // ANCHOR_END: suspend

    // ANCHOR: setwatermark
    /// Sets the watermarks of the read and/or write side. A read high-water mark stops reading
    /// while the input holds that much (back-pressure) and resumes it when the input drains
    /// below; `high` 0 removes it. libevent: `bufferevent_setwatermark()`.
    pub fn setwatermark(&self, base: &mut Base, events: Ev, low: usize, high: usize) -> Result<()> {
        self.check_alive("bufferevent_setwatermark")?;
        let wm = Watermark { low, high };
        if events.contains(EV_WRITE) {
            self.0.state.borrow_mut().wm_write = wm;
        }
        if events.contains(EV_READ) {
            self.0.state.borrow_mut().wm_read = wm;
            let len = self
                .0
                .input
                .with_call("bufferevent_setwatermark", |buf| buf.len())?;
            if high != 0 && len >= high {
                self.suspend_read(base, BEV_SUSPEND_WM)?;
            } else {
                self.unsuspend_read(base, BEV_SUSPEND_WM)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: setwatermark

    /// The watermarks of `EV_READ` or `EV_WRITE` (exactly one). libevent:
    /// `bufferevent_getwatermark()`.
    pub fn getwatermark(&self, events: Ev) -> Option<Watermark> {
        let st = self.0.state.borrow();
        if events == EV_READ {
            Some(st.wm_read)
        } else if events == EV_WRITE {
            Some(st.wm_write)
        } else {
            None
        }
    }

    // ANCHOR: set_timeouts
    /// Sets the read and write timeouts (`None`: none; a zero `Duration` is none too, as a cleared
    /// `timeval` is in libevent). The read event then fires with `EV_TIMEOUT` when nothing could
    /// be read for `read`, the write event when nothing could be written for `write` while there
    /// was something to write; the event callback gets `BEV_EVENT_TIMEOUT` with
    /// `BEV_EVENT_READING` or `_WRITING`, and that side is disabled. A pending event gets its new
    /// timeout at once. libevent: `bufferevent_set_timeouts()` →
    /// `bufferevent_generic_adj_existing_timeouts_()`.
    pub fn set_timeouts(
        &self,
        base: &mut Base,
        read: Option<Duration>,
        write: Option<Duration>,
    ) -> Result<()> {
        self.check_alive("bufferevent_set_timeouts")?;
        let (read, write) = (
            read.filter(|d| !d.is_zero()),
            write.filter(|d| !d.is_zero()),
        );
        {
            let mut st = self.0.state.borrow_mut();
            st.timeout_read = read;
            st.timeout_write = write;
        }
        for (ev, what, timeout) in [
            (self.ev_read(), EV_READ, read),
            (self.ev_write(), EV_WRITE, write),
        ] {
            if !base.event_pending(ev, what)?.is_empty() {
                match timeout {
                    Some(_) => base.event_add(ev, timeout)?,
                    None => base.event_remove_timer(ev)?,
                }
            }
        }
        Ok(())
    }
    // ANCHOR_END: set_timeouts

    // ANCHOR: write
    /// Appends a copy of `data` to the output; writing starts if it was idle.
    /// libevent: `bufferevent_write()` (`evbuffer_add` on the output).
    pub fn write(&self, base: &mut Base, data: &[u8]) -> Result<()> {
        self.check_alive("bufferevent_write")?;
        self.0
            .output
            .with_call("bufferevent_write", |out| out.add(data))?;
        self.run_buffer_callbacks(base)
    }

    /// Moves everything in `buf` to the output (whole chains, no copy); writing starts if it was
    /// idle. `buf` may be this bufferevent's own input — the echo server's one-liner.
    /// libevent: `bufferevent_write_buffer()` (`evbuffer_add_buffer` on the output).
    pub fn write_buffer(&self, base: &mut Base, buf: &EvbufferRef) -> Result<()> {
        self.check_alive("bufferevent_write_buffer")?;
        if !buf.is(&self.0.output) {
            buf.with_call("bufferevent_write_buffer", |src| {
                self.0
                    .output
                    .with_call("bufferevent_write_buffer", |out| out.add_buffer(src))
            })??;
        }
        self.run_buffer_callbacks(base)
    }
    // ANCHOR_END: write

    /// Moves up to `out.len()` bytes from the input into `out`; returns how many.
    /// libevent: `bufferevent_read()`.
    pub fn read(&self, base: &mut Base, out: &mut [u8]) -> Result<usize> {
        self.check_alive("bufferevent_read")?;
        let n = self
            .0
            .input
            .with_call("bufferevent_read", |input| input.remove(out))?;
        self.run_buffer_callbacks(base)?;
        Ok(n)
    }

    /// Moves everything in the input to the end of `buf`. libevent: `bufferevent_read_buffer()`.
    pub fn read_buffer(&self, base: &mut Base, buf: &EvbufferRef) -> Result<()> {
        self.check_alive("bufferevent_read_buffer")?;
        if !buf.is(&self.0.input) {
            self.0
                .input
                .with_call("bufferevent_read_buffer", |input| {
                    buf.with_call("bufferevent_read_buffer", |dst| dst.add_buffer(input))
                })??;
        }
        self.run_buffer_callbacks(base)
    }

    // ANCHOR: buffer_callbacks
    /// Reacts to what changed in the two buffers since last time, input first: the read
    /// watermark callback (suspend reading at the high-water mark, resume below it), then the
    /// output callback (bytes were added while the write event is not pending: add it).
    /// libevent: `evbuffer_invoke_callbacks_()` on the input (`bufferevent_inbuf_wm_cb`) and on
    /// the output (`bufferevent_socket_outbuf_cb`), which libevent runs inside every evbuffer call.
    pub(crate) fn run_buffer_callbacks(&self, base: &mut Base) -> Result<()> {
        const CALL: &str = "evbuffer callbacks";
        let (input_changed, input_len) = self.0.input.with_call(CALL, |input| {
            let info = input.take_cb_info();
            (info.n_added + info.n_deleted > 0, input.len())
        })?;
        let added = self
            .0
            .output
            .with_call(CALL, |out| out.take_cb_info().n_added)?;
        if !input_changed && added == 0 {
            return Ok(());
        }
        let (freed, high) = {
            let st = self.0.state.borrow();
            (st.freed, st.wm_read.high)
        };
        if freed {
            return Ok(());
        }
        if input_changed && high != 0 {
            if input_len >= high {
                self.suspend_read(base, BEV_SUSPEND_WM)?;
            } else {
                self.unsuspend_read(base, BEV_SUSPEND_WM)?;
            }
        }
        let (enabled, write_suspended, write_inline, timeout) = {
            let st = self.0.state.borrow();
            (
                st.enabled,
                st.write_suspended,
                st.write_inline,
                st.timeout_write,
            )
        };
        // BEV_OPT_MINIEVENT_EAGER, inside the read callback: written when it returns.
        if added > 0
            && !write_inline
            && enabled.contains(EV_WRITE)
            && write_suspended == 0
            && base.event_pending(self.ev_write(), EV_WRITE)?.is_empty()
        {
            // Somebody added data and we were not writing: start writing.
            base.event_add(self.ev_write(), timeout)?;
        }
        Ok(())
    }
    // ANCHOR_END: buffer_callbacks

    // ANCHOR: trigger_read
    /// Runs the user's read callback if the input reached the read low-water mark, then makes
    /// sure a callback that left the input at the high-water mark runs again: reading is
    /// suspended, so no read event would call it. libevent: `bufferevent_trigger_nolock_()`
    /// (`EV_READ`) → `bufferevent_run_readcb_()` → `bufferevent_inbuf_wm_check()`.
    pub(crate) fn trigger_read(&self, base: &mut Base) {
        let low = self.0.state.borrow().wm_read.low;
        match self.input_len("bufferevent_trigger") {
            Ok(len) if len >= low => {
                self.run_data_cb(base, |cbs| &mut cbs.readcb);
                self.inbuf_wm_check(base);
            }
            Ok(_) => {}
            Err(e) => self.warn_on_err(Err(e)),
        }
    }

    /// With a read high-water mark, reading enabled and the input still at the mark after the
    /// read callback: run the read callback again, deferred. libevent:
    /// `bufferevent_inbuf_wm_check()` + `bufferevent_trigger(bev, EV_READ,
    /// BEV_OPT_DEFER_CALLBACKS)`. libevent activates a deferred callback at once, in the same loop
    /// pass, except once more than [`MAX_DEFERREDS_QUEUED`] were in one pass, when it waits for
    /// the next pass; minievent, which has no deferred-callback queue, uses a one-shot event
    /// activated at once, and after 33 re-runs in a row one with a 1 µs timeout (see Divergences).
    fn inbuf_wm_check(&self, base: &mut Base) {
        let schedule = {
            let mut st = self.0.state.borrow_mut();
            let at_mark = st.wm_read.high != 0
                && st.enabled.contains(EV_READ)
                && self
                    .input_len("bufferevent_inbuf_wm_check")
                    .is_ok_and(|len| len >= st.wm_read.high)
                && !st.freed;
            let first = at_mark && !st.readcb_pending;
            st.readcb_pending |= at_mark;
            if first {
                st.deferred_in_a_row += 1;
            }
            first.then_some(u32::from(st.deferred_in_a_row))
        };
        let Some(in_a_row) = schedule else { return };
        let delay = if in_a_row > MAX_DEFERREDS_QUEUED + 1 {
            self.0.state.borrow_mut().deferred_in_a_row = 0;
            Some(std::time::Duration::from_micros(1))
        } else {
            None
        };
        let bev = self.clone();
        let scheduled = base.once(-1, EV_TIMEOUT, delay, move |base: &mut Base, _, _| {
            bev.0.state.borrow_mut().readcb_pending = false;
            if !bev.is_freed() {
                bev.trigger_read(base);
            }
        });
        self.warn_on_err(scheduled);
    }
    // ANCHOR_END: trigger_read

    /// Calls the read or write callback (picked by `pick`) with `&mut Base` and this bufferevent,
    /// then puts it back — unless the callback freed the bufferevent or set new callbacks — and
    /// notices what it changed in the buffers directly.
    pub(crate) fn run_data_cb(
        &self,
        base: &mut Base,
        pick: fn(&mut Callbacks) -> &mut Option<DataCallback>,
    ) {
        let (cb, generation) = {
            let cbs = &mut self.0.state.borrow_mut().cbs;
            let generation = cbs.generation;
            (pick(cbs).take(), generation)
        };
        let Some(mut cb) = cb else { return };
        // A panic in the callback unwinds through here: the callback is put back first.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| cb(base, self)));
        self.put_back(generation, |cbs| {
            pick(cbs).get_or_insert(cb);
        });
        if let Err(payload) = outcome {
            panic::resume_unwind(payload);
        }
        self.warn_on_err(self.run_buffer_callbacks(base));
    }

    /// Calls the event callback with `what`. libevent: `bufferevent_run_eventcb_()`.
    pub(crate) fn run_eventcb(&self, base: &mut Base, what: BevEvent) {
        let (cb, generation) = {
            let cbs = &mut self.0.state.borrow_mut().cbs;
            (cbs.eventcb.take(), cbs.generation)
        };
        let Some(mut cb) = cb else { return };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| cb(base, self, what)));
        self.put_back(generation, |cbs| {
            cbs.eventcb.get_or_insert(cb);
        });
        if let Err(payload) = outcome {
            panic::resume_unwind(payload);
        }
        self.warn_on_err(self.run_buffer_callbacks(base));
    }

    /// The input's length, or the error of a buffer in use by an enclosing closure.
    fn input_len(&self, call: &'static str) -> Result<usize> {
        self.0.input.with_call(call, |buf| buf.len())
    }

    /// Puts a callback back after it ran, if nothing replaced the callbacks meanwhile.
    fn put_back(&self, generation: u32, restore: impl FnOnce(&mut Callbacks)) {
        let mut st = self.0.state.borrow_mut();
        if !st.freed && st.cbs.generation == generation {
            restore(&mut st.cbs);
        }
    }

    /// Reports an error that has no caller to go to (inside the loop) the way libevent logs:
    /// `[warn] ...` on stderr.
    #[inline]
    pub(crate) fn warn_on_err(&self, result: Result<()>) {
        if let Err(e) = result {
            self.warn(e);
        }
    }

    /// The body of [`warn_on_err`](Self::warn_on_err), out of the way of the path that has no
    /// error.
    #[cold]
    fn warn(&self, e: Error) {
        crate::log::warn(&format!("bufferevent on fd {}: {e}", self.0.fd));
    }

    // ANCHOR: free
    /// Frees the bufferevent: clears its callbacks, deletes both events, closes the socket if it
    /// was made with `BEV_OPT_CLOSE_ON_FREE`, and drops both buffers — *with whatever the output
    /// still holds*: to send everything first, wait until the output is empty (write callback
    /// with low-water mark 0). The handle stays valid but every later call fails.
    /// libevent: `bufferevent_free()` → `bufferevent_decref_and_unlock_()` → finalize →
    /// `bufferevent_finalize_cb_()`: `be_socket_destruct()`, then `evbuffer_free()` of both
    /// buffers (libevent finalizes a moment later, in the same loop pass).
    pub fn free(&self, base: &mut Base) -> Result<()> {
        let callbacks = {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("bufferevent_free"));
            }
            st.freed = true;
            std::mem::take(&mut st.cbs)
        };
        // Dropped once the state is no longer borrowed (see `setcb`).
        drop(callbacks);
        let del_read = base.event_free(self.ev_read());
        let del_write = base.event_free(self.ev_write());
        self.be_socket_destruct();
        for buf in [&self.0.input, &self.0.output] {
            // A buffer in use by an enclosing closure is emptied by nobody: it goes with the
            // last handle.
            let _ = buf.with_call("bufferevent_free", |buf| *buf = Evbuffer::new());
        }
        del_read.and(del_write)
    }
    // ANCHOR_END: free
}

bitflags::bitflags! {
    /// Options of [`Bufferevent::trigger`] and [`Bufferevent::trigger_event`].
    /// libevent: `enum bufferevent_trigger_options`.
    #[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
    pub struct BevTrigger: u32 {
        /// Run the callback whatever the watermarks say. libevent: `BEV_TRIG_IGNORE_WATERMARKS`.
        const IGNORE_WATERMARKS = 0x10000;
    }
}

/// What [`Bufferevent::flush`] is asked to do. libevent: `enum bufferevent_flush_mode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BevFlushMode {
    /// libevent: `BEV_NORMAL`.
    Normal,
    /// libevent: `BEV_FLUSH`.
    Flush,
    /// libevent: `BEV_FINISHED`.
    Finished,
}

/// Running callbacks by hand, flushing, and the per-callback read and write limits.
impl Bufferevent {
    /// Runs the read callback (`EV_READ`) if the input holds at least the read low-water mark,
    /// then the write callback (`EV_WRITE`) if the output is down to the write low-water mark —
    /// both at once with `EV_READ | EV_WRITE`, whatever the marks say with
    /// [`BevTrigger::IGNORE_WATERMARKS`]. After the read callback, a read high-water mark the
    /// input still reaches schedules another run, as after a read. libevent:
    /// `bufferevent_trigger()` → `bufferevent_trigger_nolock_()` (libevent's
    /// `BEV_TRIG_DEFER_CALLBACKS` is not built: the callbacks run now).
    pub fn trigger(&self, base: &mut Base, iotype: Ev, options: BevTrigger) -> Result<()> {
        const CALL: &str = "bufferevent_trigger";
        let (wm_read, wm_write, is_freed) = {
            let st = self.0.state.borrow();
            (st.wm_read, st.wm_write, st.freed)
        };
        if is_freed {
            return Err(freed(CALL));
        }
        let ignore = options.contains(BevTrigger::IGNORE_WATERMARKS);
        if iotype.contains(EV_READ) && (ignore || self.input_len(CALL)? >= wm_read.low) {
            self.run_data_cb(base, |cbs| &mut cbs.readcb);
            self.inbuf_wm_check(base);
        }
        let output_len = self.0.output.with_call(CALL, |buf| buf.len())?;
        if iotype.contains(EV_WRITE) && (ignore || output_len <= wm_write.low) {
            self.run_data_cb(base, |cbs| &mut cbs.writecb);
        }
        Ok(())
    }

    /// Runs the event callback with `what`, now. libevent: `bufferevent_trigger_event()` →
    /// `bufferevent_run_eventcb_()` (no option changes anything here: see [`Self::trigger`]).
    pub fn trigger_event(
        &self,
        base: &mut Base,
        what: BevEvent,
        _options: BevTrigger,
    ) -> Result<()> {
        if self.is_freed() {
            return Err(freed("bufferevent_trigger_event"));
        }
        self.run_eventcb(base, what);
        Ok(())
    }

    /// Asks the bufferevent to push out or pull in what it can. A socket bufferevent has
    /// nothing to flush (its buffers are written and read by its events): it returns 0, the
    /// count of bytes flushed, and changes nothing. libevent: `bufferevent_flush()` →
    /// `be_socket_flush()`.
    pub fn flush(&self, _iotype: Ev, _mode: BevFlushMode) -> Result<usize> {
        if self.is_freed() {
            return Err(freed("bufferevent_flush"));
        }
        Ok(0)
    }

    /// Sets the most one read callback reads from the socket; 0 (or more than `isize::MAX`)
    /// restores [`MAX_SINGLE_READ_DEFAULT`]. libevent: `bufferevent_set_max_single_read()`.
    pub fn set_max_single_read(&self, size: usize) {
        self.0.state.borrow_mut().max_single_read = single_limit(size, MAX_SINGLE_READ_DEFAULT);
    }

    /// Sets the most one write callback writes to the socket; 0 (or more than `isize::MAX`)
    /// restores [`MAX_SINGLE_WRITE_DEFAULT`]. libevent: `bufferevent_set_max_single_write()`.
    pub fn set_max_single_write(&self, size: usize) {
        self.0.state.borrow_mut().max_single_write = single_limit(size, MAX_SINGLE_WRITE_DEFAULT);
    }

    /// The most one read callback reads. libevent: `bufferevent_get_max_single_read()`.
    pub fn get_max_single_read(&self) -> usize {
        self.0.state.borrow().max_single_read
    }

    /// The most one write callback writes. libevent: `bufferevent_get_max_single_write()`.
    pub fn get_max_single_write(&self) -> usize {
        self.0.state.borrow().max_single_write
    }
}

/// `size`, or `default` for 0 or a size no `ssize_t` holds. libevent: the test in
/// `bufferevent_set_max_single_read()` / `_write()`.
fn single_limit(size: usize, default: usize) -> usize {
    if size == 0 || size > isize::MAX as usize {
        default
    } else {
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_loop::LoopFlags;
    use crate::util::{read, socketpair, write};
    use std::cell::{Cell, RefCell};

    /// A bufferevent on one end of a socketpair; the other end is the test's.
    fn setup() -> (Base, Bufferevent, RawFd) {
        setup_with(BEV_OPT_CLOSE_ON_FREE)
    }

    /// [`setup`], the bufferevent made with `options`.
    fn setup_with(options: BevOptions) -> (Base, Bufferevent, RawFd) {
        let mut base = Base::new().expect("base");
        let [a, b] = socketpair().expect("socketpair");
        crate::util::make_socket_nonblocking(a).expect("nonblocking");
        crate::util::make_socket_nonblocking(b).expect("nonblocking");
        // SAFETY: `a` is fresh from socketpair; the bufferevent takes it.
        let a = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(a) };
        let bev = Bufferevent::socket_new_owned(&mut base, a, options).expect("bev");
        (base, bev, b)
    }

    fn pending(base: &Base, bev: &Bufferevent) -> (bool, bool) {
        let r = !base
            .event_pending(bev.ev_read(), EV_READ)
            .expect("ev")
            .is_empty();
        let w = !base
            .event_pending(bev.ev_write(), EV_WRITE)
            .expect("ev")
            .is_empty();
        (r, w)
    }

    fn drain_peer(fd: RawFd) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = read(fd, &mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    }

    #[test]
    fn unknown_options_are_refused() {
        let mut base = Base::new().expect("base");
        let err = Bufferevent::socket_new(&mut base, 0, BevOptions::from_bits_retain(0x04))
            .expect_err("refused");
        assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    }

    #[test]
    fn writing_adds_the_write_event_and_an_empty_output_deletes_it() {
        let (mut base, bev, peer) = setup();
        assert_eq!(bev.get_enabled(), EV_WRITE);
        assert_eq!(pending(&base, &bev), (false, false));
        bev.write(&mut base, b"hello").expect("write");
        assert_eq!(pending(&base, &bev), (false, true));
        let wrote = Rc::new(Cell::new(0));
        let w = Rc::clone(&wrote);
        bev.setcb(None, Some(Box::new(move |_, _| w.set(w.get() + 1))), None);
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(pending(&base, &bev), (false, false));
        assert_eq!(
            wrote.get(),
            1,
            "the write callback runs when the output is drained"
        );
        assert_eq!(drain_peer(peer), b"hello");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn read_callback_gets_the_input_and_echo_moves_it_to_the_output() {
        let (mut base, bev, peer) = setup();
        bev.setcb(
            Some(Box::new(|base, bev| {
                let input = bev.get_input();
                bev.write_buffer(base, &input).expect("write_buffer");
            })),
            None,
            None,
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        write(peer, b"ping").expect("write");
        base.run(LoopFlags::ONCE).expect("read pass");
        assert!(bev.with_input(|b| b.is_empty()).expect("input"));
        assert_eq!(bev.with_output(|b| b.len()).expect("output"), 4);
        assert_eq!(pending(&base, &bev), (true, true));
        base.run(LoopFlags::ONCE).expect("write pass");
        assert_eq!(pending(&base, &bev), (true, false));
        assert_eq!(drain_peer(peer), b"ping");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn eof_disables_reading_and_reaches_the_event_callback() {
        let (mut base, bev, peer) = setup();
        let seen = Rc::new(Cell::new(BevEvent::empty()));
        let s = Rc::clone(&seen);
        bev.setcb(None, None, Some(Box::new(move |_, _, what| s.set(what))));
        bev.enable(&mut base, EV_READ).expect("enable");
        crate::sys::close_own(peer).expect("close");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(seen.get(), BEV_EVENT_READING | BEV_EVENT_EOF);
        assert_eq!(bev.get_enabled(), EV_WRITE);
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
    }

    #[test]
    fn disable_deletes_the_events_and_getwatermark_reads_the_marks() {
        let (mut base, bev, peer) = setup();
        bev.enable(&mut base, EV_READ).expect("enable");
        bev.write(&mut base, b"x").expect("write");
        assert_eq!(pending(&base, &bev), (true, true));
        bev.setwatermark(&mut base, EV_READ, 2, 10)
            .expect("setwatermark");
        assert_eq!(
            bev.getwatermark(EV_READ),
            Some(Watermark { low: 2, high: 10 })
        );
        assert_eq!(bev.getwatermark(EV_WRITE), Some(Watermark::default()));
        assert_eq!(bev.getwatermark(EV_READ | EV_WRITE), None);
        bev.disable(&mut base, EV_READ | EV_WRITE).expect("disable");
        assert_eq!(bev.get_enabled(), Ev::empty());
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn read_buffer_moves_the_input_and_get_output_shares_the_output() {
        let (mut base, bev, peer) = setup();
        bev.enable(&mut base, EV_READ).expect("enable");
        write(peer, b"abc").expect("write");
        base.run(LoopFlags::ONCE).expect("read pass");
        let got = EvbufferRef::new();
        bev.read_buffer(&mut base, &got).expect("read_buffer");
        assert_eq!(got.with(|b| b.to_vec()).expect("got"), b"abc");
        assert!(bev.with_input(|b| b.is_empty()).expect("input"));
        let output = bev.get_output();
        output.with(|b| b.add(b"out")).expect("output");
        assert_eq!(bev.with_output(|b| b.to_vec()).expect("output"), b"out");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn the_high_water_mark_stops_reading_and_draining_resumes_it() {
        let (mut base, bev, peer) = setup();
        bev.setwatermark(&mut base, EV_READ, 0, 10)
            .expect("watermark");
        bev.enable(&mut base, EV_READ).expect("enable");
        let calls = Rc::new(Cell::new(0));
        let c = Rc::clone(&calls);
        bev.setcb(
            Some(Box::new(move |base, bev| {
                c.set(c.get() + 1);
                if c.get() == 3 {
                    // Only now drain some: below the mark, reading resumes at once.
                    let mut out = [0u8; 4];
                    assert_eq!(bev.read(base, &mut out).expect("read"), 4);
                    assert!(
                        !base
                            .event_pending(bev.ev_read(), EV_READ)
                            .expect("ev")
                            .is_empty()
                    );
                }
            })),
            None,
            None,
        );
        write(peer, b"0123456789abcdef").expect("write");
        base.run(LoopFlags::ONCE).expect("loop");
        // Up to the mark was read; the callback, which left the input at the mark, ran again
        // (deferred) in the same loop pass until it drained some.
        assert_eq!(calls.get(), 3);
        assert_eq!(bev.with_input(|b| b.len()).expect("input"), 6);
        assert_eq!(pending(&base, &bev), (true, false));
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(
            bev.with_input(|b| b.len()).expect("input"),
            10,
            "read up to the mark again"
        );
        assert_eq!(pending(&base, &bev), (false, false), "and suspended");
        assert!(bev.get_enabled().contains(EV_READ), "though still enabled");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn a_read_callback_that_never_drains_does_not_starve_the_loop() {
        let (mut base, bev, peer) = setup();
        bev.setwatermark(&mut base, EV_READ, 0, 4)
            .expect("watermark");
        bev.enable(&mut base, EV_READ).expect("enable");
        let calls = Rc::new(Cell::new(0));
        let c = Rc::clone(&calls);
        bev.setcb(Some(Box::new(move |_, _| c.set(c.get() + 1))), None, None);
        write(peer, b"0123456789").expect("write");
        base.run(LoopFlags::ONCE).expect("loop");
        // The read, then 33 deferred re-runs in the pass; the 34th waits for a later pass.
        assert_eq!(calls.get(), 1 + MAX_DEFERREDS_QUEUED as usize + 1);
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn free_closes_the_socket_and_refuses_later_calls() {
        let (mut base, bev, peer) = setup();
        bev.write(&mut base, b"lost").expect("write");
        let fd = bev.getfd();
        bev.free(&mut base).expect("free");
        // BEV_OPT_CLOSE_ON_FREE: the fd is closed — and the queued output is gone.
        assert!(crate::sys::close_own(fd).is_err());
        assert!(bev.write(&mut base, b"x").is_err());
        assert!(bev.free(&mut base).is_err());
        assert_eq!(drain_peer(peer), b"");
        let _ = crate::sys::close_own(peer);
    }

    /// Divergence: libevent runs an evbuffer's callbacks inside every evbuffer call; minievent
    /// notices changes made through get_input()/get_output() when the callback returns (or at
    /// the next bufferevent_write/_write_buffer/_read/_read_buffer).
    #[test]
    fn direct_changes_to_the_output_are_noticed_when_the_callback_returns() {
        let (mut base, bev, peer) = setup();
        bev.with_output(|b| b.add(b"direct")).expect("output");
        assert_eq!(
            pending(&base, &bev),
            (false, false),
            "not yet: no bufferevent call ran"
        );
        bev.write(&mut base, b"").expect("write");
        assert_eq!(pending(&base, &bev), (false, true));
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(drain_peer(peer), b"direct");
        // Inside a callback: noticed as soon as the callback returns.
        let seen_inside = Rc::new(Cell::new((true, true)));
        let s = Rc::clone(&seen_inside);
        bev.setcb(
            Some(Box::new(move |base, bev| {
                bev.with_input(|input| bev.with_output(|output| output.add_buffer(input)))
                    .expect("input")
                    .expect("output");
                s.set(pending(base, bev));
            })),
            None,
            None,
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        write(peer, b"echo").expect("write");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(
            seen_inside.get(),
            (true, false),
            "inside the callback: not yet"
        );
        assert_eq!(pending(&base, &bev), (true, true), "after it: writing");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    /// Divergence: libevent freezes the end of a bufferevent's input and the front of its output
    /// (`evbuffer_freeze`), so adding to the input or draining the output fails there; minievent
    /// does not freeze them.
    #[test]
    fn the_input_and_output_are_not_frozen() {
        let (mut base, bev, peer) = setup();
        bev.with_input(|b| b.add(b"added to the input"))
            .expect("input");
        assert_eq!(bev.with_input(|b| b.len()).expect("input"), 18);
        bev.write(&mut base, b"0123456789").expect("write");
        bev.with_output(|b| b.drain(4)).expect("output");
        assert_eq!(bev.with_output(|b| b.to_vec()).expect("output"), b"456789");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn a_callback_may_free_its_bufferevent() {
        let (mut base, bev, peer) = setup();
        bev.setcb(
            None,
            None,
            Some(Box::new(|base, bev, _| bev.free(base).expect("free"))),
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        crate::sys::close_own(peer).expect("close");
        assert_eq!(base.dispatch().expect("loop"), crate::LoopExit::NoEvents);
        assert!(bev.is_freed());
    }

    /// bufferevent_sock.c:bufferevent_writecb → bufferevent_trigger_nolock_(EV_WRITE): the write
    /// callback runs once the output is down to the write low-water mark, not before.
    #[test]
    fn the_write_low_water_mark_decides_when_the_write_callback_runs() {
        let (mut base, bev, peer) = setup();
        bev.setwatermark(&mut base, EV_WRITE, 40_000, 0)
            .expect("watermark");
        assert_eq!(bev.getwatermark(EV_WRITE).expect("write").low, 40_000);
        let calls = Rc::new(RefCell::new(Vec::new()));
        let c = Rc::clone(&calls);
        bev.setcb(
            None,
            Some(Box::new(move |_, bev| {
                c.borrow_mut()
                    .push(bev.with_output(|b| b.len()).expect("output"))
            })),
            None,
        );
        bev.write(&mut base, &vec![7u8; 100_000]).expect("write");
        let mut lens = Vec::new();
        while bev.with_output(|b| b.len()).expect("output") > 0 {
            base.run(LoopFlags::ONCE).expect("loop");
            lens.push(bev.with_output(|b| b.len()).expect("output"));
            drain_peer(peer);
        }
        // 16384 bytes per write callback (MAX_SINGLE_WRITE_DEFAULT).
        assert_eq!(lens, [83616, 67232, 50848, 34464, 18080, 1696, 0]);
        assert_eq!(*calls.borrow(), [34464, 18080, 1696, 0]);
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    /// The peer of an echo server sends without ever reading. A naive echo (every read moved to
    /// the output) makes the output grow with everything the peer sends; the back-pressure
    /// pattern — stop reading while the output is above a mark, resume from the write callback
    /// once it drained to the write low-water mark — keeps it bounded, and the kernel then
    /// stops the peer.
    #[test]
    fn a_peer_that_never_reads_costs_bounded_memory_with_back_pressure() {
        const HIGH: usize = 16384;
        fn run(back_pressure: bool, options: BevOptions) -> usize {
            let (mut base, bev, peer) = setup_with(options);
            let flood = vec![b'x'; 4096];
            if back_pressure {
                bev.setwatermark(&mut base, EV_WRITE, HIGH / 2, 0)
                    .expect("watermark");
                bev.setwatermark(&mut base, EV_READ, 0, HIGH)
                    .expect("watermark");
            }
            bev.setcb(
                Some(Box::new(move |base, bev| {
                    let input = bev.get_input();
                    bev.write_buffer(base, &input).expect("echo");
                    if back_pressure && bev.with_output(|b| b.len()).expect("output") >= HIGH {
                        bev.disable(base, EV_READ).expect("pause");
                    }
                })),
                Some(Box::new(move |base, bev| {
                    if back_pressure {
                        bev.enable(base, EV_READ).expect("resume");
                    }
                })),
                None,
            );
            bev.enable(&mut base, EV_READ).expect("enable");
            let mut most = 0;
            for _ in 0..400 {
                // The peer sends as much as the kernel takes, and never reads.
                while write(peer, &flood).is_ok() {}
                base.run(LoopFlags::NONBLOCK).expect("loop");
                let len = bev.with_output(|b| b.len()).expect("output")
                    + bev.with_input(|b| b.len()).expect("input");
                most = most.max(len);
            }
            bev.free(&mut base).expect("free");
            let _ = crate::sys::close_own(peer);
            most
        }
        // BEV_OPT_MINIEVENT_EAGER writes inline, and holds to the marks just the same.
        for options in [BEV_OPT_CLOSE_ON_FREE, BEV_OPT_MINIEVENT_EAGER] {
            let bounded = run(true, options);
            // One read (at most EVBUFFER_MAX_READ) past the mark.
            assert!(
                bounded <= HIGH + 4096,
                "{options:?} with back-pressure: {bounded} bytes"
            );
            let naive = run(false, options);
            assert!(naive > 10 * HIGH, "{options:?} naive echo: {naive} bytes");
        }
    }

    /// bufferevent_sock.c:bufferevent_readcb / _writecb with EV_TIMEOUT: the side is disabled
    /// and the event callback told.
    #[test]
    fn an_idle_peer_times_out_reading() {
        let (mut base, bev, peer) = setup();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = Rc::clone(&seen);
        bev.setcb(
            Some(Box::new(|base, bev| {
                let input = bev.get_input();
                bev.write_buffer(base, &input).expect("echo");
            })),
            None,
            Some(Box::new(move |_, _, what| s.borrow_mut().push(what))),
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        bev.set_timeouts(&mut base, Some(Duration::from_millis(400)), None)
            .expect("timeouts");
        // Activity re-arms the timeout: three writes 50 ms apart keep it alive (the margin is
        // wide for loaded machines).
        let start = std::time::Instant::now();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(50));
            write(peer, b"x").expect("write");
            base.run(LoopFlags::ONCE).expect("loop");
        }
        assert!(seen.borrow().is_empty());
        base.dispatch().expect("loop");
        assert_eq!(*seen.borrow(), [BEV_EVENT_READING | BEV_EVENT_TIMEOUT]);
        assert_eq!(drain_peer(peer), b"xxx");
        assert!(start.elapsed() >= Duration::from_millis(550));
        assert_eq!(bev.get_enabled(), EV_WRITE, "reading disabled");
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn a_peer_that_stops_reading_times_out_writing() {
        let (mut base, bev, peer) = setup();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = Rc::clone(&seen);
        bev.setcb(
            None,
            None,
            Some(Box::new(move |_, _, what| s.borrow_mut().push(what))),
        );
        bev.set_timeouts(&mut base, None, Some(Duration::from_millis(50)))
            .expect("timeouts");
        // More than the socketpair takes: the write event stays pending and nothing moves.
        bev.write(&mut base, &vec![0u8; 4 << 20]).expect("write");
        base.dispatch().expect("loop");
        assert_eq!(*seen.borrow(), [BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT]);
        assert_eq!(bev.get_enabled(), Ev::empty(), "writing disabled");
        assert!(bev.with_output(|b| b.len()).expect("output") > 0);
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn set_timeouts_applies_to_pending_events_and_none_removes_the_timer() {
        let (mut base, bev, peer) = setup();
        bev.enable(&mut base, EV_READ).expect("enable");
        bev.set_timeouts(&mut base, Some(Duration::from_secs(5)), None)
            .expect("timeouts");
        assert!(
            base.event_pending_deadline(bev.ev_read())
                .expect("ev")
                .is_some()
        );
        bev.set_timeouts(&mut base, None, None).expect("timeouts");
        assert!(
            base.event_pending_deadline(bev.ev_read())
                .expect("ev")
                .is_none()
        );
        assert_eq!(pending(&base, &bev), (true, false), "still reading");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    fn loopback(port: u16) -> std::net::SocketAddrV4 {
        std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port)
    }

    /// bufferevent_sock.c:bufferevent_socket_connect and the connecting path of
    /// bufferevent_writecb: CONNECTED, then what was written meanwhile goes out.
    #[test]
    fn socket_connect_reports_connected_and_sends_what_was_queued() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("addr").port();
        let mut base = Base::new().expect("base");
        let bev = Bufferevent::socket_connect(&mut base, loopback(port)).expect("connect");
        let seen = Rc::new(RefCell::new(Vec::new()));
        let (s, r) = (Rc::clone(&seen), Rc::clone(&seen));
        bev.setcb(
            Some(Box::new(move |_, bev| {
                let line = bev.with_input(|b| b.to_vec()).expect("input");
                r.borrow_mut().push(String::from_utf8(line).expect("utf-8"));
            })),
            None,
            Some(Box::new(move |base, bev, what| {
                s.borrow_mut().push(format!("{what:?}"));
                bev.enable(base, EV_READ).expect("enable");
            })),
        );
        bev.write(&mut base, b"hello")
            .expect("queued before the connect ends");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(*seen.borrow(), ["BEV_EVENT_CONNECTED"]);
        let (mut conn, _) = listener.accept().expect("accept");
        let mut got = [0u8; 5];
        conn.read_exact(&mut got).expect("read");
        assert_eq!(&got, b"hello");
        conn.write_all(b"HELLO").expect("write");
        while seen.borrow().len() < 2 {
            base.run(LoopFlags::ONCE).expect("loop");
        }
        assert_eq!(seen.borrow()[1], "HELLO");
        bev.free(&mut base).expect("free");
    }

    /// bufferevent_sock.c:be_socket_disable keeps the write event of a connect in progress:
    /// disabling writing then still gets CONNECTED, and only after it is the event deleted.
    #[test]
    fn disabling_writing_during_a_connect_still_reports_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("addr").port();
        let mut base = Base::new().expect("base");
        let bev = Bufferevent::socket_connect(&mut base, loopback(port)).expect("connect");
        bev.disable(&mut base, EV_WRITE).expect("disable");
        assert_eq!(
            pending(&base, &bev),
            (false, true),
            "the connect's write event stays"
        );
        let seen = Rc::new(Cell::new(BevEvent::empty()));
        let s = Rc::clone(&seen);
        bev.setcb(None, None, Some(Box::new(move |_, _, what| s.set(what))));
        base.dispatch().expect("loop");
        assert_eq!(seen.get(), BEV_EVENT_CONNECTED);
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
    }

    #[test]
    fn socket_connect_to_a_closed_port_is_an_error_event() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
            l.local_addr().expect("addr").port()
        };
        let mut base = Base::new().expect("base");
        let bev = Bufferevent::socket_connect(&mut base, loopback(port)).expect("connect");
        let seen = Rc::new(Cell::new(BevEvent::empty()));
        let s = Rc::clone(&seen);
        bev.setcb(None, None, Some(Box::new(move |_, _, what| s.set(what))));
        base.dispatch().expect("loop");
        assert_eq!(seen.get(), BEV_EVENT_ERROR);
        let err = bev.socket_error().expect("an errno");
        assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
    }

    /// An echo read callback: the input moves to the output.
    fn echo() -> Option<DataCallback> {
        Some(Box::new(|base, bev| {
            let input = bev.get_input();
            bev.write_buffer(base, &input).expect("write_buffer");
        }))
    }

    #[test]
    fn eager_writes_the_echo_in_the_read_pass_without_the_write_event() {
        let (mut base, bev, peer) = setup_with(BEV_OPT_MINIEVENT_EAGER);
        let writes = Rc::new(Cell::new(0));
        let w = Rc::clone(&writes);
        bev.setcb(echo(), Some(Box::new(move |_, _| w.set(w.get() + 1))), None);
        bev.enable(&mut base, EV_READ).expect("enable");
        for message in [&b"ping"[..], b"pong"] {
            write(peer, message).expect("write");
            base.run(LoopFlags::ONCE).expect("one pass");
            // Written before the pass ended; the write event was never added.
            assert_eq!(drain_peer(peer), message);
            assert!(bev.with_output(|b| b.is_empty()).expect("output"));
            assert_eq!(pending(&base, &bev), (true, false));
        }
        assert_eq!(writes.get(), 2, "the write callback ran after each write");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn eager_leaves_what_the_socket_does_not_take_to_the_write_event() {
        let (mut base, bev, peer) = setup_with(BEV_OPT_MINIEVENT_EAGER);
        bev.setcb(echo(), None, None);
        bev.enable(&mut base, EV_READ).expect("enable");
        let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        let (mut sent, mut got) = (0, Vec::new());
        let mut backed_up = false;
        for _ in 0..100_000 {
            if got.len() == data.len() {
                break;
            }
            if let Ok(n) = write(peer, &data[sent..data.len().min(sent + 65536)]) {
                sent += n;
            }
            base.run(LoopFlags::NONBLOCK).expect("loop");
            let queued = bev.with_output(|b| b.len()).expect("output");
            // The peer reads only once the socket took less than the echo: the rest waits in
            // the output for the write event (libevent's path from there on).
            if pending(&base, &bev).1 {
                assert!(queued > 0, "the write event waits for queued bytes only");
                backed_up = true;
            }
            if backed_up {
                let mut buf = [0u8; 65536];
                if let Ok(n) = read(peer, &mut buf) {
                    got.extend_from_slice(&buf[..n]);
                }
            }
        }
        assert!(backed_up, "the socket never refused part of an echo");
        assert_eq!(got.len(), data.len());
        assert!(got == data, "every byte, in order");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    #[test]
    fn eager_echoes_a_half_closed_peer_then_reports_end_of_file() {
        let (mut base, bev, peer) = setup_with(BEV_OPT_MINIEVENT_EAGER);
        let events = Rc::new(RefCell::new(Vec::new()));
        let e = Rc::clone(&events);
        bev.setcb(
            echo(),
            None,
            Some(Box::new(move |_, bev, what| {
                let queued = bev.with_output(|b| b.len()).expect("output");
                e.borrow_mut().push((what, queued));
            })),
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        write(peer, b"last words").expect("write");
        // SAFETY: shutdown takes only integers.
        assert_eq!(unsafe { libc::shutdown(peer, libc::SHUT_WR) }, 0);
        for _ in 0..3 {
            base.run(LoopFlags::NONBLOCK).expect("loop");
        }
        assert_eq!(drain_peer(peer), b"last words");
        assert_eq!(*events.borrow(), [(BEV_EVENT_READING | BEV_EVENT_EOF, 0)]);
        assert_eq!(
            bev.get_enabled(),
            EV_WRITE,
            "reading stopped at end of file"
        );
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    /// bufferevent_ratelim.c:bufferevent_set_max_single_read / _write: one callback reads and
    /// writes at most that much; 0 restores the default.
    #[test]
    fn max_single_read_and_write_cap_one_callback() {
        let (mut base, bev, peer) = setup();
        assert_eq!(bev.get_max_single_read(), MAX_SINGLE_READ_DEFAULT);
        bev.set_max_single_read(5);
        bev.set_max_single_write(3);
        assert_eq!(
            (bev.get_max_single_read(), bev.get_max_single_write()),
            (5, 3)
        );
        bev.enable(&mut base, EV_READ).expect("enable");
        write(peer, b"0123456789abcdef").expect("write");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(bev.with_input(|b| b.to_vec()).expect("input"), b"01234");
        bev.write(&mut base, b"abcdef").expect("write");
        bev.disable(&mut base, EV_READ).expect("disable");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(drain_peer(peer), b"abc");
        bev.set_max_single_read(0);
        bev.set_max_single_write(0);
        assert_eq!(bev.get_max_single_read(), MAX_SINGLE_READ_DEFAULT);
        assert_eq!(bev.get_max_single_write(), MAX_SINGLE_WRITE_DEFAULT);
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close_own(peer);
    }

    /// bufferevent-internal.h:bufferevent_trigger_nolock_: the read callback runs when the input
    /// reaches the read low-water mark, the write callback when the output is down to the write
    /// one, either whatever the marks say with IGNORE_WATERMARKS.
    #[test]
    fn trigger_runs_the_callbacks_the_watermarks_allow() {
        let (mut base, bev, peer) = setup();
        let runs = Rc::new(RefCell::new(Vec::new()));
        let (r, w) = (runs.clone(), runs.clone());
        bev.setcb(
            Some(Box::new(move |_, _| r.borrow_mut().push("read"))),
            Some(Box::new(move |_, _| w.borrow_mut().push("write"))),
            None,
        );
        bev.trigger(&mut base, EV_READ | EV_WRITE, BevTrigger::empty())
            .expect("trigger");
        assert_eq!(*runs.borrow(), ["read", "write"], "0 >= 0 and 0 <= 0");
        runs.borrow_mut().clear();
        bev.setwatermark(&mut base, EV_READ, 4, 0).expect("wm");
        bev.with_output(|out| out.add(b"queued")).expect("output");
        bev.trigger(&mut base, EV_READ | EV_WRITE, BevTrigger::empty())
            .expect("trigger");
        assert!(runs.borrow().is_empty(), "{:?}", runs.borrow());
        bev.trigger(&mut base, EV_READ, BevTrigger::IGNORE_WATERMARKS)
            .expect("trigger");
        bev.trigger(&mut base, EV_WRITE, BevTrigger::IGNORE_WATERMARKS)
            .expect("trigger");
        assert_eq!(*runs.borrow(), ["read", "write"]);
        bev.free(&mut base).expect("free");
        assert!(
            bev.trigger(&mut base, EV_READ, BevTrigger::empty())
                .is_err()
        );
        let _ = crate::sys::close_own(peer);
    }

    /// bufferevent.c:bufferevent_trigger_event runs the event callback with what it is given;
    /// bufferevent_sock.c:be_socket_flush has nothing to do: 0, the output untouched.
    #[test]
    fn trigger_event_runs_the_event_callback_and_flush_does_nothing() {
        let (mut base, bev, peer) = setup();
        let seen = Rc::new(Cell::new(BevEvent::empty()));
        let s = seen.clone();
        bev.setcb(None, None, Some(Box::new(move |_, _, what| s.set(what))));
        bev.trigger_event(
            &mut base,
            BEV_EVENT_EOF | BEV_EVENT_READING,
            BevTrigger::empty(),
        )
        .expect("trigger_event");
        assert_eq!(seen.get(), BEV_EVENT_EOF | BEV_EVENT_READING);
        bev.write(&mut base, b"pending").expect("write");
        assert_eq!(bev.flush(EV_WRITE, BevFlushMode::Flush).expect("flush"), 0);
        assert_eq!(bev.with_output(|b| b.len()).expect("output"), 7);
        bev.free(&mut base).expect("free");
        assert!(bev.flush(EV_WRITE, BevFlushMode::Finished).is_err());
        assert!(
            bev.trigger_event(&mut base, BEV_EVENT_EOF, BevTrigger::empty())
                .is_err()
        );
        let _ = crate::sys::close_own(peer);
    }

    /// bufferevent_sock.c:bufferevent_priority_set gives both events the priority; out of range
    /// is refused.
    #[test]
    fn priority_set_gives_both_events_the_priority() {
        let mut base = Base::new().expect("base");
        base.priority_init(3).expect("priorities");
        let [a, b] = socketpair().expect("socketpair");
        let bev = Bufferevent::socket_new(&mut base, a, BEV_OPT_NONE).expect("bev");
        assert_eq!(bev.get_priority(&base).expect("priority"), 1);
        bev.priority_set(&mut base, 0).expect("priority_set");
        assert_eq!(bev.get_priority(&base).expect("priority"), 0);
        assert_eq!(base.event_get_priority(bev.ev_write()).expect("ev"), 0);
        assert!(bev.priority_set(&mut base, 3).is_err());
        assert_eq!(bev.get_priority(&base).expect("priority"), 0);
        bev.free(&mut base).expect("free");
        assert!(bev.priority_set(&mut base, 1).is_err());
        for fd in [a, b] {
            let _ = crate::sys::close_own(fd);
        }
    }
}
