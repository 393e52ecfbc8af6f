//! `echo_event` — the walk-through post's first echo server, on raw events, without the walk-through post's bug.
//!
//! The walk-through post's read callback writes what it read straight back with one `write()` and forgets
//! whatever a short write did not take (traces/reference/echo_event.c keeps that bug on purpose).
//! Here a connection keeps the unwritten rest, stops reading (back-pressure) and waits for
//! EV_WRITE; at end of file it flushes everything before it closes — so no byte is ever lost, also
//! when a client half-closes. In a lock-step session no write is short and the syscall trace is the
//! same as the walk-through post's (scenario `echo-event`).
//!
//! Usage: `echo_event [--port P]` (default 5555), listening on 127.0.0.1; `--help` says more. What
//! it shares with the other echo server — the command line, output that never kills or blocks
//! it, pausing `accept` when it runs out of fds — is in `echo_common`.

mod echo_common;

use echo_common::{say, say_err};

use minievent::util::{read_uninit, would_block, write};
use minievent::{Base, EV_PERSIST, EV_READ, EV_WRITE, EventId};
use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;

// ANCHOR: conn
/// One client connection.
struct Conn {
    /// The socket, closed by [`close_conn`].
    sock: OwnedFd,
    /// The read event of the walk-through post.
    read_ev: EventId,
    /// Made at the first short write: a connection whose writes all went through needs none,
    /// and costs one event and no more memory, as in the walk-through post.
    backlog: Option<Box<Backlog>>,
}

/// What a connection needs once a write came up short.
struct Backlog {
    /// The write event that waits for room in the socket.
    write_ev: EventId,
    /// Bytes read but not yet written back; reading pauses while there are any, so the EOF of a
    /// half-closed client is only seen — and the socket only closed — once they are all written.
    pending: Vec<u8>,
}

thread_local! {
    /// The open connections, indexed by fd. The fd is what every callback is given, as in the
    /// walk-through post, so the callbacks capture nothing: no closure is allocated per event.
    static CONNS: RefCell<Vec<Option<Conn>>> = const { RefCell::new(Vec::new()) };
}

/// The table's index for an fd (an open fd is never negative).
fn slot(fd: RawFd) -> usize {
    usize::try_from(fd).expect("an open fd is not negative")
}

/// Runs `f` on the open connection on `fd`; `None` if there is none.
fn with_conn<R>(fd: RawFd, f: impl FnOnce(&mut Conn) -> R) -> Option<R> {
    CONNS.with_borrow_mut(|conns| conns.get_mut(slot(fd))?.as_mut().map(f))
}
// ANCHOR_END: conn

fn main() -> ExitCode {
    echo_common::main("echo_event", start)
}

// ANCHOR: on_accept
/// A new connection (accepted, non-blocking, announced by echo_common): its read event, added.
fn start(base: &mut Base, sock: OwnedFd) {
    let fd = sock.as_raw_fd();
    if let Err(e) = start_conn(base, sock) {
        // start_conn freed what it had made and closed the socket.
        say_err!("echo_event: fd {fd}: {e}");
    }
}

/// The read event, then reading; on any failure the event (if made) is freed and the socket
/// closed.
fn start_conn(base: &mut Base, sock: OwnedFd) -> minievent::Result<()> {
    let fd = sock.as_raw_fd();
    let read_ev = match base.event_new(fd, EV_READ | EV_PERSIST, |base, fd, _, _| on_read(base, fd))
    {
        Ok(ev) => ev,
        Err(e) => {
            echo_common::close_conn(sock);
            return Err(e);
        }
    };
    CONNS.with_borrow_mut(|conns| {
        let at = slot(fd);
        if at >= conns.len() {
            conns.resize_with(at + 1, || None);
        }
        conns[at] = Some(Conn {
            sock,
            read_ev,
            backlog: None,
        });
    });
    echo_common::opened(fd, move |base| close_conn_quietly(base, fd));
    base.event_add(read_ev, None)
        .inspect_err(|_| close_conn_quietly(base, fd))
}
// ANCHOR_END: on_accept

