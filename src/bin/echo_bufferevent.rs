//! `echo_bufferevent` — the walk-through post's second echo server, on a bufferevent, without the walk-through post's bug.
//!
//! The walk-through post (traces/reference/echo_bufferevent.c keeps it as it is) moves the input to the output
//! in its read callback — `bufferevent_write_buffer(bev, input)` — and frees the bufferevent in
//! its event callback on end of file. Freeing drops the output buffer with whatever is still
//! queued in it, so a client that half-closes (`shutdown(SHUT_WR)`) before its echo has been
//! written loses the rest. Here end of file only stops reading; the bufferevent is freed (and
//! the socket closed) by the write callback once the output is empty. And a client that sends
//! faster than it reads does not make the output grow without bound: past [`MAX_OUTPUT`] queued
//! bytes reading stops until half of them are written (libevent's sample/le-proxy.c does the
//! same with a write low-water mark). In the lock-step session nothing is ever queued at end of
//! file, so the syscall trace is the walk-through post's (scenario `echo-bufferevent`).
//!
//! With `--beyond` each bufferevent is made with `BEV_OPT_MINIEVENT_EAGER`, minievent's opt-in
//! "beyond libevent" mode: no FIONREAD before the read, the echo written right after the read
//! callback — 3 syscalls per echoed message instead of 7 (the scenario `echo-bufferevent-beyond`
//! has the trace).
//!
//! Usage: `echo_bufferevent [--port P] [--beyond]` (default 5555), listening on 127.0.0.1; `--help` says more. What
//! it shares with the other echo server — the command line, output that never kills or blocks
//! it, pausing `accept` when it runs out of fds — is in `echo_common`.

mod echo_common;

use echo_common::{say, say_err};

use minievent::{
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_WRITING, BEV_OPT_CLOSE_ON_FREE,
    BEV_OPT_MINIEVENT_EAGER, Base, BevEvent, Bufferevent, EV_READ, EV_WRITE,
};
use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::rc::Rc;

// ANCHOR: phase
/// Reading stops while the output holds this much, and resumes when it is down to half.
const MAX_OUTPUT: usize = 1 << 20;

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading and echoing.
    Echoing,
    /// Reading disabled: the output is over [`MAX_OUTPUT`]; the write callback resumes at half.
    Paused,
    /// End of file seen: writing the rest; the write callback frees once the output is empty.
    Flushing,
}
// ANCHOR_END: phase

fn main() -> ExitCode {
    echo_common::main_beyond("echo_bufferevent", start)
}

// ANCHOR: start
/// A new connection: a bufferevent that closes the socket when freed (and, with `--beyond`, uses
/// minievent's eager mode), three callbacks, reading.
fn start(base: &mut Base, sock: OwnedFd) {
    let fd = sock.as_raw_fd();
    let options = if echo_common::beyond() {
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_MINIEVENT_EAGER
    } else {
        BEV_OPT_CLOSE_ON_FREE
    };
    let bev = match Bufferevent::socket_new_owned(base, sock, options) {
        Ok(bev) => bev,
        Err(e) => {
            // The socket went — closed — with the bufferevent that could not be made.
            say_err!("echo_bufferevent: fd {fd}: {e}");
            return;
        }
    };
    let phase = Rc::new(Cell::new(Phase::Echoing));
    let (p_read, p_write, p_event) = (Rc::clone(&phase), Rc::clone(&phase), phase);
    bev.setcb(
        Some(Box::new(move |base, bev| on_read(base, bev, &p_read))),
        Some(Box::new(move |base, bev| on_write(base, bev, &p_write))),
        Some(Box::new(move |base, bev, what| {
            on_event(base, bev, what, &p_event)
        })),
    );
    let on_shutdown = bev.clone();
    echo_common::opened(fd, move |base| {
        // --graceful shutdown: the output still queued is dropped with the bufferevent.
        if let Err(e) = on_shutdown.free(base) {
            say_err!("echo_bufferevent: fd {fd}: {e}");
        }
    });
    if let Err(e) = bev.enable(base, EV_READ) {
        fail(base, &bev, &e);
    }
}
// ANCHOR_END: start

// ANCHOR: on_read
/// Input arrived: move it to the output (writing starts by itself); stop reading if the client
/// is not reading its echo fast enough.
fn on_read(base: &mut Base, bev: &Bufferevent, phase: &Cell<Phase>) {
    let input = bev.get_input();
    let result = bev.write_buffer(base, &input).and_then(|()| {
        if bev.with_output(|output| output.len())? < MAX_OUTPUT {
            return Ok(());
        }
        phase.set(Phase::Paused);
        bev.disable(base, EV_READ)?;
        // The write callback now runs only once the output is down to half.
        bev.setwatermark(base, EV_WRITE, MAX_OUTPUT / 2, 0)
    });
    if let Err(e) = result {
        fail(base, bev, &e);
    }
}
// ANCHOR_END: on_read

// ANCHOR: on_write
/// The output went down to the write low-water mark (0 unless paused): resume reading, or, at
/// the end, free once everything is written.
fn on_write(base: &mut Base, bev: &Bufferevent, phase: &Cell<Phase>) {
    match phase.get() {
        Phase::Echoing => {}
        Phase::Paused => {
            phase.set(Phase::Echoing);
            let resumed = bev
                .setwatermark(base, EV_WRITE, 0, 0)
                .and_then(|()| bev.enable(base, EV_READ));
            if let Err(e) = resumed {
                fail(base, bev, &e);
            }
        }
        Phase::Flushing => match bev.with_output(|output| output.is_empty()) {
            Ok(true) => close(base, bev),
            Ok(false) => {}
            Err(e) => fail(base, bev, &e),
        },
    }
}
// ANCHOR_END: on_write

// ANCHOR: on_event
/// End of file or an error. End of file: reading is already disabled; free now only if nothing
/// is left to write — the walk-through post frees here unconditionally, and loses what is queued.
fn on_event(base: &mut Base, bev: &Bufferevent, what: BevEvent, phase: &Cell<Phase>) {
    if what.contains(BEV_EVENT_ERROR) {
        let why = bev
            .socket_error()
            .map_or_else(|| format!("{what:?}"), |e| e.to_string());
        say_err!("echo_bufferevent: fd {}: {why}", bev.getfd());
        close(base, bev);
    } else if what.contains(BEV_EVENT_EOF) {
        // End of file while reading: flush what is queued first. While *writing* (writev took
        // nothing), the peer takes no more and writing is already disabled: close now.
        let flushed = bev.with_output(|output| output.is_empty()).unwrap_or(true);
        if what.contains(BEV_EVENT_WRITING) || flushed {
            close(base, bev);
        } else {
            phase.set(Phase::Flushing);
        }
    }
}
// ANCHOR_END: on_event

/// Reports an error of a bufferevent call and gives up on the connection.
fn fail(base: &mut Base, bev: &Bufferevent, e: &minievent::Error) {
    say_err!("echo_bufferevent: fd {}: {e}", bev.getfd());
    close(base, bev);
}

/// The walk-through post's order: the message, then bufferevent_free (which closes the socket).
fn close(base: &mut Base, bev: &Bufferevent) {
    say!("closed fd {}", bev.getfd());
    echo_common::closed(bev.getfd());
    if let Err(e) = bev.free(base) {
        say_err!("echo_bufferevent: fd {}: {e}", bev.getfd());
    }
}
