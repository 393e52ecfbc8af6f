//! The socket half of the bufferevent. libevent: bufferevent_sock.c (`bufferevent_socket_new`,
//! `bufferevent_readcb`, `bufferevent_writecb`, `be_socket_enable`, `be_socket_disable`,
//! `be_socket_destruct`).
//!
//! A socket bufferevent owns two events on its fd, both `EV_PERSIST`: a read event and a write
//! event. Reading: when the fd is readable, `evbuffer_read` fills the input (FIONREAD, readv) and
//! the user's read callback runs. Writing: the user only adds to the output; the output's
//! callback then adds the write event, the loop `writev`s the output when the fd is writable, and
//! the write event is deleted again as soon as the output is empty. End of file and errors stop
//! the reading or writing side and reach the user's event callback. What does not depend on the
//! socket — callbacks, watermarks, enable/disable, free — is in bufferevent.rs, as in libevent.

use crate::base::Base;
use crate::buffer::EVBUFFER_MAX_READ;
use crate::bufferevent::{
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_READING, BEV_EVENT_TIMEOUT,
    BEV_EVENT_WRITING, BEV_OPT_CLOSE_ON_FREE, BEV_OPT_MINIEVENT_EAGER, BEV_SUSPEND_WM, BevEvent,
    BevOptions, BufferCell, Bufferevent, Callbacks, Inner, MAX_SINGLE_READ_DEFAULT,
    MAX_SINGLE_WRITE_DEFAULT, State, Watermark,
};
use crate::error::{Error, Result};
use crate::event::{EV_PERSIST, EV_READ, EV_TIMEOUT, EV_WRITE, Ev};
use crate::sys::{Fd, cvt};
use std::cell::{Cell, OnceCell, RefCell};
use std::net::SocketAddrV4;
use std::num::NonZeroI32;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;

impl Bufferevent {
    // ANCHOR: socket_new
    /// A bufferevent on the socket `fd` (already non-blocking), which the caller keeps owning: it
    /// is not closed by [`free`](Self::free). Two empty buffers, writing enabled and reading not
    /// (call [`enable`](Self::enable) with `EV_READ`). No syscall: the two events are only
    /// created. libevent: `bufferevent_socket_new()` without `BEV_OPT_CLOSE_ON_FREE`.
    pub fn socket_new(base: &mut Base, fd: RawFd, options: BevOptions) -> Result<Bufferevent> {
        if options.contains(BEV_OPT_CLOSE_ON_FREE) {
            return Err(Error::Invalid(
                "bufferevent_socket_new: BEV_OPT_CLOSE_ON_FREE closes the socket, so the bufferevent \
                 must own it: use Bufferevent::socket_new_owned(base, OwnedFd, options)"
                    .into(),
            ));
        }
        Bufferevent::new_socket(base, fd, None, options)
    }

    /// A bufferevent that owns its socket and closes it when freed, like libevent's with
    /// `BEV_OPT_CLOSE_ON_FREE` (implied here). Otherwise as [`socket_new`](Self::socket_new).
    /// libevent: `bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)`.
    pub fn socket_new_owned(
        base: &mut Base,
        fd: OwnedFd,
        options: BevOptions,
    ) -> Result<Bufferevent> {
        let raw = fd.as_raw_fd();
        Bufferevent::new_socket(
            base,
            raw,
            Some(Fd::from(fd)),
            options | BEV_OPT_CLOSE_ON_FREE,
        )
    }

