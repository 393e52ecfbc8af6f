//! The echo servers' output: one line per message, to stdout ([`say!`]) or stderr ([`say_err!`]),
//! that can neither kill the server nor block its loop.
//!
//! `println!` does both. Rust ignores SIGPIPE, so once the reader of a pipe is gone (`echo_event
//! | head -1`) a write fails with EPIPE and `println!` panics; and a write to a pipe nobody reads
//! any more blocks when the pipe is full (64 KiB on Linux) — with it the whole loop, every client
//! included. A pipe has no per-call "don't wait" (`send(MSG_DONTWAIT)` is for sockets), so the
//! file itself has to be non-blocking; but `O_NONBLOCK` belongs to the *open file description*,
//! which the shell shares with every other process writing to that pipe (`(echo_event; date) |
//! less`, a test runner's log pipe): set on it, their writes would start to fail with EAGAIN too.
//!
//! So [`init`], before the server opens anything, gives each of fds 1 and 2 a description of its
//! own where that matters:
//!
//! - a pipe or FIFO is opened again through `/proc/self/fd/N` (for a pipe that makes a new open
//!   file description of the same pipe), non-blocking, and `dup2`'d onto N. A write that would
//!   block fails with EAGAIN instead, on our description only. Lines are short (under PIPE_BUF,
//!   4096 bytes), so a write to a pipe is all or nothing: the line is written, or dropped and
//!   counted, and the next line that gets through is preceded by `(N lines dropped here: ...)`.
//!   A pipe without a reader left can't be opened again (ENXIO): its lines are dropped from the
//!   start.
//! - a socket (a service manager's log socket) is written with `send(MSG_DONTWAIT |
//!   MSG_NOSIGNAL)`, which needs no flag on the file.
//! - anything else (a terminal, a file, `/dev/null`) is written as it is: a file never blocks for
//!   long, and a terminal is someone watching (flow control with Ctrl-S does block it, as it
//!   blocks any program).
//!
//! An error other than EAGAIN (EPIPE: the reader is gone) ends a stream: its lines are dropped
//! from then on, and stderr says so once. Nothing here panics.
//!
//! The syscall traces do not change: the set-up runs before the banner (where a trace starts,
//! and before the base opens its fds, so every fd number stays), and each line is still one
//! `write(1, ...)` — non-blocking or not, the call is the same. That is why lines are not queued
//! for a writer thread either: its writes would come from another thread, in another order.

use std::fmt::{self, Write as _};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// One of the two output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// fd 1: what the server does (`accepted fd N`, `closed fd N`).
    Out,
    /// fd 2: what went wrong.
    Err,
}

/// How a stream is written (the `u8` in [`Sink::how`]).
const PLAIN: u8 = 0;
/// A pipe or FIFO with a non-blocking description of our own: `write`, EAGAIN drops the line.
const NONBLOCKING: u8 = 1;
/// A socket: `send(MSG_DONTWAIT | MSG_NOSIGNAL)`.
const SOCKET: u8 = 2;
/// Gone (EPIPE, no reader, closed): every line is dropped.
const DEAD: u8 = 3;

/// A stream's state. The servers are single-threaded; atomics just need no `unsafe` for a
/// `static`.
struct Sink {
    fd: RawFd,
    how: AtomicU8,
    /// Lines dropped since the last one written.
    dropped: AtomicU64,
}

static SINKS: [Sink; 2] = [
    Sink {
        fd: 1,
        how: AtomicU8::new(PLAIN),
        dropped: AtomicU64::new(0),
    },
    Sink {
        fd: 2,
        how: AtomicU8::new(PLAIN),
        dropped: AtomicU64::new(0),
    },
];

/// The server's name, for the one line that says a stream is gone.
static NAME: OnceLock<&'static str> = OnceLock::new();

impl Stream {
    fn sink(self) -> &'static Sink {
        match self {
            Stream::Out => &SINKS[0],
            Stream::Err => &SINKS[1],
        }
    }

    fn label(self) -> &'static str {
        match self {
            Stream::Out => "stdout",
            Stream::Err => "stderr",
        }
    }
}

