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
use std::rc::Rc;

// ANCHOR: conn
/// One client connection.
struct Conn {
    fd: RawFd,
    /// The socket, closed by [`close_conn`].
    sock: Option<OwnedFd>,
    /// The read event of the walk-through post (set right after it is made: its callback holds
    /// this connection).
    read_ev: Option<EventId>,
    /// The write event, made at the first short write: a connection that never has one needs
    /// none, and costs one event, as in the walk-through post.
    write_ev: Option<EventId>,
    /// Bytes read but not yet written back; reading pauses while there are any, so the EOF of a
    /// half-closed client is only seen — and the socket only closed — once they are all written.
    pending: Vec<u8>,
}

type Shared = Rc<RefCell<Conn>>;
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
    let shared = Rc::new(RefCell::new(Conn {
        fd,
        sock: Some(sock),
        read_ev: None,
        write_ev: None,
        pending: Vec::new(),
    }));
    let c = Rc::clone(&shared);
    let read_ev = match base.event_new(fd, EV_READ | EV_PERSIST, move |base, _, _, _| {
        on_read(base, &c)
    }) {
        Ok(ev) => ev,
        Err(e) => {
            close_conn_quietly(base, &shared);
            return Err(e);
        }
    };
    shared.borrow_mut().read_ev = Some(read_ev);
    let on_shutdown = Rc::clone(&shared);
    echo_common::opened(fd, move |base| close_conn_quietly(base, &on_shutdown));
    base.event_add(read_ev, None)
        .inspect_err(|_| close_conn_quietly(base, &shared))
}
// ANCHOR_END: on_accept

// ANCHOR: on_read
/// Readable: echo what arrived; keep what the socket would not take and wait for EV_WRITE.
fn on_read(base: &mut Base, conn: &Shared) {
    // Not zeroed: the kernel fills what it reads, and only that much is looked at.
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let fd = conn.borrow().fd;
    let result = match read_uninit(fd, &mut buf) {
        Ok([]) => {
            // EOF. Nothing is pending here (reading pauses while something is), so close now.
            return close_conn(base, conn);
        }
        Ok(data) => echo(base, conn, data),
        Err(e) if would_block(&e) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        say_err!("echo_event: fd {fd}: {e}");
        close_conn(base, conn);
    }
}

/// Writes `data` back; a short write's rest becomes `pending`, reading pauses, writing is awaited.
fn echo(base: &mut Base, conn: &Shared, data: &[u8]) -> minievent::Result<()> {
    let mut c = conn.borrow_mut();
    let written = match write(c.fd, data) {
        Ok(n) => n,
        Err(e) if would_block(&e) => 0,
        Err(e) => return Err(e),
    };
    if written < data.len() {
        c.pending.extend_from_slice(&data[written..]);
        let write_ev = match c.write_ev {
            Some(ev) => ev,
            None => {
                // event_new makes no syscall: the trace is the same whenever it is made.
                let w = Rc::clone(conn);
                let ev = base.event_new(c.fd, EV_WRITE | EV_PERSIST, move |base, _, _, _| {
                    on_write(base, &w)
                })?;
                c.write_ev = Some(ev);
                ev
            }
        };
        if let Some(read_ev) = c.read_ev {
            base.event_del(read_ev)?;
        }
        base.event_add(write_ev, None)?;
    }
    Ok(())
}
// ANCHOR_END: on_read

// ANCHOR: on_write
/// Writable: flush `pending`; when it is empty, stop waiting for EV_WRITE and read again (which is
/// how a half-closed client's EOF is reached, after its last byte was echoed).
fn on_write(base: &mut Base, conn: &Shared) {
    let flushed = {
        let mut c = conn.borrow_mut();
        match write(c.fd, &c.pending) {
            Ok(n) => {
                c.pending.drain(..n);
                Ok(c.pending.is_empty())
            }
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(e),
        }
    };
    let c = conn.borrow();
    let resumed = match flushed {
        Ok(false) => return,
        Ok(true) => c
            .write_ev
            .map_or(Ok(()), |ev| base.event_del(ev))
            .and_then(|()| c.read_ev.map_or(Ok(()), |ev| base.event_add(ev, None))),
        Err(e) => Err(e),
    };
    if let Err(e) = resumed {
        say_err!("echo_event: fd {}: {e}", c.fd);
        drop(c);
        close_conn(base, conn);
    }
}
// ANCHOR_END: on_write

// ANCHOR: close_conn
/// Frees the events and closes the socket, in the walk-through post's order: message, event_free, close.
fn close_conn(base: &mut Base, conn: &Shared) {
    say!("closed fd {}", conn.borrow().fd);
    close_conn_quietly(base, conn);
}

/// [`close_conn`] without the message: frees the events, closes the socket (what is pending is
/// dropped). Also how `--graceful` closes an open connection at shutdown.
fn close_conn_quietly(base: &mut Base, conn: &Shared) {
    let mut c = conn.borrow_mut();
    echo_common::closed(c.fd);
    for ev in [c.read_ev.take(), c.write_ev.take()].into_iter().flatten() {
        if let Err(e) = base.event_free(ev) {
            say_err!("echo_event: fd {}: {e}", c.fd);
        }
    }
    if let Some(sock) = c.sock.take() {
        echo_common::close_conn(sock);
    }
}
// ANCHOR_END: close_conn