    /// The body of both constructors. libevent: `bufferevent_socket_new()` →
    /// `bufferevent_init_common_()`.
    fn new_socket(
        base: &mut Base,
        fd: RawFd,
        owned: Option<Fd>,
        options: BevOptions,
    ) -> Result<Bufferevent> {
        if !BevOptions::all().contains(options) {
            return Err(Error::Unsupported {
                what: "bufferevent options other than BEV_OPT_CLOSE_ON_FREE and \
                       BEV_OPT_MINIEVENT_EAGER",
                why: format!(
                    "options {:#x}: minievent has no threads and no deferred callbacks \
                     (BEV_OPT_THREADSAFE 0x02, BEV_OPT_DEFER_CALLBACKS 0x04, \
                     BEV_OPT_UNLOCK_CALLBACKS 0x08)",
                    options.bits()
                ),
            });
        }
        let bev = Bufferevent(Rc::new(Inner {
            fd,
            owned: Cell::new(owned),
            ev_read: OnceCell::new(),
            ev_write: OnceCell::new(),
            input: BufferCell::default(),
            output: BufferCell::default(),
            state: RefCell::new(State {
                cbs: Callbacks::default(),
                enabled: EV_WRITE,
                read_suspended: 0,
                write_suspended: 0,
                wm_read: Watermark::default(),
                wm_write: Watermark::default(),
                timeout_read: None,
                timeout_write: None,
                connecting: false,
                readcb_pending: false,
                deferred_in_a_row: 0,
                socket_error: None,
                freed: false,
                write_inline: false,
                eager: options.contains(BEV_OPT_MINIEVENT_EAGER),
                max_single_read: MAX_SINGLE_READ_DEFAULT,
                max_single_write: MAX_SINGLE_WRITE_DEFAULT,
            }),
        }));
        // Each event's callback holds the bufferevent (until `free` frees the events).
        let reader = bev.clone();
        let ev_read = base.event_new(fd, EV_READ | EV_PERSIST, move |base, _, what, _| {
            reader.clone().readcb(base, what);
        })?;
        let writer = bev.clone();
        let ev_write = base
            .event_new(fd, EV_WRITE | EV_PERSIST, move |base, _, what, _| {
                writer.clone().writecb(base, what);
            })
            .inspect_err(|_| {
                // Nothing is pending yet: freeing cannot fail.
                let _ = base.event_free(ev_read);
            })?;
        let _ = bev.0.ev_read.set(ev_read);
        let _ = bev.0.ev_write.set(ev_write);
        Ok(bev)
    }
    // ANCHOR_END: socket_new

