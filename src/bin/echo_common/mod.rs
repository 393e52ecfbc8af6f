//! What the echo servers share: the command line (`--port P`, default 5555; exit status 2 with the
//! usage on a bad argument), the listening socket on 127.0.0.1, the banner
//! (`NAME: listening on 127.0.0.1:P`), and the accept callback (one `accept` per readiness,
//! non-blocking, `accepted fd N`). Each server then hands the new connection to its own `start`.
//!
//! The calls are those of the seed's C servers (traces/reference/echo_event.c and
//! echo_bufferevent.c), so every echo trace starts alike. Not a libevent concept: libevent's own
//! listener (`evconnlistener`) makes other calls (accept4 in a loop until EAGAIN).

use minievent::util::{accept, listen_tcp, make_socket_nonblocking};
use minievent::{Base, EV_PERSIST, EV_READ};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;

/// What a server does with a new, non-blocking connection, which it owns from then on.
pub type Start = fn(&mut Base, OwnedFd);

/// Parses the command line, serves until killed; exit status 2 on a bad argument, 1 on an error.
pub fn main(name: &'static str, start: Start) -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(why) => {
            eprintln!("{name}: {why}\nusage: {name} [--port P]   (P in 1..65535, default 5555)");
            return ExitCode::from(2);
        }
    };
    match serve(name, port, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--port P` or nothing.
fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 5555;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("invalid port {value:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(port)
}

// ANCHOR: serve
/// The base, the listening socket, the banner, the accept event, the loop.
fn serve(name: &'static str, port: u16, start: Start) -> minievent::Result<()> {
    let mut base = Base::new()?;
    let listener = listen_tcp(Ipv4Addr::LOCALHOST, port, 16)?;
    println!("{name}: listening on 127.0.0.1:{port}");
    let accept_ev = base.event_new(
        listener.as_raw_fd(),
        EV_READ | EV_PERSIST,
        move |base, fd, _, _| on_accept(base, fd, name, start),
    )?;
    base.event_add(accept_ev, None)?;
    base.dispatch()?;
    Ok(())
}

/// The listener is readable: accept one connection, make it non-blocking, hand it over.
fn on_accept(base: &mut Base, listener: RawFd, name: &str, start: Start) {
    let conn = match accept(&listener) {
        Ok(Some(conn)) => conn,
        Ok(None) => return, // the connection went away before we got to it
        Err(e) => return eprintln!("{name}: {e}"),
    };
    let fd = conn.as_raw_fd();
    if let Err(e) = make_socket_nonblocking(fd) {
        // Dropping `conn` closes it.
        return eprintln!("{name}: fd {fd}: {e}");
    }
    println!("accepted fd {fd}");
    start(base, conn);
}
// ANCHOR_END: serve
