//! The listener (src/listener.rs), against libevent's listener.c: `listener_read_cb` accepts every
//! queued connection in one callback, enable/disable, the error callback (and what happens
//! without one: libevent's listener stays enabled, so an accept error comes back on every pass),
//! `LEV_OPT_CLOSE_ON_FREE`, `LEV_OPT_DISABLED`, the socket options of `evconnlistener_new_bind`.

use minievent::listener::Listener;
use minievent::{
    Base, Error, LEV_OPT_CLOSE_ON_EXEC, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_DEFERRED_ACCEPT,
    LEV_OPT_DISABLED, LEV_OPT_REUSEABLE, LEV_OPT_REUSEABLE_PORT, LevOpt, LoopFlags,
};
use std::cell::{Cell, RefCell};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;

/// 127.0.0.1 on a port the kernel picks.
fn any_port() -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
}

/// The address a listening socket is bound to (`getsockname`).
fn local_addr(fd: RawFd) -> SocketAddr {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: sin/len describe a writable sockaddr_in.
    let r = unsafe { libc::getsockname(fd, (&mut sin as *mut libc::sockaddr_in).cast(), &mut len) };
    assert_eq!(r, 0, "getsockname");
    SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
        u16::from_be(sin.sin_port),
    ))
}

/// `getsockopt(fd, level, name)` as an int.
fn sockopt(fd: RawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v/len describe a writable c_int.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "getsockopt");
    v
}

/// Whether `fd` is open (`fcntl(F_GETFD)` succeeds).
fn is_open(fd: RawFd) -> bool {
    // SAFETY: fcntl with F_GETFD takes no pointer.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// The accepted sockets and their peers, as a test's callback collects them.
type Accepted = Rc<RefCell<Vec<(OwnedFd, Option<SocketAddr>)>>>;

/// A listener on 127.0.0.1 that keeps every accepted socket (and its peer) in `accepted`.
fn collecting(base: &mut Base, flags: LevOpt) -> (Listener, Accepted) {
    let accepted = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&accepted);
    let lev = Listener::new_bind(base, any_port(), flags, 16, move |_, _, sock, peer| {
        sink.borrow_mut().push((sock, peer))
    })
    .expect("new_bind");
    (lev, accepted)
}

/// `n` clients connected to the listener (their connections wait in its accept queue).
fn connect(lev: &Listener, n: usize) -> Vec<TcpStream> {
    let addr = local_addr(lev.get_fd());
    (0..n)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect()
}

#[test]
fn one_callback_accepts_every_queued_connection_until_eagain() {
    let mut base = Base::new().expect("base");
    let (lev, accepted) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE);
    let clients = connect(&lev, 3);
    // One loop pass: one readiness of the listening socket, three accept4s that return a
    // connection and one that fails with EAGAIN.
    base.run(LoopFlags::ONCE).expect("loop");
    let accepted = accepted.borrow();
    assert_eq!(accepted.len(), 3);
    for ((sock, peer), client) in accepted.iter().zip(&clients) {
        // SAFETY: fcntl with F_GETFL takes no pointer.
        let fl = unsafe { libc::fcntl(sock.as_raw_fd(), libc::F_GETFL) };
        assert_ne!(fl & libc::O_NONBLOCK, 0, "accept4(SOCK_NONBLOCK)");
        assert_eq!(*peer, Some(client.local_addr().expect("addr")));
    }
}

#[test]
fn disabled_at_first_then_enabled_then_disabled() {
    let mut base = Base::new().expect("base");
    let (lev, accepted) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED);
    assert!(!lev.is_enabled());
    let _clients = connect(&lev, 1);
    // LEV_OPT_DISABLED: no event_add, so no event at all: the loop has nothing to wait for.
    base.run(LoopFlags::NONBLOCK).expect("loop");
    assert_eq!(accepted.borrow().len(), 0);
    lev.enable(&mut base).expect("enable");
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(accepted.borrow().len(), 1);
    lev.disable(&mut base).expect("disable");
    let _more = connect(&lev, 1);
    base.run(LoopFlags::NONBLOCK).expect("loop");
    assert_eq!(
        accepted.borrow().len(),
        1,
        "a disabled listener accepts nothing"
    );
    lev.enable(&mut base).expect("enable");
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(accepted.borrow().len(), 2);
}

#[test]
fn disabling_in_the_callback_ends_the_accept_loop() {
    let mut base = Base::new().expect("base");
    let count = Rc::new(Cell::new(0));
    let c = Rc::clone(&count);
    let lev = Listener::new_bind(
        &mut base,
        any_port(),
        LEV_OPT_CLOSE_ON_FREE,
        16,
        move |base, lev, sock, _| {
            c.set(c.get() + 1);
            minievent::sys::close_owned(sock).expect("close");
            lev.disable(base).expect("disable");
        },
    )
    .expect("new_bind");
    let _clients = connect(&lev, 3);
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(
        count.get(),
        1,
        "listener_read_cb returns once the listener is disabled"
    );
    lev.enable(&mut base).expect("enable");
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(count.get(), 2);
}

