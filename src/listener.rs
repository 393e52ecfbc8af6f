//! The connection listener. libevent: listener.c (`evconnlistener_new`, `evconnlistener_new_bind`,
//! `listener_read_cb`, `evconnlistener_enable`, `_disable`, `_set_error_cb`, `_free`, `_get_fd`).
//!
//! A listener is one `EV_READ|EV_PERSIST` event on a listening socket. When the socket is
//! readable, its callback (`listener_read_cb`) calls `accept4` in a loop — each new connection,
//! already non-blocking (`SOCK_NONBLOCK`), goes to the user's callback — until `accept4` fails.
//! EAGAIN (the queue is empty), EINTR and ECONNABORTED end the loop quietly; any other error goes
//! to the error callback, or, without one, is logged. Either way the listener stays enabled.
//!
//! # Out of fds: libevent's behaviour, kept
//!
//! When the process has no fd left, `accept4` fails with EMFILE and leaves the connection in the
//! listen queue, so the socket stays readable and the level-triggered event fires again on the
//! next loop pass: the error callback (or the log line) runs again and again, at full CPU, until
//! an fd is freed. listener.c does exactly that — `listener_read_cb` neither disables the
//! listener nor waits — and so does minievent (a test pins it). A server that wants better
//! disables the listener in its error callback and enables it again later, as
//! `src/bin/echo_listener.rs` does from a timer.

use crate::base::Base;
use crate::error::{Error, Result};
use crate::event::{EV_PERSIST, EV_READ, EventId};
use crate::sys::{Fd, close_owned, cvt};
use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

// ANCHOR: lev_opt
bitflags::bitflags! {
    /// A listener's options. libevent: the `LEV_OPT_*` flags of event2/listener.h (same bits).
    #[derive(Clone, Copy, PartialEq, Eq, Default, Hash, Debug)]
    pub struct LevOpt: u32 {
        /// Accepted sockets stay blocking (no `SOCK_NONBLOCK`). libevent:
        /// `LEV_OPT_LEAVE_SOCKETS_BLOCKING`.
        const LEAVE_SOCKETS_BLOCKING = 1 << 0;
        /// `free` closes the listening socket. libevent: `LEV_OPT_CLOSE_ON_FREE`.
        const CLOSE_ON_FREE = 1 << 1;
        /// The listening socket (`new_bind`) and every accepted one get close-on-exec
        /// (`SOCK_CLOEXEC`). libevent: `LEV_OPT_CLOSE_ON_EXEC`.
        const CLOSE_ON_EXEC = 1 << 2;
        /// `setsockopt(SO_REUSEADDR)` before `bind`. libevent: `LEV_OPT_REUSEABLE`.
        const REUSEABLE = 1 << 3;
        /// Made disabled: no `event_add` until [`Listener::enable`]. libevent: `LEV_OPT_DISABLED`.
        const DISABLED = 1 << 5;
        /// `setsockopt(IPPROTO_TCP, TCP_DEFER_ACCEPT)`: the kernel reports a connection only once
        /// it has data. libevent: `LEV_OPT_DEFERRED_ACCEPT`.
        const DEFERRED_ACCEPT = 1 << 6;
        /// `setsockopt(SO_REUSEPORT)`. libevent: `LEV_OPT_REUSEABLE_PORT`.
        const REUSEABLE_PORT = 1 << 7;
        /// `setsockopt(IPPROTO_IPV6, IPV6_V6ONLY)`. libevent: `LEV_OPT_BIND_IPV6ONLY`.
        const BIND_IPV6ONLY = 1 << 8;
    }
}
// ANCHOR_END: lev_opt

/// libevent: `LEV_OPT_LEAVE_SOCKETS_BLOCKING`.
pub const LEV_OPT_LEAVE_SOCKETS_BLOCKING: LevOpt = LevOpt::LEAVE_SOCKETS_BLOCKING;
/// libevent: `LEV_OPT_CLOSE_ON_FREE`.
pub const LEV_OPT_CLOSE_ON_FREE: LevOpt = LevOpt::CLOSE_ON_FREE;
/// libevent: `LEV_OPT_CLOSE_ON_EXEC`.
pub const LEV_OPT_CLOSE_ON_EXEC: LevOpt = LevOpt::CLOSE_ON_EXEC;
/// libevent: `LEV_OPT_REUSEABLE`.
pub const LEV_OPT_REUSEABLE: LevOpt = LevOpt::REUSEABLE;
/// libevent: `LEV_OPT_DISABLED`.
pub const LEV_OPT_DISABLED: LevOpt = LevOpt::DISABLED;
/// libevent: `LEV_OPT_DEFERRED_ACCEPT`.
pub const LEV_OPT_DEFERRED_ACCEPT: LevOpt = LevOpt::DEFERRED_ACCEPT;
/// libevent: `LEV_OPT_REUSEABLE_PORT`.
pub const LEV_OPT_REUSEABLE_PORT: LevOpt = LevOpt::REUSEABLE_PORT;
/// libevent: `LEV_OPT_BIND_IPV6ONLY`.
pub const LEV_OPT_BIND_IPV6ONLY: LevOpt = LevOpt::BIND_IPV6ONLY;

