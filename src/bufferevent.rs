//! The bufferevent: a socket with an input and an output [`Evbuffer`], read and written by the
//! loop on its own. libevent: bufferevent.c (`bufferevent_enable`, `_disable`, `_setcb`,
//! `_setwatermark`, `_write`, `_write_buffer`, `_read`, `_free`, the watermark and suspend logic),
//! bufferevent_sock.c (`bufferevent_socket_new`, `bufferevent_readcb`, `bufferevent_writecb`,
//! `be_socket_enable`, `be_socket_disable`, `be_socket_destruct`, `bufferevent_socket_outbuf_cb`)
//! and include/event2/bufferevent.h (`BEV_EVENT_*`, `BEV_OPT_*`).
//!
//! A socket bufferevent owns two events on its fd, both `EV_PERSIST`: a read event and a write
//! event. Reading: when the fd is readable, `evbuffer_read` fills the input (FIONREAD, readv) and
//! the user's read callback runs. Writing: the user only adds to the output; the output's
//! callback then adds the write event, the loop `writev`s the output when the fd is writable, and
//! the write event is deleted again as soon as the output is empty. End of file and errors stop
//! the reading or writing side and reach the user's event callback.
//!
//! Callbacks get `&mut Base` and the [`Bufferevent`] itself, so they can write, enable, disable
//! or free it, as libevent's get the `struct bufferevent *`.

use crate::base::Base;
use crate::buffer::Evbuffer;
use crate::error::{Error, Result};
use crate::event::{EV_READ, EV_TIMEOUT, EV_WRITE, Ev, EventId};
use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::os::fd::RawFd;
use std::rc::Rc;

// ANCHOR: bev_event
/// What happened, as the event callback is told. libevent: the `short what` of a
/// `bufferevent_event_cb` (`BEV_EVENT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct BevEvent(u16);

/// It happened while reading. libevent: `BEV_EVENT_READING`.
pub const BEV_EVENT_READING: BevEvent = BevEvent(0x01);
/// It happened while writing. libevent: `BEV_EVENT_WRITING`.
pub const BEV_EVENT_WRITING: BevEvent = BevEvent(0x02);
/// End of file: the peer will send nothing more. libevent: `BEV_EVENT_EOF`.
pub const BEV_EVENT_EOF: BevEvent = BevEvent(0x10);
/// An unrecoverable error; [`Bufferevent::socket_error`] says which. libevent: `BEV_EVENT_ERROR`.
pub const BEV_EVENT_ERROR: BevEvent = BevEvent(0x20);
/// A timeout expired (minievent sets none yet). libevent: `BEV_EVENT_TIMEOUT`.
pub const BEV_EVENT_TIMEOUT: BevEvent = BevEvent(0x40);
/// A connect finished (minievent does not connect yet). libevent: `BEV_EVENT_CONNECTED`.
pub const BEV_EVENT_CONNECTED: BevEvent = BevEvent(0x80);
// ANCHOR_END: bev_event

impl BevEvent {
    /// The raw bits, as libevent's `short what`.
    pub const fn bits(self) -> u16 {
        self.0
    }
    /// `true` when every flag of `other` is set. libevent: `(what & other) == other`.
    pub const fn contains(self, other: BevEvent) -> bool {
        self.0 & other.0 == other.0
    }
    /// `true` when any flag of `other` is set. libevent: `what & other`.
    pub const fn intersects(self, other: BevEvent) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for BevEvent {
    type Output = BevEvent;
    fn bitor(self, rhs: BevEvent) -> BevEvent {
        BevEvent(self.0 | rhs.0)
    }
}

impl fmt::Debug for BevEvent {
    /// `BEV_EVENT_READING|BEV_EVENT_EOF`, or `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(BevEvent, &str); 6] = [
            (BEV_EVENT_READING, "BEV_EVENT_READING"),
            (BEV_EVENT_WRITING, "BEV_EVENT_WRITING"),
            (BEV_EVENT_EOF, "BEV_EVENT_EOF"),
            (BEV_EVENT_ERROR, "BEV_EVENT_ERROR"),
            (BEV_EVENT_TIMEOUT, "BEV_EVENT_TIMEOUT"),
            (BEV_EVENT_CONNECTED, "BEV_EVENT_CONNECTED"),
        ];
        let set = NAMES.iter().filter(|(bit, _)| self.contains(*bit));
        crate::event::fmt_flags(f, set.map(|&(_, name)| name))
    }
}

