//! `upper_lines` — a line protocol on a bufferevent: every line a client sends comes back in
//! upper case.
//!
//! The read callback takes whole lines off the input with `Evbuffer::readln` and
//! `EVBUFFER_EOL_LF` (libevent's `evbuffer_readln`) — a partial line stays in the input until its
//! newline arrives — and writes each one back upper-cased (ASCII letters only; other bytes as
//! they came). Memory per connection is bounded both ways: a line may be at most [`MAX_LINE`]
//! bytes (the read high-water mark stops reading there; a longer one closes the connection), and
//! reading pauses while the output holds [`MAX_OUTPUT`] bytes, until the write callback finds it
//! down to half (the write low-water mark). At end of file what is queued is written first.
//!
//! Usage: `upper_lines [--port P]` (default 5556, on 127.0.0.1); `--help` says more.

mod cli_args;

use minievent::util::{accept, listen_tcp};
use minievent::{
    BEV_EVENT_ERROR, BEV_OPT_CLOSE_ON_FREE, Base, BevEvent, Bufferevent, EV_PERSIST, EV_READ,
    EV_WRITE, EolStyle,
};
use std::cell::Cell;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::rc::Rc;

/// The longest line, newline included; the read high-water mark.
const MAX_LINE: usize = 64 << 10;
/// Reading pauses while the output holds this much, and resumes when it is down to half.
const MAX_OUTPUT: usize = 256 << 10;

const HELP: &str = "upper_lines — a line server on minievent: each line a client sends comes back
in upper case (ASCII letters; every other byte unchanged), ended by a newline.

usage: upper_lines [--port P]

  --port P    listen on 127.0.0.1:P (1..65535; default 5556)
  -h, --help  print this help and exit

Lines end with \\n (a \\r before it is kept, and comes back). A line longer than 65536
bytes closes its connection. When a client half-closes, what it is owed is sent, then
the connection is closed. The server prints `upper_lines: listening on 127.0.0.1:P`
when it is ready, errors on stderr, and runs until it is killed.";

const USAGE: &str =
    "usage: upper_lines [--port P]   (P in 1..65535, default 5556; --help explains)";

fn main() -> ExitCode {
    let port = match cli_args::port_or_help(std::env::args().skip(1), 5556) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("upper_lines: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("upper_lines: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The listening socket, the accept event, the loop.
fn serve(port: u16) -> minievent::Result<()> {
    let mut base = Base::new()?;
    let listener = listen_tcp(Ipv4Addr::LOCALHOST, port, 16)?;
    println!("upper_lines: listening on 127.0.0.1:{port}");
    let accept_ev = base.event_new(
        listener.as_raw_fd(),
        EV_READ | EV_PERSIST,
        move |base, _, _, _| match accept(&listener) {
            Ok(Some(sock)) => {
                if let Err(e) = start(base, sock) {
                    eprintln!("upper_lines: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => eprintln!("upper_lines: accept: {e}"),
        },
    )?;
    base.event_add(accept_ev, None)?;
    base.dispatch()?;
    Ok(())
}

// ANCHOR: start
/// A new connection: its bufferevent (which closes the socket when freed), the callbacks, the
/// read high-water mark, reading.
fn start(base: &mut Base, sock: std::os::fd::OwnedFd) -> minievent::Result<()> {
    let bev = Bufferevent::socket_new_owned(base, sock, BEV_OPT_CLOSE_ON_FREE)?;
    // Set once the client half-closed: free as soon as the output is empty.
    let closing = Rc::new(Cell::new(false));
    let (c_write, c_event) = (Rc::clone(&closing), closing);
    bev.setcb(
        Some(Box::new(|base, bev| {
            if let Err(e) = on_read(base, bev) {
                fail(base, bev, &e.to_string());
            }
        })),
        Some(Box::new(move |base, bev| on_write(base, bev, &c_write))),
        Some(Box::new(move |base, bev, what| {
            on_event(base, bev, what, &c_event)
        })),
    );
    bev.setwatermark(base, EV_READ, 0, MAX_LINE)?;
    bev.enable(base, EV_READ)
}
// ANCHOR_END: start

// ANCHOR: on_read
/// Every complete line in the input goes back upper-cased; a line over [`MAX_LINE`] ends the
/// connection; a full output pauses reading.
fn on_read(base: &mut Base, bev: &Bufferevent) -> minievent::Result<()> {
    while let Some(mut line) = bev.with_input(|input| input.readln(EolStyle::Lf))? {
        line.make_ascii_uppercase();
        line.push(b'\n');
        bev.write(base, &line)?;
    }
    if bev.with_input(|input| input.len())? >= MAX_LINE {
        fail(base, bev, &format!("a line longer than {MAX_LINE} bytes"));
        return Ok(());
    }
    if bev.with_output(|output| output.len())? >= MAX_OUTPUT {
        bev.disable(base, EV_READ)?;
        bev.setwatermark(base, EV_WRITE, MAX_OUTPUT / 2, 0)?;
    }
    Ok(())
}
// ANCHOR_END: on_read

// ANCHOR: on_write
/// The output went down to the write low-water mark: resume reading if it was paused, or free
/// once everything owed to a half-closed client is written.
fn on_write(base: &mut Base, bev: &Bufferevent, closing: &Cell<bool>) {
    if closing.get() {
        if bev.with_output(|output| output.is_empty()).unwrap_or(true) {
            let _ = bev.free(base);
        }
        return;
    }
    if !bev.get_enabled().contains(EV_READ) {
        let resumed = bev
            .setwatermark(base, EV_WRITE, 0, 0)
            .and_then(|()| bev.enable(base, EV_READ));
        if let Err(e) = resumed {
            fail(base, bev, &e.to_string());
        }
    }
}

/// End of file: flush, then free. An error: free now.
fn on_event(base: &mut Base, bev: &Bufferevent, what: BevEvent, closing: &Cell<bool>) {
    if what.contains(BEV_EVENT_ERROR) {
        let why = bev
            .socket_error()
            .map_or_else(|| format!("{what:?}"), |e| e.to_string());
        fail(base, bev, &why);
        return;
    }
    let flushed = bev.with_output(|output| output.is_empty()).unwrap_or(true);
    if flushed || !bev.get_enabled().contains(EV_WRITE) {
        let _ = bev.free(base);
    } else {
        closing.set(true);
        // Whatever the mark was, the write callback now runs only once everything is written.
        let _ = bev.setwatermark(base, EV_WRITE, 0, 0);
    }
}
// ANCHOR_END: on_write

/// Says why and frees the connection.
fn fail(base: &mut Base, bev: &Bufferevent, why: &str) {
    eprintln!("upper_lines: fd {}: {why}", bev.getfd());
    let _ = bev.free(base);
}