#[test]
fn freeing_in_the_callback_ends_the_accept_loop_and_closes_the_socket() {
    let mut base = Base::new().expect("base");
    let count = Rc::new(Cell::new(0));
    let c = Rc::clone(&count);
    let lev = Listener::new_bind(
        &mut base,
        any_port(),
        LEV_OPT_CLOSE_ON_FREE,
        16,
        move |base, lev, sock, _| {
            c.set(c.get() + 1);
            minievent::sys::close_owned(sock).expect("close");
            assert!(lev.free(base).expect("free").is_none());
        },
    )
    .expect("new_bind");
    let fd = lev.get_fd();
    let _clients = connect(&lev, 3);
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(count.get(), 1);
    assert!(
        !is_open(fd),
        "LEV_OPT_CLOSE_ON_FREE closed the listening socket"
    );
    assert!(matches!(lev.enable(&mut base), Err(Error::Invalid(_))));
    assert!(matches!(lev.free(&mut base), Err(Error::Invalid(_))));
}

#[test]
fn close_on_free_closes_and_without_it_free_gives_the_socket_back() {
    let mut base = Base::new().expect("base");
    let (lev, _) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE);
    let fd = lev.get_fd();
    assert!(lev.belongs_to(&base));
    assert!(lev.free(&mut base).expect("free").is_none());
    assert!(!is_open(fd));
    assert!(!lev.belongs_to(&base));

    let std_listener = TcpListener::bind(any_port()).expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let sock = OwnedFd::from(std_listener);
    let fd = sock.as_raw_fd();
    // Backlog 0: the socket already listens (evconnlistener_new makes no listen call).
    let lev = Listener::new(&mut base, sock, LevOpt::empty(), 0, |_, _, _, _| {}).expect("new");
    let back = lev
        .free(&mut base)
        .expect("free")
        .expect("the socket comes back");
    assert_eq!(back.as_raw_fd(), fd);
    assert!(is_open(fd));
}

#[test]
fn new_bind_sets_libevents_socket_options() {
    let mut base = Base::new().expect("base");
    let (plain, _) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE);
    let fd = plain.get_fd();
    assert_eq!(
        sockopt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        1,
        "always SO_KEEPALIVE"
    );
    assert_eq!(sockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR), 0);
    assert_eq!(sockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT), 0);
    // SAFETY: fcntl with GET commands takes no pointer.
    let (fl, fdfl) = unsafe {
        (
            libc::fcntl(fd, libc::F_GETFL),
            libc::fcntl(fd, libc::F_GETFD),
        )
    };
    assert_ne!(fl & libc::O_NONBLOCK, 0, "socket(SOCK_NONBLOCK)");
    assert_eq!(fdfl & libc::FD_CLOEXEC, 0);

    let (opts, _) = collecting(
        &mut base,
        LEV_OPT_CLOSE_ON_FREE
            | LEV_OPT_REUSEABLE
            | LEV_OPT_REUSEABLE_PORT
            | LEV_OPT_DEFERRED_ACCEPT
            | LEV_OPT_CLOSE_ON_EXEC,
    );
    let fd = opts.get_fd();
    assert_eq!(sockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR), 1);
    assert_eq!(sockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT), 1);
    assert_ne!(sockopt(fd, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT), 0);
    // SAFETY: fcntl with F_GETFD takes no pointer.
    assert_ne!(
        unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC,
        0
    );
}

#[test]
fn reuseable_lets_a_new_listener_bind_while_the_old_port_has_time_wait_connections() {
    let mut base = Base::new().expect("base");
    let (lev, accepted) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    let addr = local_addr(lev.get_fd());
    let client = connect(&lev, 1);
    base.run(LoopFlags::ONCE).expect("loop");
    // The server closes first: its side of the connection goes to TIME_WAIT on `addr`.
    for (sock, _) in accepted.borrow_mut().drain(..) {
        minievent::sys::close_owned(sock).expect("close");
    }
    drop(client);
    lev.free(&mut base).expect("free");
    let again = Listener::new_bind(
        &mut base,
        addr,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
        16,
        |_, _, _, _| {},
    )
    .expect("SO_REUSEADDR: bind succeeds despite the TIME_WAIT connection");
    assert_eq!(local_addr(again.get_fd()), addr);
}

#[test]
fn a_backlog_of_zero_is_refused_by_new_bind() {
    let mut base = Base::new().expect("base");
    let r = Listener::new_bind(
        &mut base,
        any_port(),
        LEV_OPT_CLOSE_ON_FREE,
        0,
        |_, _, _, _| {},
    );
    assert!(matches!(r, Err(Error::Invalid(_))));
}

/// A "listener" on one end of a socketpair (never listening): when the peer writes, the end is
/// readable and `accept4` fails with EINVAL — an error that is not EAGAIN, EINTR or
/// ECONNABORTED, so it goes to the error callback.
fn failing_listener(base: &mut Base) -> (Listener, OwnedFd) {
    let [a, b] = minievent::util::socketpair().expect("socketpair");
    minievent::util::make_socket_nonblocking(a).expect("nonblocking");
    // SAFETY: both fds are fresh from socketpair and owned here only.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(a), OwnedFd::from_raw_fd(b)) };
    let lev = Listener::new(base, a, LEV_OPT_CLOSE_ON_FREE, 0, |_, _, _, _| {
        panic!("nothing can be accepted")
    })
    .expect("new");
    minievent::util::write(b.as_raw_fd(), b"x").expect("write");
    (lev, b)
}