/// Options of a bufferevent. libevent: `enum bufferevent_options` (`BEV_OPT_*`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct BevOptions(u8);

/// No option. libevent: `0`.
pub const BEV_OPT_NONE: BevOptions = BevOptions(0);
/// Close the socket when the bufferevent is freed. libevent: `BEV_OPT_CLOSE_ON_FREE`.
pub const BEV_OPT_CLOSE_ON_FREE: BevOptions = BevOptions(0x01);

impl BevOptions {
    /// `true` when every option of `other` is set. libevent: `(options & other) == other`.
    pub const fn contains(self, other: BevOptions) -> bool {
        self.0 & other.0 == other.0
    }
    /// Options from raw bits; [`Bufferevent::socket_new`] refuses the ones minievent lacks
    /// (`BEV_OPT_THREADSAFE` 0x02, `BEV_OPT_DEFER_CALLBACKS` 0x04, `BEV_OPT_UNLOCK_CALLBACKS` 0x08).
    pub const fn from_bits(bits: u8) -> BevOptions {
        BevOptions(bits)
    }
}

impl std::ops::BitOr for BevOptions {
    type Output = BevOptions;
    fn bitor(self, rhs: BevOptions) -> BevOptions {
        BevOptions(self.0 | rhs.0)
    }
}

// ANCHOR: constants
/// The most one read callback reads (without rate limits). libevent: `MAX_SINGLE_READ_DEFAULT`.
pub const MAX_SINGLE_READ_DEFAULT: usize = 16384;
/// The most one write callback writes. libevent: `MAX_SINGLE_WRITE_DEFAULT`.
pub const MAX_SINGLE_WRITE_DEFAULT: usize = 16384;
/// Reading is suspended by the read high-water mark. libevent: `BEV_SUSPEND_WM`.
const BEV_SUSPEND_WM: u8 = 0x01;
/// Once more deferred callbacks than this were activated in one loop pass, the next ones wait
/// for the next pass (so 33 run at once). libevent: `MAX_DEFERREDS_QUEUED`.
const MAX_DEFERREDS_QUEUED: u32 = 32;
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

/// A buffer shared between a bufferevent and its user. libevent: `struct evbuffer *` as
/// `bufferevent_get_input()` / `_get_output()` return it.
pub type EvbufferRef = Rc<RefCell<Evbuffer>>;

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
pub struct Bufferevent(Rc<Inner>);

struct Inner {
    /// libevent: `event_get_fd(&bev->ev_read)`.
    fd: RawFd,
    /// `EV_READ|EV_PERSIST` on the fd. libevent: `bev->ev_read`.
    ev_read: EventId,
    /// `EV_WRITE|EV_PERSIST` on the fd. libevent: `bev->ev_write`.
    ev_write: EventId,
    /// libevent: `bev->input`.
    input: EvbufferRef,
    /// libevent: `bev->output`.
    output: EvbufferRef,
    state: RefCell<State>,
    cbs: RefCell<Callbacks>,
}