// ANCHOR: on_read
/// Readable: echo what arrived; keep what the socket would not take and wait for EV_WRITE.
fn on_read(base: &mut Base, fd: RawFd) {
    // Not zeroed: the kernel fills what it reads, and only that much is looked at.
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let result = match read_uninit(fd, &mut buf) {
        Ok([]) => {
            // EOF. Nothing is pending here (reading pauses while something is), so close now.
            return close_conn(base, fd);
        }
        Ok(data) => echo(base, fd, data),
        Err(e) if would_block(&e) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        say_err!("echo_event: fd {fd}: {e}");
        close_conn(base, fd);
    }
}

/// Writes `data` back; a short write's rest becomes `pending`, reading pauses, writing is awaited.
fn echo(base: &mut Base, fd: RawFd, data: &[u8]) -> minievent::Result<()> {
    let written = match write(fd, data) {
        Ok(n) => n,
        Err(e) if would_block(&e) => 0,
        Err(e) => return Err(e),
    };
    if written == data.len() {
        return Ok(());
    }
    with_conn(fd, |c| {
        let backlog = match &mut c.backlog {
            Some(backlog) => backlog,
            None => {
                // event_new makes no syscall: the trace is the same whenever it is made.
                let write_ev = base.event_new(fd, EV_WRITE | EV_PERSIST, |base, fd, _, _| {
                    on_write(base, fd)
                })?;
                c.backlog.insert(Box::new(Backlog {
                    write_ev,
                    pending: Vec::new(),
                }))
            }
        };
        backlog.pending.extend_from_slice(&data[written..]);
        base.event_del(c.read_ev)?;
        base.event_add(backlog.write_ev, None)
    })
    .unwrap_or(Ok(()))
}
// ANCHOR_END: on_read

// ANCHOR: on_write
/// Writable: flush `pending`; when it is empty, stop waiting for EV_WRITE and read again (which is
/// how a half-closed client's EOF is reached, after its last byte was echoed).
fn on_write(base: &mut Base, fd: RawFd) {
    let resumed = with_conn(fd, |c| {
        let Some(backlog) = c.backlog.as_mut() else {
            return Ok(());
        };
        let n = match write(fd, &backlog.pending) {
            Ok(n) => n,
            Err(e) if would_block(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        backlog.pending.drain(..n);
        if !backlog.pending.is_empty() {
            return Ok(());
        }
        base.event_del(backlog.write_ev)?;
        base.event_add(c.read_ev, None)
    });
    if let Some(Err(e)) = resumed {
        say_err!("echo_event: fd {fd}: {e}");
        close_conn(base, fd);
    }
}
// ANCHOR_END: on_write

// ANCHOR: close_conn
/// Frees the events and closes the socket, in the walk-through post's order: message, event_free, close.
fn close_conn(base: &mut Base, fd: RawFd) {
    say!("closed fd {fd}");
    close_conn_quietly(base, fd);
}

/// [`close_conn`] without the message: takes the connection out of the table, frees its
/// events, closes the socket (what is pending is dropped). Also how `--graceful` closes an open
/// connection at shutdown.
fn close_conn_quietly(base: &mut Base, fd: RawFd) {
    let Some(c) = CONNS.with_borrow_mut(|conns| conns.get_mut(slot(fd))?.take()) else {
        return;
    };
    echo_common::closed(fd);
    for ev in [Some(c.read_ev), c.backlog.map(|b| b.write_ev)]
        .into_iter()
        .flatten()
    {
        if let Err(e) = base.event_free(ev) {
            say_err!("echo_event: fd {fd}: {e}");
        }
    }
    echo_common::close_conn(c.sock);
}
// ANCHOR_END: close_conn
