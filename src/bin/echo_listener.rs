//! `echo_listener` — the echo server written the way libevent's own samples write one
//! (sample/hello-world.c, sample/le-proxy.c): a listener (`evconnlistener_new_bind`) accepts, a
//! bufferevent per connection echoes. Its C twin is traces/reference/echo_listener.c.
//!
//! The listener is made `LEV_OPT_DISABLED` and enabled after the banner, so that its
//! `epoll_ctl` ADD is in the trace (which starts at the banner), as in the other echo traces.
//! Each message is moved from the input to the output in the read callback
//! (`bufferevent_write_buffer`); at end of file with bytes still queued, reading stops and the
//! bufferevent is freed by the write callback once the output is empty (le-proxy.c's
//! `close_on_finished_writecb`). A client that sends faster than it reads stops being read past
//! [`MAX_OUTPUT`] queued bytes, until half of them are written.
//!
//! Out of fds: libevent's listener calls the error callback on every failed `accept4` and stays
//! enabled, so a server that only logs (as the C twin does) spins at full CPU until an fd is
//! freed. This one's error callback *disables* the listener and enables it again [`RETRY`]
//! later from a timer (`Base::once`), as the other echo servers pause: one line on stderr when
//! fds first run out, one when a connection is accepted again.
//!
//! With `--beyond` each bufferevent is made with `BEV_OPT_MINIEVENT_EAGER`, minievent's opt-in
//! "beyond libevent" mode (3 syscalls per echoed message instead of 7).
//!
//! Usage: `echo_listener [--port P] [--beyond]` (default 5555), listening on 127.0.0.1; `--help`
//! says more.

mod cli_args;
#[allow(
    dead_code,
    reason = "echo_listener uses only the output half of echo_common: it accepts through \
              minievent's Listener, not echo_common's accept callback"
)]
mod echo_common;

use echo_common::{say, say_err};

use minievent::listener::Listener;
use minievent::{
    BEV_EVENT_EOF, BEV_EVENT_ERROR, BEV_EVENT_WRITING, BEV_OPT_CLOSE_ON_FREE,
    BEV_OPT_MINIEVENT_EAGER, Base, BevEvent, BevOptions, Bufferevent, EV_READ, EV_TIMEOUT,
    EV_WRITE, LEV_OPT_CLOSE_ON_FREE, LEV_OPT_DISABLED, LEV_OPT_REUSEABLE,
};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

/// The program's name, in its banner and its messages.
const NAME: &str = "echo_listener";

/// Reading stops while the output holds this much, and resumes when it is down to half.
const MAX_OUTPUT: usize = 1 << 20;

/// How long accepting pauses when no fd is left.
const RETRY: Duration = Duration::from_millis(100);

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