/// libevent: the fields of `struct bufferevent` and `struct bufferevent_private` that a socket
/// bufferevent without rate limits uses.
struct State {
    /// What the user enabled. libevent: `bev->enabled` (EV_WRITE at creation).
    enabled: Ev,
    /// Why reading is suspended (`BEV_SUSPEND_*`), 0 if it is not. libevent: `read_suspended`.
    read_suspended: u8,
    /// libevent: `write_suspended` (nothing suspends writing in a plain socket bufferevent).
    write_suspended: u8,
    /// libevent: `bev->wm_read`, `bev->wm_write`.
    wm_read: Watermark,
    wm_write: Watermark,
    /// libevent: `bufev_p->options`.
    options: BevOptions,
    /// A read callback is scheduled to run again (see [`Bufferevent::inbuf_wm_check`]).
    /// libevent: `readcb_pending`.
    readcb_pending: bool,
    /// Deferred re-runs of the read callback since the last real read (see `inbuf_wm_check`).
    deferred_in_a_row: u32,
    /// The errno of the last read or write error, for the event callback. libevent: `errno`.
    socket_error: Option<i32>,
    /// `free` was called: every later call is refused, nothing runs any more.
    freed: bool,
}

/// The user's callbacks. libevent: `bev->readcb`, `writecb`, `errorcb` (the ctx is captured).
#[derive(Default)]
struct Callbacks {
    readcb: Option<DataCallback>,
    writecb: Option<DataCallback>,
    eventcb: Option<EventCallback>,
    /// Bumped by every `setcb`, so a callback that was running is not put back over a new one.
    generation: u64,
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

/// Borrows a buffer mutably, or says why not (a caller still holds a borrow of it).
fn borrow_buf<'a>(buf: &'a EvbufferRef, call: &str) -> Result<std::cell::RefMut<'a, Evbuffer>> {
    buf.try_borrow_mut().map_err(|_| {
        Error::Invalid(format!(
            "{call}: the evbuffer is borrowed (drop the `borrow()` of get_input()/get_output() first)"
        ))
    })
}

impl Bufferevent {
    // ANCHOR: socket_new
    /// A bufferevent on the socket `fd` (already non-blocking), with two empty buffers, writing
    /// enabled and reading not (call [`enable`](Self::enable) with `EV_READ`). No syscall: the
    /// two events are only created. libevent: `bufferevent_socket_new()`.
    pub fn socket_new(base: &mut Base, fd: RawFd, options: BevOptions) -> Result<Bufferevent> {
        if !BEV_OPT_CLOSE_ON_FREE.contains(options) {
            return Err(Error::Invalid(format!(
                "bufferevent_socket_new: options {:#x}: minievent has BEV_OPT_CLOSE_ON_FREE only \
                 (no threads, no deferred callbacks)",
                options.0
            )));
        }
        // The events find their bufferevent through this cell, filled once it exists.
        let slot: Rc<OnceCell<Bufferevent>> = Rc::default();
        let reader = Rc::clone(&slot);
        let ev_read =
            base.event_new(fd, EV_READ | crate::EV_PERSIST, move |base, _, what, _| {
                if let Some(bev) = reader.get().cloned() {
                    bev.readcb(base, what);
                }
            })?;
        let writer = Rc::clone(&slot);
        let ev_write = base
            .event_new(fd, EV_WRITE | crate::EV_PERSIST, move |base, _, what, _| {
                if let Some(bev) = writer.get().cloned() {
                    bev.writecb(base, what);
                }
            })
            .inspect_err(|_| {
                // Nothing is pending yet: freeing cannot fail.
                let _ = base.event_free(ev_read);
            })?;
        let bev = Bufferevent(Rc::new(Inner {
            fd,
            ev_read,
            ev_write,
            input: Rc::default(),
            output: Rc::default(),
            state: RefCell::new(State {
                enabled: EV_WRITE,
                read_suspended: 0,
                write_suspended: 0,
                wm_read: Watermark::default(),
                wm_write: Watermark::default(),
                options,
                readcb_pending: false,
                deferred_in_a_row: 0,
                socket_error: None,
                freed: false,
            }),
            cbs: RefCell::default(),
        }));
        let _ = slot.set(bev.clone());
        Ok(bev)
    }
    // ANCHOR_END: socket_new

    /// Sets the three callbacks (`None`: no such callback). libevent: `bufferevent_setcb()`.
    pub fn setcb(
        &self,
        readcb: Option<DataCallback>,
        writecb: Option<DataCallback>,
        eventcb: Option<EventCallback>,
    ) {
        let mut cbs = self.0.cbs.borrow_mut();
        cbs.readcb = readcb;
        cbs.writecb = writecb;
        cbs.eventcb = eventcb;
        cbs.generation += 1;
    }

