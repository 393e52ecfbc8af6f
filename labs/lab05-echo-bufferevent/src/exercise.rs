//! Lab 5 — the bufferevent echo: the callbacks of an echo server on a bufferevent, and the one
//! thing the walk-through post gets wrong — at end of file, flush the output, then close.
//!
//! Write `start`, `on_read`, `on_write` and `on_event` below. The rest of the server is given:
//! this lab's program (src/bin/echo_bufferevent.rs) listens, accepts, makes each connection
//! non-blocking and prints `accepted fd N` with minievent's own code, then calls your `start`.
//! Everything the bufferevent does — FIONREAD and readv into the input, EPOLLOUT on and off,
//! writev from the output, end of file and errors — is minievent's. `just lab 5` runs the tests:
//! a client that half-closes and reads late, a slow reader, a client that does not read at all,
//! a small load run, every fd closed, and the trace of one lock-step session; `just hint 5` gives
//! a hint.
//!
//! What you can use (all of it is minievent's, in its src/; the `use` lines are below):
//! - `Bufferevent::socket_new_owned(base, sock, BEV_OPT_CLOSE_ON_FREE)` (it takes the socket's
//!   `OwnedFd` and closes it when freed); on the bufferevent:
//!   `setcb(read, write, event)` (each an `Option<Box<dyn FnMut ...>>`, `None` for no callback;
//!   a callback gets `&mut Base` and the bufferevent), `enable(base, EV_READ)`,
//!   `disable(base, EV_READ)`, `get_input()` and `get_output()` (handles to the buffers, to pass
//!   to `write_buffer`), `with_output(|out| out.len())` and `with_input(..)` (a closure gets the
//!   buffer itself: `len()`, `is_empty()`; they return a `Result`),
//!   `write_buffer(base, &buffer)`, `setwatermark(base, EV_WRITE, low, high)` (the write
//!   callback then runs once the output is down to `low`), `getfd()`, `socket_error()`;
//! - `BevEvent::contains` with `BEV_EVENT_EOF`, `BEV_EVENT_ERROR`, `BEV_EVENT_WRITING`;
//! - `Rc` and `Cell` to share one connection's [`Phase`] between its three callbacks;
//! - given here: [`Phase`], [`MAX_OUTPUT`], [`fail`] and [`close`] (which frees the bufferevent).

use crate::{Base, BevEvent, Bufferevent};
use std::cell::Cell;
use std::os::fd::OwnedFd;

// What the code you write needs (unused until you write it).
#[allow(unused_imports)]
use crate::{
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_WRITING, BEV_OPT_CLOSE_ON_FREE, EV_READ, EV_WRITE,
};
#[allow(unused_imports)]
use std::rc::Rc;

/// Reading stops while the output holds this much, and resumes when it is down to half. Given.
pub const MAX_OUTPUT: usize = 1 << 20;

/// Where a connection is in its life. Given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading and echoing.
    Echoing,
    /// Reading disabled: the output is over [`MAX_OUTPUT`]; the write callback resumes at half.
    Paused,
    /// End of file seen: writing the rest; the write callback frees once the output is empty.
    Flushing,
}

/// A new connection `sock` (non-blocking; yours from now on): a bufferevent that owns it and
/// closes it when freed; its three callbacks — [`on_read`], [`on_write`], [`on_event`] —
/// sharing the connection's [`Phase`], which starts as `Echoing`; then reading enabled. If the
/// bufferevent cannot be made, say so on stderr (the socket was dropped — closed — with it); if
/// enabling fails, [`fail`].
///
/// libevent: the second half of the walk-through post's accept callback — `bufferevent_socket_new()`,
/// `bufferevent_setcb()`, `bufferevent_enable(bev, EV_READ)`.
pub fn start(base: &mut Base, sock: OwnedFd) {
    let _ = (base, sock); // delete this line when you use them
    todo!("lab 5: start — read chapter 6.2, section \"The echo server on a bufferevent\"")
}

/// Input arrived: move all of it to the output (writing then starts by itself). If the output
/// now holds [`MAX_OUTPUT`] or more, the client is not reading its echo fast enough: pause —
/// stop reading, and have the write callback run only once the output is down to half. An
/// error of any of these calls: [`fail`].
///
/// libevent: the walk-through post's read callback (`bufferevent_write_buffer(bev, bufferevent_get_input(bev))`),
/// plus the back-pressure of libevent's sample/le-proxy.c.
pub fn on_read(base: &mut Base, bev: &Bufferevent, phase: &Cell<Phase>) {
    let _ = (base, bev, phase); // delete this line when you use them
    todo!("lab 5: on_read — read chapter 6.2, section \"The fix\"")
}

/// The output went down to the write low-water mark (0 unless paused: empty). `Echoing`:
/// nothing to do. `Paused`: resume — the low-water mark back to 0, reading enabled again.
/// `Flushing`: once the output is empty, [`close`].
///
/// libevent: a `bufferevent_data_cb` as write callback (the walk-through post sets none).
pub fn on_write(base: &mut Base, bev: &Bufferevent, phase: &Cell<Phase>) {
    let _ = (base, bev, phase); // delete this line when you use them
    todo!("lab 5: on_write — read chapter 6.2, section \"The fix\"")
}

/// End of file or an error. An error: say which on stderr (`socket_error()`), then [`close`].
/// End of file while reading (the bufferevent has already stopped reading): [`close`] now only
/// if nothing is left to write; otherwise the connection is `Flushing`, and [`on_write`] closes
/// it once the output is empty. (The walk-through post frees here whatever the output still holds, and loses
/// it.) End of file while writing (`BEV_EVENT_WRITING`: `writev` took nothing, and writing is
/// already disabled): nothing more will be written, [`close`] now.
///
/// libevent: the walk-through post's event callback (`BEV_EVENT_EOF`, `BEV_EVENT_ERROR`, `bufferevent_free()`).
pub fn on_event(base: &mut Base, bev: &Bufferevent, what: BevEvent, phase: &Cell<Phase>) {
    let _ = (base, bev, what, phase); // delete this line when you use them
    todo!("lab 5: on_event — read chapter 6.2, section \"The walk-through post's half-close bug\"")
}

/// Reports an error of a bufferevent call and gives up on the connection. Given.
pub fn fail(base: &mut Base, bev: &Bufferevent, e: &crate::Error) {
    eprintln!("echo_bufferevent: fd {}: {e}", bev.getfd());
    close(base, bev);
}

/// Ends the connection, in the walk-through post's order: the message `closed fd N`, then
/// `bufferevent_free` — which closes the socket (`BEV_OPT_CLOSE_ON_FREE`) and drops both buffers,
/// with whatever the output still holds. Given.
pub fn close(base: &mut Base, bev: &Bufferevent) {
    println!("closed fd {}", bev.getfd());
    if let Err(e) = bev.free(base) {
        eprintln!("echo_bufferevent: fd {}: {e}", bev.getfd());
    }
}
