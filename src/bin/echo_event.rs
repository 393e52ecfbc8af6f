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
    read_ev: EventId,
    write_ev: EventId,
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
/// A new connection (accepted, non-blocking, announced by echo_common): a read event and a write
/// event, reading first.
fn start(base: &mut Base, sock: OwnedFd) {
    let fd = sock.as_raw_fd();
    if let Err(e) = start_conn(base, sock) {
        // start_conn freed what it had made and closed the socket.
        say_err!("echo_event: fd {fd}: {e}");
    }
}

/// Both events, then reading; on any failure every event made so far is freed and the socket
/// closed.
fn start_conn(base: &mut Base, sock: OwnedFd) -> minievent::Result<()> {
    let fd = sock.as_raw_fd();
    let conn: Rc<RefCell<Option<Shared>>> = Rc::default();
    let (c1, c2) = (Rc::clone(&conn), Rc::clone(&conn));
    let read_ev = base.event_new(fd, EV_READ | EV_PERSIST, move |base, _, _, _| {
        if let Some(conn) = c1.borrow().clone() {
            on_read(base, &conn);
        }
    });
    let write_ev = base.event_new(fd, EV_WRITE | EV_PERSIST, move |base, _, _, _| {
        if let Some(conn) = c2.borrow().clone() {
            on_write(base, &conn);
        }
    });
    let (read_ev, write_ev) = match (read_ev, write_ev) {
        (Ok(r), Ok(w)) => (r, w),
        (r, w) => {
            // Free the one that was made (not pending yet: freeing cannot fail), then close.
            for ev in [r.as_ref().ok(), w.as_ref().ok()].into_iter().flatten() {
                let _ = base.event_free(*ev);
            }
            echo_common::close_conn(sock);
            return r.and(w).map(drop);
        }
    };
    let shared = Rc::new(RefCell::new(Conn {
        fd,
        sock: Some(sock),
        read_ev,
        write_ev,
        pending: Vec::new(),
    }));
    let on_shutdown = Rc::clone(&shared);
    echo_common::opened(fd, move |base| close_conn_quietly(base, &on_shutdown));
    *conn.borrow_mut() = Some(shared);
    base.event_add(read_ev, None).inspect_err(|_| {
        if let Some(c) = conn.borrow().as_ref() {
            close_conn_quietly(base, c);
        }
    })
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
        base.event_del(c.read_ev)?;
        base.event_add(c.write_ev, None)?;
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
        Ok(true) => base
            .event_del(c.write_ev)
            .and_then(|()| base.event_add(c.read_ev, None)),
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
/// Frees both events and closes the socket, in the walk-through post's order: message, event_free, close.
fn close_conn(base: &mut Base, conn: &Shared) {
    say!("closed fd {}", conn.borrow().fd);
    close_conn_quietly(base, conn);
}

/// [`close_conn`] without the message: frees both events, closes the socket (what is pending is
/// dropped). Also how `--graceful` closes an open connection at shutdown.
fn close_conn_quietly(base: &mut Base, conn: &Shared) {
    let mut c = conn.borrow_mut();
    echo_common::closed(c.fd);
    for ev in [c.read_ev, c.write_ev] {
        if let Err(e) = base.event_free(ev) {
            say_err!("echo_event: fd {}: {e}", c.fd);
        }
    }
    if let Some(sock) = c.sock.take() {
        echo_common::close_conn(sock);
    }
}
// ANCHOR_END: close_conn