    /// The socket. libevent: `bufferevent_getfd()`.
    pub fn getfd(&self) -> RawFd {
        self.0.fd
    }

    /// The input buffer: what was read and not yet consumed. libevent: `bufferevent_get_input()`.
    ///
    /// Changes made through it directly are noticed (watermarks) when the running callback
    /// returns, or at the next call on the bufferevent; [`read`](Self::read) and
    /// [`read_buffer`](Self::read_buffer) act at once.
    pub fn get_input(&self) -> EvbufferRef {
        Rc::clone(&self.0.input)
    }

    /// The output buffer: what is still to be written. libevent: `bufferevent_get_output()`.
    ///
    /// Bytes added through it directly are noticed (writing starts) when the running callback
    /// returns, or at the next call on the bufferevent; [`write`](Self::write) and
    /// [`write_buffer`](Self::write_buffer) act at once.
    pub fn get_output(&self) -> EvbufferRef {
        Rc::clone(&self.0.output)
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
            .map(std::io::Error::from_raw_os_error)
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
                impl_events = impl_events.without(EV_READ);
            }
            if st.write_suspended != 0 {
                impl_events = impl_events.without(EV_WRITE);
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
            st.enabled = st.enabled.without(event);
        }
        self.be_socket_disable(base, event)
    }

    /// Adds the read and/or write event: `epoll_ctl` when the fd's interest changes.
    /// libevent: `be_socket_enable()`.
    fn be_socket_enable(&self, base: &mut Base, event: Ev) -> Result<()> {
        if event.contains(EV_READ) {
            base.event_add(self.0.ev_read, None)?;
        }
        if event.contains(EV_WRITE) {
            base.event_add(self.0.ev_write, None)?;
        }
        Ok(())
    }

    /// Deletes the read and/or write event. libevent: `be_socket_disable()`.
    fn be_socket_disable(&self, base: &mut Base, event: Ev) -> Result<()> {
        if event.contains(EV_READ) {
            base.event_del(self.0.ev_read)?;
        }
        if event.contains(EV_WRITE) {
            base.event_del(self.0.ev_write)?;
        }
        Ok(())
    }
    // ANCHOR_END: enable_disable

    // ANCHOR: suspend
    /// Stops reading for `why` without changing what the user enabled; the read event is deleted
    /// only by the first reason. libevent: `bufferevent_suspend_read_()`.
    fn suspend_read(&self, base: &mut Base, why: u8) -> Result<()> {
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
            let len = borrow_buf(&self.0.input, "bufferevent_setwatermark")?.len();
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

    // ANCHOR: write
    /// Appends a copy of `data` to the output; writing starts if it was idle.
    /// libevent: `bufferevent_write()` (`evbuffer_add` on the output).
    pub fn write(&self, base: &mut Base, data: &[u8]) -> Result<()> {
        self.check_alive("bufferevent_write")?;
        borrow_buf(&self.0.output, "bufferevent_write")?.add(data);
        self.run_buffer_callbacks(base)
    }

    /// Moves everything in `buf` to the output (whole chains, no copy); writing starts if it was
    /// idle. `buf` may be this bufferevent's own input — the echo server's one-liner.
    /// libevent: `bufferevent_write_buffer()` (`evbuffer_add_buffer` on the output).
    pub fn write_buffer(&self, base: &mut Base, buf: &EvbufferRef) -> Result<()> {
        self.check_alive("bufferevent_write_buffer")?;
        if !Rc::ptr_eq(buf, &self.0.output) {
            let mut src = borrow_buf(buf, "bufferevent_write_buffer")?;
            borrow_buf(&self.0.output, "bufferevent_write_buffer")?.add_buffer(&mut src);
        }
        self.run_buffer_callbacks(base)
    }
    // ANCHOR_END: write

    /// Moves up to `out.len()` bytes from the input into `out`; returns how many.
    /// libevent: `bufferevent_read()`.
    pub fn read(&self, base: &mut Base, out: &mut [u8]) -> Result<usize> {
        self.check_alive("bufferevent_read")?;
        let n = borrow_buf(&self.0.input, "bufferevent_read")?.remove(out);
        self.run_buffer_callbacks(base)?;
        Ok(n)
    }

    /// Moves everything in the input to the end of `buf`. libevent: `bufferevent_read_buffer()`.
    pub fn read_buffer(&self, base: &mut Base, buf: &EvbufferRef) -> Result<()> {
        self.check_alive("bufferevent_read_buffer")?;
        if !Rc::ptr_eq(buf, &self.0.input) {
            let mut input = borrow_buf(&self.0.input, "bufferevent_read_buffer")?;
            borrow_buf(buf, "bufferevent_read_buffer")?.add_buffer(&mut input);
        }
        self.run_buffer_callbacks(base)
    }

    // ANCHOR: buffer_callbacks
    /// Reacts to what changed in the two buffers since last time, input first: the read
    /// watermark callback (suspend reading at the high-water mark, resume below it), then the
    /// output callback (bytes were added while the write event is not pending: add it).
    /// libevent: `evbuffer_invoke_callbacks_()` on the input (`bufferevent_inbuf_wm_cb`) and on
    /// the output (`bufferevent_socket_outbuf_cb`), which libevent runs inside every evbuffer call.
    fn run_buffer_callbacks(&self, base: &mut Base) -> Result<()> {
        if self.is_freed() {
            return Ok(());
        }
        let (input_changed, input_len) = {
            let mut input = borrow_buf(&self.0.input, "evbuffer callbacks")?;
            let info = input.take_cb_info();
            (info.n_added + info.n_deleted > 0, input.len())
        };
        let high = self.0.state.borrow().wm_read.high;
        if input_changed && high != 0 {
            if input_len >= high {
                self.suspend_read(base, BEV_SUSPEND_WM)?;
            } else {
                self.unsuspend_read(base, BEV_SUSPEND_WM)?;
            }
        }
        let added = borrow_buf(&self.0.output, "evbuffer callbacks")?
            .take_cb_info()
            .n_added;
        let (enabled, write_suspended) = {
            let st = self.0.state.borrow();
            (st.enabled, st.write_suspended)
        };
        if added > 0
            && enabled.contains(EV_WRITE)
            && base.event_pending(self.0.ev_write, EV_WRITE)?.is_empty()
            && write_suspended == 0
        {
            // Somebody added data and we were not writing: start writing.
            base.event_add(self.0.ev_write, None)?;
        }
        Ok(())
    }
    // ANCHOR_END: buffer_callbacks

    // ANCHOR: readcb
    /// The read event fired. libevent: `bufferevent_readcb()`.
    ///
    /// Reads at most up to the high-water mark (suspending reading if it is already reached),
    /// at most 16384 bytes; `evbuffer_read` caps that at 4096 and at what FIONREAD reports. Then
    /// the buffer callbacks, then the user's read callback if the input reached the low-water
    /// mark. End of file or an error: reading is disabled and the event callback is told.
    fn readcb(&self, base: &mut Base, _what: Ev) {
        if self.is_freed() {
            return;
        }
        let mut howmuch = MAX_SINGLE_READ_DEFAULT;
        let (high, suspended) = {
            let st = self.0.state.borrow();
            (st.wm_read.high, st.read_suspended != 0)
        };
        if high != 0 {
            let len = self.0.input.borrow().len();
            if len >= high {
                // The watermark was lowered below what the input holds: stop reading.
                return self.warn_on_err(self.suspend_read(base, BEV_SUSPEND_WM));
            }
            howmuch = howmuch.min(high - len);
        }
        if suspended {
            return;
        }
        let res = self
            .0
            .input
            .borrow_mut()
            .read_from_fd(self.0.fd, Some(howmuch));
        let what = match res {
            Ok(0) => BEV_EVENT_READING | BEV_EVENT_EOF,
            Ok(_) => {
                self.0.state.borrow_mut().deferred_in_a_row = 0;
                self.warn_on_err(self.run_buffer_callbacks(base));
                self.trigger_read(base);
                return;
            }
            Err(e) if crate::util::would_block(&e) => return,
            Err(e) => {
                self.0.state.borrow_mut().socket_error = e.raw_os_error();
                BEV_EVENT_READING | BEV_EVENT_ERROR
            }
        };
        self.warn_on_err(self.disable(base, EV_READ));
        self.run_eventcb(base, what);
    }
    // ANCHOR_END: readcb

    // ANCHOR: writecb
    /// The write event fired. libevent: `bufferevent_writecb()`.
    ///
    /// `writev`s at most 16384 bytes of the output; deletes the write event once the output is
    /// empty (also when the write would block: `reschedule`); runs the user's write callback
    /// when the output is down to the low-water mark. `writev` returning 0 (EOF) or an error:
    /// writing is disabled and the event callback is told.
    fn writecb(&self, base: &mut Base, _what: Ev) {
        if self.is_freed() || self.0.state.borrow().write_suspended != 0 {
            return;
        }
        let pending = self.0.output.borrow().len();
        if pending > 0 {
            let res = self
                .0
                .output
                .borrow_mut()
                .write_to_fd(self.0.fd, Some(MAX_SINGLE_WRITE_DEFAULT));
            let what = match res {
                Ok(0) => BEV_EVENT_WRITING | BEV_EVENT_EOF,
                Ok(_) => BevEvent(0),
                Err(e) if crate::util::would_block(&e) => {
                    if self.0.output.borrow().is_empty() {
                        self.warn_on_err(base.event_del(self.0.ev_write));
                    }
                    return;
                }
                Err(e) => {
                    self.0.state.borrow_mut().socket_error = e.raw_os_error();
                    BEV_EVENT_WRITING | BEV_EVENT_ERROR
                }
            };
            if what != BevEvent(0) {
                self.warn_on_err(self.disable(base, EV_WRITE));
                return self.run_eventcb(base, what);
            }
        }
        if self.0.output.borrow().is_empty() {
            self.warn_on_err(base.event_del(self.0.ev_write));
        }
        self.warn_on_err(self.run_buffer_callbacks(base));
        let low = self.0.state.borrow().wm_write.low;
        if self.0.output.borrow().len() <= low {
            self.run_data_cb(base, |cbs| &mut cbs.writecb);
        }
    }
    // ANCHOR_END: writecb

    // ANCHOR: trigger_read
    /// Runs the user's read callback if the input reached the read low-water mark, then makes
    /// sure a callback that left the input at the high-water mark runs again: reading is
    /// suspended, so no read event would call it. libevent: `bufferevent_trigger_nolock_()`
    /// (`EV_READ`) → `bufferevent_run_readcb_()` → `bufferevent_inbuf_wm_check()`.
    fn trigger_read(&self, base: &mut Base) {
        let low = self.0.state.borrow().wm_read.low;
        if self.0.input.borrow().len() >= low {
            self.run_data_cb(base, |cbs| &mut cbs.readcb);
            self.inbuf_wm_check(base);
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
                && self.0.input.borrow().len() >= st.wm_read.high
                && !st.freed;
            let first = at_mark && !st.readcb_pending;
            st.readcb_pending |= at_mark;
            if first {
                st.deferred_in_a_row += 1;
            }
            first.then_some(st.deferred_in_a_row)
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
    fn run_data_cb(&self, base: &mut Base, pick: fn(&mut Callbacks) -> &mut Option<DataCallback>) {
        let (cb, generation) = {
            let mut cbs = self.0.cbs.borrow_mut();
            let generation = cbs.generation;
            (pick(&mut cbs).take(), generation)
        };
        let Some(mut cb) = cb else { return };
        cb(base, self);
        self.put_back(generation, |cbs| {
            pick(cbs).get_or_insert(cb);
        });
        self.warn_on_err(self.run_buffer_callbacks(base));
    }

    /// Calls the event callback with `what`. libevent: `bufferevent_run_eventcb_()`.
    fn run_eventcb(&self, base: &mut Base, what: BevEvent) {
        let (cb, generation) = {
            let mut cbs = self.0.cbs.borrow_mut();
            (cbs.eventcb.take(), cbs.generation)
        };
        let Some(mut cb) = cb else { return };
        cb(base, self, what);
        self.put_back(generation, |cbs| {
            cbs.eventcb.get_or_insert(cb);
        });
        self.warn_on_err(self.run_buffer_callbacks(base));
    }

    /// Puts a callback back after it ran, if nothing replaced the callbacks meanwhile.
    fn put_back(&self, generation: u64, restore: impl FnOnce(&mut Callbacks)) {
        if self.is_freed() {
            return;
        }
        let mut cbs = self.0.cbs.borrow_mut();
        if cbs.generation == generation {
            restore(&mut cbs);
        }
    }

    /// Reports an error that has no caller to go to (inside the loop) the way libevent logs:
    /// `[warn] ...` on stderr.
    fn warn_on_err(&self, result: Result<()>) {
        if let Err(e) = result {
            crate::log::warn(&format!("bufferevent on fd {}: {e}", self.0.fd));
        }
    }

    // ANCHOR: free
    /// Frees the bufferevent: clears its callbacks, deletes both events, closes the socket if it
    /// was made with `BEV_OPT_CLOSE_ON_FREE`, and drops both buffers — *with whatever the output
    /// still holds*: to send everything first, wait until the output is empty (write callback
    /// with low-water mark 0). The handle stays valid but every later call fails.
    /// libevent: `bufferevent_free()` → `bufferevent_decref_and_unlock_()` → finalize →
    /// `be_socket_destruct()` (libevent finalizes a moment later, in the same loop pass).
    pub fn free(&self, base: &mut Base) -> Result<()> {
        let options = {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("bufferevent_free"));
            }
            st.freed = true;
            st.options
        };
        {
            let mut cbs = self.0.cbs.borrow_mut();
            cbs.readcb = None;
            cbs.writecb = None;
            cbs.eventcb = None;
            cbs.generation += 1;
        }
        let del_read = base.event_free(self.0.ev_read);
        let del_write = base.event_free(self.0.ev_write);
        let close = if options.contains(BEV_OPT_CLOSE_ON_FREE) && self.0.fd >= 0 {
            crate::sys::close(self.0.fd)
        } else {
            Ok(())
        };
        for buf in [&self.0.input, &self.0.output] {
            if let Ok(mut buf) = buf.try_borrow_mut() {
                *buf = Evbuffer::new();
            }
        }
        del_read.and(del_write).and(close)
    }
    // ANCHOR_END: free
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_loop::LoopFlags;
    use crate::util::{read, socketpair, write};
    use std::cell::Cell;

    /// A bufferevent on one end of a socketpair; the other end is the test's.
    fn setup() -> (Base, Bufferevent, RawFd) {
        let mut base = Base::new().expect("base");
        let [a, b] = socketpair().expect("socketpair");
        crate::util::make_socket_nonblocking(a).expect("nonblocking");
        crate::util::make_socket_nonblocking(b).expect("nonblocking");
        let bev = Bufferevent::socket_new(&mut base, a, BEV_OPT_CLOSE_ON_FREE).expect("bev");
        (base, bev, b)
    }

    fn pending(base: &Base, bev: &Bufferevent) -> (bool, bool) {
        let r = !base
            .event_pending(bev.0.ev_read, EV_READ)
            .expect("ev")
            .is_empty();
        let w = !base
            .event_pending(bev.0.ev_write, EV_WRITE)
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
        let err = Bufferevent::socket_new(&mut base, 0, BevOptions::from_bits(0x04))
            .expect_err("refused");
        assert!(
            err.to_string().contains("BEV_OPT_CLOSE_ON_FREE only"),
            "{err}"
        );
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
        let _ = crate::sys::close(peer);
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
        assert!(bev.get_input().borrow().is_empty());
        assert_eq!(bev.get_output().borrow().len(), 4);
        assert_eq!(pending(&base, &bev), (true, true));
        base.run(LoopFlags::ONCE).expect("write pass");
        assert_eq!(pending(&base, &bev), (true, false));
        assert_eq!(drain_peer(peer), b"ping");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close(peer);
    }

    #[test]
    fn eof_disables_reading_and_reaches_the_event_callback() {
        let (mut base, bev, peer) = setup();
        let seen = Rc::new(Cell::new(BevEvent(0)));
        let s = Rc::clone(&seen);
        bev.setcb(None, None, Some(Box::new(move |_, _, what| s.set(what))));
        bev.enable(&mut base, EV_READ).expect("enable");
        crate::sys::close(peer).expect("close");
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(seen.get(), BEV_EVENT_READING | BEV_EVENT_EOF);
        assert_eq!(bev.get_enabled(), EV_WRITE);
        assert_eq!(pending(&base, &bev), (false, false));
        bev.free(&mut base).expect("free");
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
                            .event_pending(bev.0.ev_read, EV_READ)
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
        assert_eq!(bev.get_input().borrow().len(), 6);
        assert_eq!(pending(&base, &bev), (true, false));
        base.run(LoopFlags::ONCE).expect("loop");
        assert_eq!(
            bev.get_input().borrow().len(),
            10,
            "read up to the mark again"
        );
        assert_eq!(pending(&base, &bev), (false, false), "and suspended");
        assert!(bev.get_enabled().contains(EV_READ), "though still enabled");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close(peer);
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
        let _ = crate::sys::close(peer);
    }

    #[test]
    fn free_closes_the_socket_and_refuses_later_calls() {
        let (mut base, bev, peer) = setup();
        bev.write(&mut base, b"lost").expect("write");
        let fd = bev.getfd();
        bev.free(&mut base).expect("free");
        // BEV_OPT_CLOSE_ON_FREE: the fd is closed — and the queued output is gone.
        assert!(crate::sys::close(fd).is_err());
        assert!(bev.write(&mut base, b"x").is_err());
        assert!(bev.free(&mut base).is_err());
        assert_eq!(drain_peer(peer), b"");
        let _ = crate::sys::close(peer);
    }

    /// Divergence: libevent runs an evbuffer's callbacks inside every evbuffer call; minievent
    /// notices changes made through get_input()/get_output() when the callback returns (or at
    /// the next bufferevent_write/_write_buffer/_read/_read_buffer).
    #[test]
    fn direct_changes_to_the_output_are_noticed_when_the_callback_returns() {
        let (mut base, bev, peer) = setup();
        bev.get_output().borrow_mut().add(b"direct");
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
                let input = bev.get_input();
                bev.get_output()
                    .borrow_mut()
                    .add_buffer(&mut input.borrow_mut());
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
        let _ = crate::sys::close(peer);
    }

    /// Divergence: libevent freezes the end of a bufferevent's input and the front of its output
    /// (`evbuffer_freeze`), so adding to the input or draining the output fails there; minievent
    /// does not freeze them.
    #[test]
    fn the_input_and_output_are_not_frozen() {
        let (mut base, bev, peer) = setup();
        bev.get_input().borrow_mut().add(b"added to the input");
        assert_eq!(bev.get_input().borrow().len(), 18);
        bev.write(&mut base, b"0123456789").expect("write");
        bev.get_output().borrow_mut().drain(4);
        assert_eq!(bev.get_output().borrow().to_vec(), b"456789");
        bev.free(&mut base).expect("free");
        let _ = crate::sys::close(peer);
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
        crate::sys::close(peer).expect("close");
        assert_eq!(base.dispatch().expect("loop"), crate::LoopExit::NoEvents);
        assert!(bev.is_freed());
    }
}
