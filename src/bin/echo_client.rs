//! `echo_client` — a client for the echo servers, on a connecting bufferevent.
//!
//! `Bufferevent::socket_connect` (libevent's `bufferevent_socket_connect`) opens a non-blocking
//! socket and starts the connect; the lines given on the command line are queued at once and go
//! out when `BEV_EVENT_CONNECTED` arrives. Each echoed line is read with `Evbuffer::readln`
//! (`EVBUFFER_EOL_LF`) and printed; once every line came back the client frees its bufferevent
//! (closing the socket) and the loop ends, with nothing left pending.
//!
//! Usage: `echo_client [--port P] LINE...` (default port 5555, on 127.0.0.1); `--help` says more.

mod cli_args;

use minievent::{
    BEV_EVENT_CONNECTED, BEV_EVENT_EOF, BEV_EVENT_ERROR, Base, BevEvent, Bufferevent, EV_READ,
    EolStyle,
};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::rc::Rc;

const HELP: &str = "echo_client — send lines to an echo server and print what comes back.

usage: echo_client [--port P] LINE...

  --port P    connect to 127.0.0.1:P (1..65535; default 5555)
  -h, --help  print this help and exit

Each LINE is sent followed by a newline; each line the server sends back is printed on
stdout. The client exits 0 once as many lines came back as it sent, 1 if the connection
fails or ends first, 2 on a bad argument.";

/// The port and the lines, or `None` for `--help`.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<(u16, Vec<String>)>, String> {
    let (mut port, mut lines) = (5555, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => port = cli_args::port_value(&mut args)?,
            _ => lines.push(arg),
        }
    }
    Ok(Some((port, lines)))
}

fn main() -> ExitCode {
    let (port, lines) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("echo_client: {why}\nusage: echo_client [--port P] LINE...");
            return ExitCode::from(2);
        }
    };
    match run(port, &lines) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: run
/// Connects, sends, prints the echoes; `Ok(true)` when every line came back.
fn run(port: u16, lines: &[String]) -> minievent::Result<bool> {
    let mut base = Base::new()?;
    let bev = Bufferevent::socket_connect(&mut base, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    let left = Rc::new(Cell::new(lines.len()));
    let ok = Rc::new(Cell::new(lines.is_empty()));
    let (l, done) = (Rc::clone(&left), Rc::clone(&ok));
    bev.setcb(
        Some(Box::new(move |base, bev| {
            while let Some(line) = bev.with_input(|b| b.readln(EolStyle::Lf)).ok().flatten() {
                println!("{}", String::from_utf8_lossy(&line));
                l.set(l.get().saturating_sub(1));
            }
            if l.get() == 0 {
                done.set(true);
                let _ = bev.free(base);
            }
        })),
        None,
        Some(Box::new(|base, bev, what: BevEvent| {
            if what.contains(BEV_EVENT_CONNECTED) {
                if let Err(e) = bev.enable(base, EV_READ) {
                    eprintln!("echo_client: {e}");
                    let _ = bev.free(base);
                }
                return;
            }
            if what.contains(BEV_EVENT_ERROR) {
                let why = bev
                    .socket_error()
                    .map_or_else(|| format!("{what:?}"), |e| e.to_string());
                eprintln!("echo_client: {why}");
            } else if what.contains(BEV_EVENT_EOF) {
                eprintln!("echo_client: the server closed the connection");
            }
            let _ = bev.free(base);
        })),
    );
    // Straight into the output: the connect's write event is pending already, and it sends the
    // output once connected (outside a connect, `bev.write` is what starts writing at once: see
    // DIVERGENCES.md, row 10).
    for line in lines {
        bev.with_output(|out| out.add_fmt(format_args!("{line}\n")))?;
    }
    if lines.is_empty() {
        bev.free(&mut base)?;
    }
    base.dispatch()?;
    Ok(ok.get())
}
// ANCHOR_END: run