    // ANCHOR: socket_connect
    /// A bufferevent on a new TCP socket connecting to `addr`: `socket(AF_INET,
    /// SOCK_STREAM|SOCK_NONBLOCK)`, `connect` (EINPROGRESS), and the write event added; when the
    /// socket becomes writable, `getsockopt(SO_ERROR)` says how the connect ended and the event
    /// callback gets `BEV_EVENT_CONNECTED` — then whatever was written meanwhile is sent — or
    /// `BEV_EVENT_ERROR` ([`socket_error`](Self::socket_error) says why; both events are deleted).
    /// The bufferevent owns the socket (`BEV_OPT_CLOSE_ON_FREE`). A connect refused at once
    /// reaches the event callback as `BEV_EVENT_ERROR` from the loop, so callbacks set after this
    /// call see it; any other failure of `socket` or `connect` is this call's error. libevent:
    /// `bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)` + `bufferevent_socket_connect()`
    /// (which, on a connect that succeeds at once, a BSD case, waits for the write event too).
    pub fn socket_connect(base: &mut Base, addr: SocketAddrV4) -> Result<Bufferevent> {
        // SAFETY: socket takes only integers.
        let fd = cvt(
            unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0) },
            "socket",
        )?;
        // SAFETY: socket succeeded: the fd is open and nobody else has it.
        let sock = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let bev = Bufferevent::socket_new_owned(base, sock, BEV_OPT_CLOSE_ON_FREE)?;
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: addr.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*addr.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: sin is a valid sockaddr_in of the given length.
        let r = cvt(
            unsafe {
                libc::connect(
                    fd,
                    (&sin as *const libc::sockaddr_in).cast(),
                    size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            },
            "connect",
        );
        match r {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => {}
            Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                // libevent: bufferevent_run_eventcb_(BEV_EVENT_ERROR, BEV_OPT_DEFER_CALLBACKS).
                bev.0.state.borrow_mut().socket_error = NonZeroI32::new(libc::ECONNREFUSED);
                let me = bev.clone();
                base.once(-1, EV_TIMEOUT, None, move |base: &mut Base, _, _| {
                    if !me.is_freed() {
                        me.run_eventcb(base, BEV_EVENT_ERROR);
                    }
                })?;
                bev.disable(base, EV_READ | EV_WRITE)?;
                return Ok(bev);
            }
            Err(e) => {
                let _ = bev.free(base);
                return Err(e);
            }
        }
        bev.be_socket_enable(base, EV_WRITE)?;
        bev.0.state.borrow_mut().connecting = true;
        Ok(bev)
    }
    // ANCHOR_END: socket_connect

    // ANCHOR: be_socket_enable
    /// Adds the read and/or write event: `epoll_ctl` when the fd's interest changes.
    /// libevent: `be_socket_enable()`.
    pub(crate) fn be_socket_enable(&self, base: &mut Base, event: Ev) -> Result<()> {
        let (timeout_read, timeout_write) = {
            let st = self.0.state.borrow();
            (st.timeout_read, st.timeout_write)
        };
        if event.contains(EV_READ) {
            base.event_add(self.ev_read(), timeout_read)?;
        }
        if event.contains(EV_WRITE) {
            base.event_add(self.ev_write(), timeout_write)?;
        }
        Ok(())
    }

    /// Deletes the read and/or write event — but not the write event while a connect is in
    /// progress: it is what tells the connect's end. libevent: `be_socket_disable()`.
    pub(crate) fn be_socket_disable(&self, base: &mut Base, event: Ev) -> Result<()> {
        if event.contains(EV_READ) {
            base.event_del(self.ev_read())?;
        }
        if event.contains(EV_WRITE) && !self.0.state.borrow().connecting {
            base.event_del(self.ev_write())?;
        }
        Ok(())
    }
    // ANCHOR_END: be_socket_enable

    // ANCHOR: readcb
    /// The read event fired. libevent: `bufferevent_readcb()`.
    ///
    /// Reads at most up to the high-water mark (suspending reading if it is already reached),
    /// at most 16384 bytes; `evbuffer_read` caps that at 4096 and at what FIONREAD reports. Then
    /// the buffer callbacks, then the user's read callback if the input reached the low-water
    /// mark. End of file or an error: reading is disabled and the event callback is told.
    pub(crate) fn readcb(&self, base: &mut Base, what: Ev) {
        if self.is_freed() {
            return;
        }
        if what == EV_TIMEOUT {
            // Only a bare EV_TIMEOUT: with EV_READ too, something was read after all.
            self.warn_on_err(self.disable(base, EV_READ));
            self.run_eventcb(base, BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
            return;
        }
        self.warn_on_err(self.read_input(base));
    }

    /// The body of [`readcb`](Self::readcb); an error is a buffer in use by a closure further up
    /// the stack (the fd stays readable, so the read is tried again on the next pass).
    fn read_input(&self, base: &mut Base) -> Result<()> {
        const CALL: &str = "bufferevent_readcb";
        let (mut howmuch, high, suspended) = {
            let st = self.0.state.borrow();
            (st.max_single_read, st.wm_read.high, st.read_suspended != 0)
        };
        if high != 0 {
            let len = self.0.input.with_call(CALL, |buf| buf.len())?;
            if len >= high {
                // The watermark was lowered below what the input holds: stop reading.
                return self.suspend_read(base, BEV_SUSPEND_WM);
            }
            howmuch = howmuch.min(high - len);
        }
        if suspended {
            return Ok(());
        }
        // BEV_OPT_MINIEVENT_EAGER: no FIONREAD probe while nothing is queued to write.
        let eager = self.0.state.borrow().eager;
        let probe = !eager || !self.0.output.with_call(CALL, |buf| buf.is_empty())?;
        let res = self.0.input.with_call(CALL, |buf| {
            if probe {
                buf.read_from_fd(self.0.fd, Some(howmuch))
            } else {
                buf.read_atmost(self.0.fd, howmuch.min(EVBUFFER_MAX_READ))
            }
        })?;
        let what = match res {
            Ok(0) => BEV_EVENT_READING | BEV_EVENT_EOF,
            Ok(_) if eager => {
                self.0.state.borrow_mut().deferred_in_a_row = 0;
                {
                    let _inline = WriteInline::start(self);
                    self.warn_on_err(self.run_buffer_callbacks(base));
                    self.trigger_read(base);
                }
                return self.write_inline(base);
            }
            Ok(_) => {
                self.0.state.borrow_mut().deferred_in_a_row = 0;
                self.warn_on_err(self.run_buffer_callbacks(base));
                self.trigger_read(base);
                return Ok(());
            }
            Err(e) if crate::util::would_block(&e) => return Ok(()),
            Err(e) => {
                self.0.state.borrow_mut().socket_error = e.raw_os_error().and_then(NonZeroI32::new);
                BEV_EVENT_READING | BEV_EVENT_ERROR
            }
        };
        self.warn_on_err(self.disable(base, EV_READ));
        self.run_eventcb(base, what);
        Ok(())
    }
    // ANCHOR_END: readcb

    // ANCHOR: write_inline
    /// [`BEV_OPT_MINIEVENT_EAGER`], when the read callback has returned: if the output holds
    /// bytes and the write event is not already waiting to send them, `writev` them now — the
    /// body of the write callback, with its write callback and its end-of-file and error
    /// handling. What the socket did not take is left to the write event, added now: from there
    /// on it is libevent's path. minievent-only (libevent adds the write event and waits for
    /// the next loop pass).
    fn write_inline(&self, base: &mut Base) -> Result<()> {
        const CALL: &str = "bufferevent_readcb";
        if !self.may_write()
            || self.0.output.with_call(CALL, |buf| buf.is_empty())?
            || !base.event_pending(self.ev_write(), EV_WRITE)?.is_empty()
        {
            return Ok(());
        }
        self.write_output(base, false)?;
        if self.may_write()
            && !self.0.output.with_call(CALL, |buf| buf.is_empty())?
            && base.event_pending(self.ev_write(), EV_WRITE)?.is_empty()
        {
            let timeout = self.0.state.borrow().timeout_write;
            base.event_add(self.ev_write(), timeout)?;
        }
        Ok(())
    }

    /// Writing is enabled, not suspended, not waiting for a connect, and the bufferevent is
    /// not freed.
    fn may_write(&self) -> bool {
        let st = self.0.state.borrow();
        !st.freed && !st.connecting && st.enabled.contains(EV_WRITE) && st.write_suspended == 0
    }
    // ANCHOR_END: write_inline

    // ANCHOR: writecb
    /// The write event fired. libevent: `bufferevent_writecb()`.
    ///
    /// `writev`s at most 16384 bytes of the output; deletes the write event once the output is
    /// empty (also when the write would block: `reschedule`); runs the user's write callback
    /// when the output is down to the low-water mark. `writev` returning 0 (EOF) or an error:
    /// writing is disabled and the event callback is told.
    pub(crate) fn writecb(&self, base: &mut Base, what: Ev) {
        if self.is_freed() {
            return;
        }
        if what == EV_TIMEOUT {
            self.warn_on_err(self.disable(base, EV_WRITE));
            self.run_eventcb(base, BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT);
            return;
        }
        let mut connected = false;
        if self.0.state.borrow().connecting {
            match self.finished_connecting() {
                Ok(false) => return,
                Ok(true) => {
                    self.0.state.borrow_mut().connecting = false;
                    connected = true;
                    self.run_eventcb(base, BEV_EVENT_CONNECTED);
                    let (enabled, suspended) = {
                        let st = self.0.state.borrow();
                        (st.enabled, st.write_suspended != 0)
                    };
                    if self.is_freed() {
                        return;
                    }
                    if !enabled.contains(EV_WRITE) || suspended {
                        self.warn_on_err(base.event_del(self.ev_write()));
                        return;
                    }
                }
                Err(e) => {
                    {
                        let mut st = self.0.state.borrow_mut();
                        st.connecting = false;
                        st.socket_error = e.raw_os_error().and_then(NonZeroI32::new);
                    }
                    self.warn_on_err(base.event_del(self.ev_write()));
                    self.warn_on_err(base.event_del(self.ev_read()));
                    self.run_eventcb(base, BEV_EVENT_ERROR);
                    return;
                }
            }
        }
        if self.0.state.borrow().write_suspended != 0 {
            return;
        }
        self.warn_on_err(self.write_output(base, connected));
    }

    // ANCHOR: finished_connecting
    /// `getsockopt(SO_ERROR)` after the write event of a connect: `Ok(true)` connected,
    /// `Ok(false)` still in progress, `Err` the connect failed (the error is its errno).
    /// libevent: `evutil_socket_finished_connecting_()`.
    fn finished_connecting(&self) -> Result<bool> {
        let mut e: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the option value points at a live c_int, `len` at its size.
        cvt(
            unsafe {
                libc::getsockopt(
                    self.0.fd,
                    libc::SOL_SOCKET,
                    libc::SO_ERROR,
                    (&mut e as *mut libc::c_int).cast(),
                    &mut len,
                )
            },
            "getsockopt(SO_ERROR)",
        )?;
        match e {
            0 => Ok(true),
            libc::EINPROGRESS | libc::EINTR => Ok(false),
            e => Err(Error::Sys {
                call: "connect",
                source: std::io::Error::from_raw_os_error(e),
            }),
        }
    }
    // ANCHOR_END: finished_connecting

    /// The body of [`writecb`](Self::writecb); an error is a buffer in use by a closure further
    /// up the stack (the write event stays pending, so the write is tried again).
    fn write_output(&self, base: &mut Base, connected: bool) -> Result<()> {
        const CALL: &str = "bufferevent_writecb";
        let output = &self.0.output;
        let atmost = self.0.state.borrow().max_single_write;
        let mut wrote = 0;
        if output.with_call(CALL, |buf| buf.len())? > 0 {
            let res = output.with_call(CALL, |buf| buf.write_to_fd(self.0.fd, Some(atmost)))?;
            let what = match res {
                Ok(0) => BEV_EVENT_WRITING | BEV_EVENT_EOF,
                Ok(n) => {
                    wrote = n;
                    BevEvent::empty()
                }
                Err(e) if crate::util::would_block(&e) => {
                    if output.with_call(CALL, |buf| buf.is_empty())? {
                        base.event_del(self.ev_write())?;
                    }
                    return Ok(());
                }
                Err(e) => {
                    self.0.state.borrow_mut().socket_error =
                        e.raw_os_error().and_then(NonZeroI32::new);
                    BEV_EVENT_WRITING | BEV_EVENT_ERROR
                }
            };
            if !what.is_empty() {
                self.warn_on_err(self.disable(base, EV_WRITE));
                self.run_eventcb(base, what);
                return Ok(());
            }
        }
        if output.with_call(CALL, |buf| buf.is_empty())? {
            base.event_del(self.ev_write())?;
        }
        self.warn_on_err(self.run_buffer_callbacks(base));
        let low = self.0.state.borrow().wm_write.low;
        // Right after the connect, only a write that moved bytes runs the write callback.
        if (wrote > 0 || !connected) && output.with_call(CALL, |buf| buf.len())? <= low {
            self.run_data_cb(base, |cbs| &mut cbs.writecb);
        }
        Ok(())
    }
    // ANCHOR_END: writecb

    // ANCHOR: be_socket_destruct
    /// Closes the socket if the bufferevent owns it ([`socket_new_owned`](Self::socket_new_owned)).
    /// libevent: `be_socket_destruct()` (`BEV_OPT_CLOSE_ON_FREE`).
    pub(crate) fn be_socket_destruct(&self) {
        // Dropping the Fd closes it; like libevent, a failing close is not reported.
        drop(self.0.owned.take());
    }
    // ANCHOR_END: be_socket_destruct

    /// Gives the read and write events priority `pri` (0 runs first); refused while one of them
    /// is active or when `pri` is not below the base's number of priorities (an active write
    /// event is found after the read event got its new priority, as in libevent). The re-run that a read high-water mark schedules (a one-shot event here,
    /// libevent's deferred callback) keeps the base's middle priority. libevent:
    /// `bufferevent_priority_set()`.
    pub fn priority_set(&self, base: &mut Base, pri: usize) -> Result<()> {
        if self.is_freed() {
            return Err(Error::Invalid(
                "bufferevent_priority_set: the bufferevent was freed (bufferevent_free)".into(),
            ));
        }
        base.event_priority_set(self.ev_read(), pri)?;
        base.event_priority_set(self.ev_write(), pri)?;
        Ok(())
    }

    /// The read event's priority. libevent: `bufferevent_get_priority()`.
    pub fn get_priority(&self, base: &Base) -> Result<usize> {
        base.event_get_priority(self.ev_read())
    }
}

/// [`BEV_OPT_MINIEVENT_EAGER`]: while it lives, the read callback is running and bytes it adds
/// to the output do not add the write event (`write_inline` writes them when it returns). A
/// drop, so that a panicking callback leaves the flag cleared.
struct WriteInline<'a>(&'a Bufferevent);

impl<'a> WriteInline<'a> {
    fn start(bev: &'a Bufferevent) -> WriteInline<'a> {
        bev.0.state.borrow_mut().write_inline = true;
        WriteInline(bev)
    }
}

impl Drop for WriteInline<'_> {
    fn drop(&mut self) {
        self.0.0.state.borrow_mut().write_inline = false;
    }
}