/// Sets up fds 1 and 2 as the module docs say. Call it first, before anything opens an fd:
/// the reopened pipe briefly takes the lowest free fd.
pub fn init(name: &'static str) {
    let _ = NAME.set(name);
    for sink in &SINKS {
        sink.how.store(setup(sink.fd), Ordering::Relaxed);
    }
}

/// What to do with fd `fd`: [`PLAIN`], [`NONBLOCKING`] (after giving it a description of its
/// own), [`SOCKET`] or [`DEAD`].
fn setup(fd: RawFd) -> u8 {
    let path = format!("/proc/self/fd/{fd}");
    let Ok(meta) = fs::metadata(&path) else {
        // Not open at all (or no /proc, which the next step needs too).
        return if fd_is_open(fd) { PLAIN } else { DEAD };
    };
    let kind = meta.file_type();
    if kind.is_socket() {
        return SOCKET;
    }
    if !kind.is_fifo() {
        return PLAIN;
    }
    match OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
    {
        // std opens it close-on-exec; dup2 gives fd `fd` the description without that flag,
        // and dropping `own` closes the temporary fd.
        Ok(own) => {
            // SAFETY: dup2 takes only integers; `own` stays open until after the call.
            if unsafe { libc::dup2(own.as_raw_fd(), fd) } == -1 {
                PLAIN
            } else {
                NONBLOCKING
            }
        }
        // No reader left: every write would fail with EPIPE.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => DEAD,
        // Cannot be reopened (a sandbox without /proc access): keep the shared, blocking one.
        Err(_) => PLAIN,
    }
}

/// Whether `fd` is open (`fcntl(F_GETFD)`).
fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: fcntl F_GETFD only reads a descriptor flag.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Writes `args` and a newline to `stream` in one call, as the module docs say; never panics,
/// never blocks on a pipe or socket.
pub fn line(stream: Stream, args: fmt::Arguments<'_>) {
    let sink = stream.sink();
    if sink.how.load(Ordering::Relaxed) == DEAD {
        sink.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut text = String::new();
    let dropped = sink.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        let _ = writeln!(
            text,
            "({dropped} line(s) dropped here: {} was full)",
            stream.label()
        );
    }
    let _ = writeln!(text, "{args}");
    match write_all(sink, text.as_bytes()) {
        Ok(true) => sink.dropped.store(0, Ordering::Relaxed),
        Ok(false) => {
            sink.dropped.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            sink.how.store(DEAD, Ordering::Relaxed);
            sink.dropped.fetch_add(1, Ordering::Relaxed);
            if stream == Stream::Out {
                let name = NAME.get().copied().unwrap_or("echo server");
                line(
                    Stream::Err,
                    format_args!("{name}: stdout: {e}: its lines are dropped from now on"),
                );
            }
        }
    }
}

/// Writes all of `bytes`: `Ok(true)` when done, `Ok(false)` when the stream is full (nothing,
/// or for a socket possibly part, was written), `Err` when the stream is gone.
fn write_all(sink: &Sink, mut bytes: &[u8]) -> io::Result<bool> {
    let socket = sink.how.load(Ordering::Relaxed) == SOCKET;
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for `bytes.len()` bytes.
        let n = unsafe {
            if socket {
                libc::send(
                    sink.fd,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            } else {
                libc::write(sink.fd, bytes.as_ptr().cast(), bytes.len())
            }
        };
        if n >= 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) => return Ok(false),
            _ => return Err(e),
        }
    }
    Ok(true)
}

/// `say!("accepted fd {fd}")`: a line on stdout, through [`line`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::echo_common::output::line(
            $crate::echo_common::output::Stream::Out,
            format_args!($($arg)*),
        )
    };
}

/// `say_err!("{name}: {e}")`: a line on stderr, through [`line`].
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::echo_common::output::line(
            $crate::echo_common::output::Stream::Err,
            format_args!($($arg)*),
        )
    };
}

pub(crate) use {say, say_err};