/// A new connection: the base, the listener, the accepted socket (the callback owns it: hand it
/// to a bufferevent, or close it with [`crate::sys::close_owned`]) and the peer's address (`None`
/// for a family other than IPv4 and IPv6). libevent: `evconnlistener_cb`.
pub type ListenerCallback = Box<dyn FnMut(&mut Base, &Listener, OwnedFd, Option<SocketAddr>)>;

/// `accept4` failed with an error other than EAGAIN, EINTR or ECONNABORTED (EMFILE, ...).
/// libevent: `evconnlistener_errorcb` (which reads the error from `errno`).
pub type ListenerErrorCallback = Box<dyn FnMut(&mut Base, &Listener, &Error)>;

// ANCHOR: listener
/// A listener; cloning it clones the handle. libevent: `struct evconnlistener *` (its event
/// flavour, `struct evconnlistener_event`).
#[derive(Clone)]
pub struct Listener(Rc<Inner>);

struct Inner {
    /// libevent: `event_get_fd(&lev_e->listener)`.
    fd: RawFd,
    /// The listening socket, until `free` closes it (`LEV_OPT_CLOSE_ON_FREE`) or gives it back.
    sock: RefCell<Option<Fd>>,
    /// libevent: `lev->flags`.
    flags: LevOpt,
    /// `SOCK_NONBLOCK` and/or `SOCK_CLOEXEC`. libevent: `lev->accept4_flags`.
    accept4_flags: libc::c_int,
    /// The `EV_READ|EV_PERSIST` event on the socket. libevent: `lev_e->listener`.
    event: OnceCell<EventId>,
    state: RefCell<State>,
}

struct State {
    /// libevent: `lev->enabled`.
    enabled: bool,
    /// `free` was called.
    freed: bool,
    /// libevent: `lev->cb`.
    cb: Option<ListenerCallback>,
    /// A callback is set (`cb` is taken out while it runs, so it cannot tell). libevent:
    /// `lev->cb != NULL`.
    has_cb: bool,
    /// libevent: `lev->errorcb`.
    errorcb: Option<ListenerErrorCallback>,
    /// Bumped by `set_error_cb` and `free`, so a running callback is not put back over a change.
    generation: u64,
}
// ANCHOR_END: listener

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.0.state.borrow();
        f.debug_struct("Listener")
            .field("fd", &self.0.fd)
            .field("flags", &self.0.flags)
            .field("enabled", &st.enabled)
            .field("freed", &st.freed)
            .finish_non_exhaustive()
    }
}

/// The error for a call on a freed listener.
fn freed(call: &str) -> Error {
    Error::Invalid(format!(
        "{call}: the listener was freed (evconnlistener_free)"
    ))
}

/// `setsockopt(fd, level, name, &1, sizeof(int))`.
fn setsockopt_on(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    call: &'static str,
) -> Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: the option value points at a live c_int of the given size.
    cvt(
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        },
        call,
    )
    .map(drop)
}

/// `bind(fd, addr)` for an IPv4 or IPv6 address.
fn bind(fd: RawFd, addr: &SocketAddr) -> Result<()> {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than, and aligned for, any sockaddr.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than, and aligned for, any sockaddr.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    // SAFETY: ss holds a valid sockaddr of `len` bytes.
    cvt(
        unsafe {
            libc::bind(
                fd,
                (&ss as *const libc::sockaddr_storage).cast(),
                len as libc::socklen_t,
            )
        },
        "bind",
    )
    .map(drop)
}