fn main() -> ExitCode {
    echo_common::output::init(NAME);
    // `--beyond` is this server's own option; the rest is the programs' common command line.
    let (beyond, args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|arg| arg == "--beyond");
    let port = match cli_args::port_or_help(args.into_iter(), 5555) {
        Ok(Some(port)) => port,
        Ok(None) => {
            say!("{}", help());
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            say_err!("{NAME}: {why}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let options = if beyond.is_empty() {
        BEV_OPT_CLOSE_ON_FREE
    } else {
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_MINIEVENT_EAGER
    };
    match serve(port, options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say_err!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The usage line.
fn usage() -> String {
    format!("usage: {NAME} [--port P] [--beyond]   (P in 1..65535, default 5555; --help explains)")
}

/// What `--help` prints.
fn help() -> String {
    format!(
        "{NAME} — an echo server on minievent's listener and bufferevents, written as libevent's
samples write one: every byte a client sends comes back to it.

{}

Options:
  --port P    listen on 127.0.0.1:P (1..65535; default 5555)
{}  -h, --help  print this help and exit

It prints `{NAME}: listening on 127.0.0.1:P` when it is ready, then `accepted fd N` and
`closed fd N` for each connection on stdout, and errors on stderr. When it runs out of fds it
disables its listener and enables it again every {} ms. It runs until it is killed.",
        usage(),
        echo_common::BEYOND_HELP,
        RETRY.as_millis()
    )
}

// ANCHOR: serve
/// The base, the listener (bound, listening, not yet enabled), the banner, enable, the loop.
/// Each connection's bufferevent gets `options`.
fn serve(port: u16, options: BevOptions) -> minievent::Result<()> {
    let mut base = Base::new()?;
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    // Whether fds are short: set by the error callback, cleared by the next accept.
    let short = Rc::new(Cell::new(false));
    let on_new = Rc::clone(&short);
    let listener = Listener::new_bind(
        &mut base,
        addr,
        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED,
        -1,
        move |base, _lev, sock, _peer| on_accept(base, sock, options, &on_new),
    )?;
    listener.set_error_cb(Some(move |base: &mut Base, lev: &Listener, e: &_| {
        on_accept_error(base, lev, e, &short)
    }));
    say!("{NAME}: listening on 127.0.0.1:{port}");
    listener.enable(&mut base)?;
    base.dispatch()?;
    Ok(())
}
// ANCHOR_END: serve

// ANCHOR: on_accept
/// A new connection (already non-blocking: `accept4(SOCK_NONBLOCK)`): a bufferevent with
/// `options` (it closes the socket when freed), its callbacks, reading. libevent: an
/// `evconnlistener_cb`.
fn on_accept(base: &mut Base, sock: OwnedFd, options: BevOptions, short: &Cell<bool>) {
    if short.replace(false) {
        say_err!("{NAME}: accepting again");
    }
    let fd = sock.as_raw_fd();
    say!("accepted fd {fd}");
    let bev = match Bufferevent::socket_new_owned(base, sock, options) {
        Ok(bev) => bev,
        Err(e) => {
            say_err!("{NAME}: fd {fd}: {e}");
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
    if let Err(e) = bev.enable(base, EV_READ) {
        fail(base, &bev, &e);
    }
}
// ANCHOR_END: on_accept

// ANCHOR: on_accept_error
/// `accept4` failed (EMFILE: no fd left). libevent's listener stays enabled and would call this
/// again on the next loop pass; instead, disable it and enable it again [`RETRY`] later.
fn on_accept_error(base: &mut Base, lev: &Listener, e: &minievent::Error, short: &Cell<bool>) {
    if !short.replace(true) {
        say_err!(
            "{NAME}: {e}: accepting pauses and is retried every {} ms (clients wait in the \
             listen queue)",
            RETRY.as_millis()
        );
    }
    if let Err(e) = lev.disable(base) {
        say_err!("{NAME}: cannot pause accepting: {e}");
        return;
    }
    let again = lev.clone();
    let scheduled = base.once(-1, EV_TIMEOUT, Some(RETRY), move |base, _, _| {
        if let Err(e) = again.enable(base) {
            say_err!("{NAME}: cannot resume accepting: {e}");
        }
    });
    if let Err(e) = scheduled {
        say_err!("{NAME}: cannot schedule the retry ({e}): accepting again now");
        let _ = lev.enable(base);
    }
}
// ANCHOR_END: on_accept_error

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
        bev.setwatermark(base, EV_WRITE, MAX_OUTPUT / 2, 0)
    });
    if let Err(e) = result {
        fail(base, bev, &e);
    }
}
// ANCHOR_END: on_read

/// The output went down to the write low-water mark: resume reading, or, after end of file,
/// free once everything is written.
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

/// End of file or an error: free now, unless end of file left bytes to write.
fn on_event(base: &mut Base, bev: &Bufferevent, what: BevEvent, phase: &Cell<Phase>) {
    if what.contains(BEV_EVENT_ERROR) {
        let why = bev
            .socket_error()
            .map_or_else(|| format!("{what:?}"), |e| e.to_string());
        say_err!("{NAME}: fd {}: {why}", bev.getfd());
        close(base, bev);
    } else if what.contains(BEV_EVENT_EOF) {
        let flushed = bev.with_output(|output| output.is_empty()).unwrap_or(true);
        if what.contains(BEV_EVENT_WRITING) || flushed {
            close(base, bev);
        } else {
            // Reading is already disabled (end of file): write the rest first.
            phase.set(Phase::Flushing);
        }
    }
}

/// Reports an error of a bufferevent call and gives up on the connection.
fn fail(base: &mut Base, bev: &Bufferevent, e: &minievent::Error) {
    say_err!("{NAME}: fd {}: {e}", bev.getfd());
    close(base, bev);
}

/// The message, then `bufferevent_free` (which closes the socket).
fn close(base: &mut Base, bev: &Bufferevent) {
    say!("closed fd {}", bev.getfd());
    if let Err(e) = bev.free(base) {
        say_err!("{NAME}: fd {}: {e}", bev.getfd());
    }
}