#[test]
fn an_accept_error_goes_to_the_error_callback_and_the_listener_stays_enabled() {
    let mut base = Base::new().expect("base");
    let (lev, _peer) = failing_listener(&mut base);
    let errors = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&errors);
    lev.set_error_cb(Some(move |_: &mut Base, _: &Listener, e: &Error| {
        seen.borrow_mut().push(e.raw_os_error())
    }));
    // libevent's behaviour: the listener is not disabled, the socket stays readable, so every
    // pass calls the error callback again (with EMFILE this is the spin of DIVERGENCES.md).
    for _ in 0..3 {
        base.run(LoopFlags::ONCE).expect("loop");
    }
    assert_eq!(*errors.borrow(), vec![Some(libc::EINVAL); 3]);
    assert!(lev.is_enabled());
}

#[test]
fn an_error_callback_that_disables_the_listener_stops_the_repeats() {
    let mut base = Base::new().expect("base");
    let (lev, _peer) = failing_listener(&mut base);
    let count = Rc::new(Cell::new(0));
    let c = Rc::clone(&count);
    lev.set_error_cb(Some(move |base: &mut Base, lev: &Listener, _: &Error| {
        c.set(c.get() + 1);
        lev.disable(base).expect("disable");
    }));
    base.run(LoopFlags::ONCE).expect("loop");
    base.run(LoopFlags::NONBLOCK).expect("loop");
    base.run(LoopFlags::NONBLOCK).expect("loop");
    assert_eq!(count.get(), 1);
    assert!(!lev.is_enabled());
}

#[test]
fn without_an_error_callback_the_error_is_logged_and_the_listener_stays_enabled() {
    let mut base = Base::new().expect("base");
    let (lev, _peer) = failing_listener(&mut base);
    base.run(LoopFlags::ONCE).expect("loop");
    base.run(LoopFlags::ONCE)
        .expect("loop: still readable, still enabled");
    assert!(lev.is_enabled());
}

#[test]
fn a_panicking_callback_is_kept_and_the_listener_goes_on() {
    let mut base = Base::new().expect("base");
    let calls = Rc::new(Cell::new(0));
    let c = Rc::clone(&calls);
    let lev = Listener::new_bind(
        &mut base,
        any_port(),
        LEV_OPT_CLOSE_ON_FREE,
        16,
        move |_, _, sock, _| {
            c.set(c.get() + 1);
            minievent::sys::close_owned(sock).expect("close");
            if c.get() == 1 {
                panic!("first connection");
            }
        },
    )
    .expect("new_bind");
    let _clients = connect(&lev, 2);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| base.run(LoopFlags::ONCE)));
    assert!(r.is_err());
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(
        calls.get(),
        2,
        "the callback was put back and accepted the second connection"
    );
}

/// listener.c:evconnlistener_set_cb: without a callback, a connection is accepted and closed and
/// enabling adds no event; a new callback on an enabled listener starts it, and is the one run.
#[test]
fn set_cb_replaces_the_callback_and_none_closes_what_comes() {
    let mut base = Base::new().expect("base");
    let (lev, accepted) = collecting(&mut base, LEV_OPT_CLOSE_ON_FREE);
    lev.set_cb(
        &mut base,
        None::<fn(&mut Base, &Listener, OwnedFd, Option<SocketAddr>)>,
    )
    .expect("set_cb");
    let clients = connect(&lev, 1);
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(accepted.borrow().len(), 0);
    let mut byte = [0u8; 1];
    clients[0]
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let n = std::io::Read::read(&mut &clients[0], &mut byte).expect("read");
    assert_eq!(n, 0, "accepted and closed: the client sees EOF");
    lev.disable(&mut base).expect("disable");
    lev.enable(&mut base).expect("enable");
    assert!(lev.is_enabled());
    // No callback: enabling added no event, so the loop has nothing to wait for.
    assert_eq!(
        base.run(LoopFlags::NONBLOCK).expect("loop"),
        minievent::LoopExit::NoEvents
    );
    let count = Rc::new(Cell::new(0));
    let c = Rc::clone(&count);
    lev.set_cb(
        &mut base,
        Some(
            move |_: &mut Base, _: &Listener, _: OwnedFd, _: Option<SocketAddr>| c.set(c.get() + 1),
        ),
    )
    .expect("set_cb");
    let _more = connect(&lev, 2);
    base.run(LoopFlags::ONCE).expect("loop");
    assert_eq!(count.get(), 2);
    assert_eq!(accepted.borrow().len(), 0, "the first callback is gone");
    lev.free(&mut base).expect("free");
    assert!(
        lev.set_cb(
            &mut base,
            None::<fn(&mut Base, &Listener, OwnedFd, Option<SocketAddr>)>
        )
        .is_err()
    );
}