/// The peer address `accept4` wrote, for IPv4 and IPv6.
fn peer_addr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((ss as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((ss as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

impl Listener {
    // ANCHOR: new
    /// A listener on `sock`, a bound socket: `listen(sock, backlog)` if `backlog` is positive,
    /// `listen(sock, 128)` if it is negative, no `listen` for 0 (the socket already listens);
    /// then the `EV_READ|EV_PERSIST` event, added at once unless `LEV_OPT_DISABLED`. The socket
    /// should be non-blocking: `listener_read_cb` calls `accept4` until it fails. With
    /// `LEV_OPT_CLOSE_ON_FREE`, [`free`](Self::free) closes it; without, it gives it back. If
    /// this fails, the socket is closed (libevent leaves it to the caller, who still has it).
    /// libevent: `evconnlistener_new()`.
    pub fn new(
        base: &mut Base,
        sock: OwnedFd,
        flags: LevOpt,
        backlog: i32,
        cb: impl FnMut(&mut Base, &Listener, OwnedFd, Option<SocketAddr>) + 'static,
    ) -> Result<Listener> {
        let fd = sock.as_raw_fd();
        let sock = Fd::from(sock);
        if backlog != 0 {
            let backlog = if backlog > 0 { backlog } else { 128 };
            // SAFETY: listen takes only integers.
            cvt(unsafe { libc::listen(fd, backlog) }, "listen")?;
        }
        let mut accept4_flags = 0;
        if !flags.contains(LEV_OPT_LEAVE_SOCKETS_BLOCKING) {
            accept4_flags |= libc::SOCK_NONBLOCK;
        }
        if flags.contains(LEV_OPT_CLOSE_ON_EXEC) {
            accept4_flags |= libc::SOCK_CLOEXEC;
        }
        let lev = Listener(Rc::new(Inner {
            fd,
            sock: RefCell::new(Some(sock)),
            flags,
            accept4_flags,
            event: OnceCell::new(),
            state: RefCell::new(State {
                enabled: false,
                freed: false,
                cb: Some(Box::new(cb)),
                has_cb: true,
                errorcb: None,
                generation: 0,
            }),
        }));
        // The event holds a handle: the listener lives until `free` (or the base) drops it.
        let me = lev.clone();
        let ev = base.event_new(fd, EV_READ | EV_PERSIST, move |base, _, _, _| {
            me.listener_read_cb(base)
        })?;
        lev.0.event.set(ev).expect("the event is set once, here");
        if !flags.contains(LEV_OPT_DISABLED) {
            lev.enable(base)?;
        }
        Ok(lev)
    }
    // ANCHOR_END: new

    // ANCHOR: new_bind
    /// A new TCP socket bound to `addr`, listening, with a listener on it: `socket(family,
    /// SOCK_STREAM|SOCK_NONBLOCK[|SOCK_CLOEXEC])`, `setsockopt(SO_KEEPALIVE)` (always),
    /// `SO_REUSEADDR` for `LEV_OPT_REUSEABLE`, `SO_REUSEPORT` for `LEV_OPT_REUSEABLE_PORT`,
    /// `TCP_DEFER_ACCEPT` for `LEV_OPT_DEFERRED_ACCEPT`, `IPV6_V6ONLY` for
    /// `LEV_OPT_BIND_IPV6ONLY`, `bind`, then [`new`](Self::new). A `backlog` of 0 is refused.
    /// On an error the socket is closed. libevent: `evconnlistener_new_bind()`.
    pub fn new_bind(
        base: &mut Base,
        addr: SocketAddr,
        flags: LevOpt,
        backlog: i32,
        cb: impl FnMut(&mut Base, &Listener, OwnedFd, Option<SocketAddr>) + 'static,
    ) -> Result<Listener> {
        if backlog == 0 {
            return Err(Error::Invalid(
                "evconnlistener_new_bind: a backlog of 0 means \"already listening\", which a new \
                 socket is not"
                    .into(),
            ));
        }
        let family = match addr {
            SocketAddr::V4(_) => libc::AF_INET,
            SocketAddr::V6(_) => libc::AF_INET6,
        };
        let mut socktype = libc::SOCK_STREAM | libc::SOCK_NONBLOCK;
        if flags.contains(LEV_OPT_CLOSE_ON_EXEC) {
            socktype |= libc::SOCK_CLOEXEC;
        }
        // SAFETY: socket takes only integers.
        let fd = cvt(unsafe { libc::socket(family, socktype, 0) }, "socket")?;
        // SAFETY: socket succeeded: the fd is open and ours.
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        let prepared = Self::prepare(fd, &addr, flags);
        if let Err(e) = prepared {
            // One close(2), as libevent's evutil_closesocket (no debug-build fcntl probe).
            let _ = close_owned(sock);
            return Err(e);
        }
        Listener::new(base, sock, flags, backlog, cb)
    }
    // ANCHOR_END: new_bind

    /// The socket options and `bind` of [`new_bind`](Self::new_bind), in libevent's order.
    fn prepare(fd: RawFd, addr: &SocketAddr, flags: LevOpt) -> Result<()> {
        setsockopt_on(
            fd,
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            "setsockopt(SO_KEEPALIVE)",
        )?;
        if flags.contains(LEV_OPT_REUSEABLE) {
            setsockopt_on(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                "setsockopt(SO_REUSEADDR)",
            )?;
        }
        if flags.contains(LEV_OPT_REUSEABLE_PORT) {
            setsockopt_on(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEPORT,
                "setsockopt(SO_REUSEPORT)",
            )?;
        }
        if flags.contains(LEV_OPT_DEFERRED_ACCEPT) {
            setsockopt_on(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                "setsockopt(TCP_DEFER_ACCEPT)",
            )?;
        }
        if flags.contains(LEV_OPT_BIND_IPV6ONLY) {
            setsockopt_on(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                "setsockopt(IPV6_V6ONLY)",
            )?;
        }
        bind(fd, addr)
    }

    // ANCHOR: listener_read_cb
    /// The socket is readable: `accept4` until it fails, each connection to the user's callback;
    /// stop early if the callback freed or disabled the listener. EAGAIN, EINTR, ECONNABORTED end
    /// the loop quietly; another error goes to the error callback, or is logged — and the
    /// listener stays enabled (EMFILE: it fires again at once; see the module docs).
    /// libevent: `listener_read_cb()`.
    fn listener_read_cb(&self, base: &mut Base) {
        let err = loop {
            // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
            let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: ss/len describe a writable sockaddr_storage.
            let res = unsafe {
                libc::accept4(
                    self.0.fd,
                    (&mut ss as *mut libc::sockaddr_storage).cast(),
                    &mut len,
                    self.0.accept4_flags,
                )
            };
            let new_fd = match cvt(res, "accept4") {
                Ok(new_fd) => new_fd,
                Err(e) => break e,
            };
            // SAFETY: accept4 succeeded: the fd is open and nobody else has it.
            let conn = unsafe { OwnedFd::from_raw_fd(new_fd) };
            if len == 0 {
                // Old kernels did this in reply to nmap; libevent closes and goes on.
                let _ = close_owned(conn);
                continue;
            }
            let (cb, generation) = {
                let mut st = self.0.state.borrow_mut();
                (st.cb.take(), st.generation)
            };
            let Some(mut cb) = cb else {
                let _ = close_owned(conn);
                return;
            };
            let addr = peer_addr(&ss);
            // A panic in the callback unwinds through here: the callback is put back first.
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| cb(base, self, conn, addr)));
            {
                let mut st = self.0.state.borrow_mut();
                if !st.freed && st.generation == generation {
                    st.cb.get_or_insert(cb);
                }
            }
            if let Err(payload) = outcome {
                panic::resume_unwind(payload);
            }
            let st = self.0.state.borrow();
            if st.freed || !st.enabled {
                // The callback freed or disabled the listener.
                return;
            }
        };
        if matches!(
            err.raw_os_error(),
            Some(libc::EAGAIN | libc::EINTR | libc::ECONNABORTED)
        ) {
            return;
        }
        let (errorcb, generation) = {
            let mut st = self.0.state.borrow_mut();
            (st.errorcb.take(), st.generation)
        };
        let Some(mut errorcb) = errorcb else {
            crate::log::warn(&format!("Error from accept() call: {err}"));
            return;
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| errorcb(base, self, &err)));
        {
            let mut st = self.0.state.borrow_mut();
            if !st.freed && st.generation == generation {
                st.errorcb.get_or_insert(errorcb);
            }
        }
        if let Err(payload) = outcome {
            panic::resume_unwind(payload);
        }
    }
    // ANCHOR_END: listener_read_cb

    /// The listener's event. It exists from the end of `new` on.
    fn event(&self) -> EventId {
        *self.0.event.get().expect("set by Listener::new")
    }

    /// Starts accepting: `event_add` of the listener's event (`epoll_ctl` ADD) — once it has a
    /// callback: without one (see [`set_cb`](Self::set_cb)) it is only marked enabled.
    /// libevent: `evconnlistener_enable()` → `event_listener_enable()`.
    pub fn enable(&self, base: &mut Base) -> Result<()> {
        let has_cb = {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("evconnlistener_enable"));
            }
            st.enabled = true;
            st.has_cb
        };
        if has_cb {
            base.event_add(self.event(), None)
        } else {
            Ok(())
        }
    }

    /// Replaces the callback (`None`: none; connections that come meanwhile are accepted and
    /// closed). An enabled listener that had none starts accepting. libevent:
    /// `evconnlistener_set_cb()`.
    pub fn set_cb(
        &self,
        base: &mut Base,
        cb: Option<impl FnMut(&mut Base, &Listener, OwnedFd, Option<SocketAddr>) + 'static>,
    ) -> Result<()> {
        let (enable, old) = {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("evconnlistener_set_cb"));
            }
            let enable = st.enabled && !st.has_cb;
            st.has_cb = cb.is_some();
            st.generation += 1;
            let new = cb.map(|cb| Box::new(cb) as ListenerCallback);
            (enable, std::mem::replace(&mut st.cb, new))
        };
        // Dropped once the state is no longer borrowed: its captures may hold the listener.
        drop(old);
        if enable { self.enable(base) } else { Ok(()) }
    }

    /// Stops accepting: `event_del` (`epoll_ctl` DEL); connections wait in the listen queue.
    /// Inside the callback, ends `listener_read_cb`'s loop after this connection.
    /// libevent: `evconnlistener_disable()` → `event_listener_disable()`.
    pub fn disable(&self, base: &mut Base) -> Result<()> {
        {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("evconnlistener_disable"));
            }
            st.enabled = false;
        }
        base.event_del(self.event())
    }

    /// Whether the listener is enabled (made without `LEV_OPT_DISABLED`, or `enable`d since).
    /// libevent: `lev->enabled` (no accessor there).
    pub fn is_enabled(&self) -> bool {
        self.0.state.borrow().enabled
    }

    /// Sets (or, with `None`, removes) the error callback. libevent:
    /// `evconnlistener_set_error_cb()`.
    pub fn set_error_cb(
        &self,
        errorcb: Option<impl FnMut(&mut Base, &Listener, &Error) + 'static>,
    ) {
        let mut st = self.0.state.borrow_mut();
        if st.freed {
            return;
        }
        st.errorcb = errorcb.map(|cb| Box::new(cb) as ListenerErrorCallback);
        st.generation += 1;
    }

    /// The listening socket. libevent: `evconnlistener_get_fd()`.
    pub fn get_fd(&self) -> RawFd {
        self.0.fd
    }

    /// The options it was made with. libevent: `lev->flags`.
    pub fn flags(&self) -> LevOpt {
        self.0.flags
    }

    /// Whether `base` is the listener's base (false once freed). libevent's
    /// `evconnlistener_get_base()` returns the base; in minievent every callback is handed
    /// `&mut Base` instead, so this only checks.
    pub fn belongs_to(&self, base: &Base) -> bool {
        base.event_pending(self.event(), EV_READ).is_ok()
    }

    // ANCHOR: free
    /// Frees the listener: its callbacks go, its event is freed (`event_del`: `epoll_ctl` DEL if
    /// it was enabled), and with `LEV_OPT_CLOSE_ON_FREE` the socket is closed (`Ok(None)`);
    /// without, the socket is given back open (`Ok(Some(sock))`). May be called from its own
    /// callback: `listener_read_cb` stops. Every later call fails.
    /// libevent: `evconnlistener_free()` → `event_listener_destroy()`.
    pub fn free(&self, base: &mut Base) -> Result<Option<OwnedFd>> {
        {
            let mut st = self.0.state.borrow_mut();
            if st.freed {
                return Err(freed("evconnlistener_free"));
            }
            st.freed = true;
            st.enabled = false;
            st.cb = None;
            st.errorcb = None;
            st.generation += 1;
        }
        let deleted = base.event_free(self.event());
        let sock = self.0.sock.borrow_mut().take();
        let given_back = match sock {
            Some(sock) if self.0.flags.contains(LEV_OPT_CLOSE_ON_FREE) => {
                close_owned(sock.into_owned())?;
                None
            }
            Some(sock) => Some(sock.into_owned()),
            None => None,
        };
        deleted.map(|()| given_back)
    }
    // ANCHOR_END: free
}
