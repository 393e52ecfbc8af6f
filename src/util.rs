//! Small socket helpers. libevent: evutil.c (`evutil_make_socket_nonblocking`,
//! `evutil_make_socket_closeonexec`, `evutil_make_listen_socket_reuseable`) and the plain socket calls
//! libevent's example programs make themselves.

use crate::error::{Error, Result};
use crate::sys::{cvt, cvt_size};
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Sets O_NONBLOCK: `fcntl(F_GETFL)` then `fcntl(F_SETFL, flags|O_NONBLOCK)`.
/// libevent: `evutil_make_socket_nonblocking()`.
pub fn make_socket_nonblocking(fd: RawFd) -> Result<()> {
    fcntl_add_flag(fd, FcntlFlags::STATUS, libc::O_NONBLOCK)
}

/// Sets FD_CLOEXEC: `fcntl(F_GETFD)` then `fcntl(F_SETFD, flags|FD_CLOEXEC)`.
/// libevent: `evutil_make_socket_closeonexec()`.
pub fn make_socket_closeonexec(fd: RawFd) -> Result<()> {
    fcntl_add_flag(fd, FcntlFlags::DESCRIPTOR, libc::FD_CLOEXEC)
}

/// A pair of fcntl commands that read and write one set of flags, with their names for errors.
struct FcntlFlags {
    get: (libc::c_int, &'static str),
    set: (libc::c_int, &'static str),
}

impl FcntlFlags {
    /// The file status flags (O_NONBLOCK, ...).
    const STATUS: FcntlFlags = FcntlFlags {
        get: (libc::F_GETFL, "fcntl(F_GETFL)"),
        set: (libc::F_SETFL, "fcntl(F_SETFL)"),
    };
    /// The descriptor flags (FD_CLOEXEC).
    const DESCRIPTOR: FcntlFlags = FcntlFlags {
        get: (libc::F_GETFD, "fcntl(F_GETFD)"),
        set: (libc::F_SETFD, "fcntl(F_SETFD)"),
    };
}

/// Reads the flags and, unless `flag` is already set, writes them back with it — the two calls
/// libevent's `evutil_make_socket_*` helpers make.
fn fcntl_add_flag(fd: RawFd, cmds: FcntlFlags, flag: libc::c_int) -> Result<()> {
    // SAFETY: fcntl with a GET command takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(fd, cmds.get.0, 0) }, cmds.get.1)?;
    if flags & flag == 0 {
        // SAFETY: fcntl with a SET command takes an int.
        cvt(
            unsafe { libc::fcntl(fd, cmds.set.0, flags | flag) },
            cmds.set.1,
        )?;
    }
    Ok(())
}

/// A TCP listening socket on `addr:port`: `socket`, `setsockopt(SO_REUSEADDR)`, `bind`, `listen`,
/// then non-blocking — the calls an echo server written on libevent makes before its first event.
pub fn listen_tcp(addr: Ipv4Addr, port: u16, backlog: i32) -> Result<OwnedFd> {
    // SAFETY: socket takes only integers.
    let fd = cvt(
        unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) },
        "socket",
    )?;
    // SAFETY: socket succeeded: the fd is open and ours. Dropped (closed) on any error below.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // SAFETY: the option value points at a live c_int of the given size.
    cvt(
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        },
        "setsockopt(SO_REUSEADDR)",
    )?;
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sin is a valid sockaddr_in of the given length.
    cvt(
        unsafe {
            libc::bind(
                fd,
                (&sin as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        },
        "bind",
    )?;
    // SAFETY: listen takes only integers.
    cvt(unsafe { libc::listen(fd, backlog) }, "listen")?;
    make_socket_nonblocking(fd)?;
    Ok(sock)
}

/// `accept(fd, &addr, &len)`: a new connection, or `None` when none is waiting (EAGAIN).
pub fn accept(listener: &impl AsRawFd) -> Result<Option<OwnedFd>> {
    let fd = listener.as_raw_fd();
    let mut addr: libc::sockaddr_storage = unsafe_zeroed_storage();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: addr/len describe a writable sockaddr_storage.
    let res = unsafe {
        libc::accept(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    match cvt(res, "accept") {
        // SAFETY: accept succeeded: the fd is open and nobody else has it.
        Ok(conn) => Ok(Some(unsafe { OwnedFd::from_raw_fd(conn) })),
        Err(e) if would_block(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An all-zero `sockaddr_storage` (it has no constructor: every field is plain data).
fn unsafe_zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

/// `read(fd, buf, len)`: bytes read (0 at end of file).
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: every initialised byte is also a valid `MaybeUninit<u8>`, and read_uninit only
    // writes bytes (never de-initialises one), so `buf` stays initialised.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    read_uninit(fd, uninit).map(|data| data.len())
}

/// `read(fd, buf, len)` into memory that need not be initialised — a stack array of
/// `MaybeUninit<u8>` or a `Vec`'s spare capacity — so nothing is zeroed before the kernel fills
/// it, as in C. Returns the bytes read, initialised (empty at end of file).
pub fn read_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> Result<&mut [u8]> {
    // SAFETY: buf is writable for buf.len() bytes; the kernel only writes to it.
    let n = cvt_size(
        unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) },
        "read",
    )?;
    // SAFETY: read(2) initialised the first n bytes, and n <= buf.len().
    Ok(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n) })
}

/// `write(fd, buf, len)`: bytes written (possibly fewer than `buf.len()`).
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize> {
    // SAFETY: buf is readable for buf.len() bytes.
    cvt_size(
        unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) },
        "write",
    )
}

/// `true` for EAGAIN / EWOULDBLOCK (and EINTR): try again when the fd is ready.
/// libevent: `EVUTIL_ERR_RW_RETRIABLE()`.
pub fn would_block(e: &Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EINTR))
}

/// `socketpair(AF_UNIX, SOCK_STREAM, 0, sv)`: two connected sockets.
pub fn socketpair() -> Result<[RawFd; 2]> {
    let mut sv = [-1; 2];
    // SAFETY: sv has room for the two fds socketpair writes.
    cvt(
        unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) },
        "socketpair",
    )?;
    Ok(sv)
}

/// `dup(fd)`: a second fd for the same open file.
pub fn dup(fd: RawFd) -> Result<RawFd> {
    // SAFETY: dup takes only an integer.
    cvt(unsafe { libc::dup(fd) }, "dup")
}

/// `dup2(fd, to)`: makes `to` refer to `fd`'s open file, closing what `to` was.
///
/// # Safety
/// `to` is closed and replaced: nothing else (an `OwnedFd`, a `File`, a base's event) may own it
/// or rely on what it was — std's I/O safety rule for closing an fd. Safe code cannot call it:
///
/// ```compile_fail,E0133
/// minievent::util::dup2(0, 1);
/// ```
pub unsafe fn dup2(fd: RawFd, to: RawFd) -> Result<RawFd> {
    // SAFETY: dup2 takes only integers; replacing `to` is the caller's contract.
    cvt(unsafe { libc::dup2(fd, to) }, "dup2")
}

/// The hard limit on open files (`getrlimit(RLIMIT_NOFILE)`'s `rlim_max`): every fd this process
/// can ever open is below it (the kernel caps it at `fs.nr_open`).
pub fn open_files_hard_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid rlimit to write into.
    match cvt(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) },
        "getrlimit",
    ) {
        Ok(_) => lim.rlim_max,
        // getrlimit(RLIMIT_NOFILE) cannot fail on Linux; if it did, i32::MAX bounds any fd.
        Err(_) => libc::c_int::MAX as u64,
    }
}
