//! What the echo servers share: the command line (`--port P`, default 5555; `--help`; exit
//! status 2 with the usage on a bad argument), their output ([`output`]: lines that never kill
//! nor block the server), the listening socket on 127.0.0.1, the banner
//! (`NAME: listening on 127.0.0.1:P`), and the accept callback (one `accept` per readiness,
//! non-blocking, `accepted fd N`). Each server then hands the new connection to its own `start`.
//!
//! The calls are those of the walk-through post's C servers (traces/reference/echo_event.c and
//! echo_bufferevent.c), so every echo trace starts alike. Not a libevent concept: libevent's own
//! listener (`evconnlistener`) makes other calls (accept4 in a loop until EAGAIN).
//!
//! # Out of fds
//!
//! When the process has no fd left (EMFILE; ENFILE for the whole system; ENOBUFS or ENOMEM for
//! kernel memory), `accept` fails and leaves the connection in the listen queue — so the
//! listener stays readable and the level-triggered `EV_READ` fires again at once. The walk-through post's C
//! servers exit on any `accept` error; these servers printed it and returned — and spun at full
//! CPU, a line per failed `accept`, until an fd was freed. libevent's
//! `evconnlistener` does the same unless its error callback disables the listener: its
//! `listener_read_cb` hands every error but EINTR, EAGAIN and ECONNABORTED to that callback (or
//! logs it) and leaves the event as it is.
//!
//! Here [`on_accept`] *pauses* instead: it deletes the accept event (`event_del`) and re-adds
//! it from a one-shot timer [`RETRY`] later (`Base::once`, libevent's `event_base_once`). The
//! clients wait in the listen backlog meanwhile, and further SYNs wait in their own
//! retransmissions — the kernel queues for us. A retry that finds no fd yet costs one
//! `epoll_ctl` ADD, one `accept` and one DEL, ten times a second: no measurable CPU; one that
//! finds a free fd serves the queue at most [`RETRY`] late.
//!
//! The other classic answer keeps a spare fd open (`/dev/null`) and, on EMFILE, closes it,
//! accepts, closes the connection and opens the spare again: the loop stops spinning, but every
//! client that comes while fds are short is disconnected — and an echo server that is merely
//! busy should serve them once a connection ends, not drop them. Nor does the retry wait for a
//! connection of ours to close: ENFILE is freed by other processes, and lab 5's `start` (which
//! uses this file) reports no closes.
//!
//! Logging: one line when fds first run out, and one when the shortage is over — after
//! [`QUIET`] without running out again — which says how long it lasted, how many accepts failed
//! and were retried, and how many connections were accepted meanwhile. A server that flaps at
//! the limit (every freed fd taken at once) still writes two lines, not two per retry.
//!
//! None of this adds a syscall where a connection is accepted or served, so the `echo-event`
//! and `echo-bufferevent` traces are unchanged: the pause only ever happens after an error.
//!
//! # Shutting down on SIGINT / SIGTERM: `--graceful`, opt-in
//!
//! With `--graceful` the server adds two signal events (`evsignal_new(SIGINT)`,
//! `evsignal_new(SIGTERM)`). When either signal arrives, [`shutdown`]: stops accepting (the
//! accept event is freed), closes every open connection, prints one summary line on stdout —
//! `NAME: SIGTERM: shutting down; N connection(s) served, M open one(s) closed` — and ends the
//! loop, so the process exits with status 0. Open connections are **dropped, not flushed**:
//! bytes read but not yet echoed (echo_event's `pending`, echo_bufferevent's output buffer) are
//! discarded and the socket closed at once — a server told to stop should stop, and a client
//! still sending would otherwise keep it alive. Each server tells this module which
//! connections are open ([`opened`], [`closed`]); a `start` that does not (lab 5's) still gets
//! the summary, and its sockets are closed by the exit.
//!
//! Why opt-in: the scenarios `echo-event` and `echo-bufferevent` compare these servers' traces
//! with the walk-through post's C servers, which install no signal handler and which are kept as the
//! walk-through post wrote them. A signal event is not free at the syscall level: adding it
//! makes `rt_sigaction` calls and — the base's first signal — an `epoll_ctl(ADD)` of the signal
//! pipe, a line the walk-through post's trace does not have. Without `--graceful` (the harness never passes
//! it) the servers make exactly the walk-through post's calls and die of SIGTERM as the walk-through post's do; with it
//! they are the servers one would deploy. (Default-on with a `--no-signals` for the harness was
//! the alternative: it would make the traced program differ from the one a reader runs.)

pub mod output;

use minievent::util::{accept, listen_tcp, make_socket_nonblocking};
use minievent::{Base, EV_PERSIST, EV_READ, EV_TIMEOUT, EventId};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub(crate) use output::{say, say_err};

/// How long accepting pauses when no fd is left, before `accept` is tried again.
pub const RETRY: Duration = Duration::from_millis(100);

/// A shortage of fds is over (and summed up in one line) after this long without running out.
pub const QUIET: Duration = Duration::from_secs(1);

/// What a server does with a new, non-blocking connection, which it owns from then on.
pub type Start = fn(&mut Base, OwnedFd);

/// Parses the command line, serves until killed; exit status 0 after `--help`, 2 on a bad
/// argument, 1 on an error.
#[allow(dead_code, reason = "echo_bufferevent starts with main_beyond")]
pub fn main(name: &'static str, start: Start) -> ExitCode {
    run(name, start, false)
}

/// [`main`] for a server that also takes `--beyond` (echo_bufferevent): [`beyond`] then says
/// whether it was given.
#[allow(
    dead_code,
    reason = "labs 4 and 5 build this file and their servers take no --beyond"
)]
pub fn main_beyond(name: &'static str, start: Start) -> ExitCode {
    run(name, start, true)
}

/// Whether `--beyond` was given: use minievent's opt-in "beyond libevent" mode
/// (`BEV_OPT_MINIEVENT_EAGER`).
#[allow(
    dead_code,
    reason = "labs 4 and 5 build this file and their servers take no --beyond"
)]
pub fn beyond() -> bool {
    BEYOND.get()
}

thread_local! {
    /// `--beyond` was given (see [`beyond`]).
    static BEYOND: Cell<bool> = const { Cell::new(false) };
    /// `--graceful` was given: [`opened`] keeps track of the open connections.
    static GRACEFUL: Cell<bool> = const { Cell::new(false) };
}

/// The body of [`main`] and [`main_beyond`].
fn run(name: &'static str, start: Start, takes_beyond: bool) -> ExitCode {
    output::init(name);
    let options = match parse_args(std::env::args().skip(1), takes_beyond) {
        Ok(Some(options)) => options,
        Ok(None) => {
            say!("{}", help(name, takes_beyond));
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            say_err!("{name}: {why}\n{}", usage(name, takes_beyond));
            return ExitCode::from(2);
        }
    };
    BEYOND.set(options.beyond);
    match serve(name, options, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say_err!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The usage line.
fn usage(name: &str, takes_beyond: bool) -> String {
    let beyond = if takes_beyond { " [--beyond]" } else { "" };
    format!(
        "usage: {name} [--port P] [--graceful]{beyond}   (P in 1..65535, default 5555; --help \
         explains)"
    )
}

/// What `--help` says of `--beyond` (echo_bufferevent's, echo_listener's).
pub const BEYOND_HELP: &str =
    "  --beyond    minievent's \"beyond libevent\" mode (BEV_OPT_MINIEVENT_EAGER, not in
              libevent): read without asking FIONREAD first and write the echo right
              away instead of waiting a loop turn for EPOLLOUT; 3 syscalls per echoed
              message instead of libevent's 7, same bytes, same back-pressure
";

/// What `--help` prints.
fn help(name: &str, takes_beyond: bool) -> String {
    format!(
        "{name} — an echo server on minievent: every byte a client sends comes back to it.

{}

Options:
  --port P    listen on 127.0.0.1:P (1..65535; default 5555)
  --graceful  on SIGINT or SIGTERM, stop accepting, close the open connections (what they
              had not been sent yet is dropped), print how many connections were served,
              and exit 0; without it the signal kills the server, as it kills the walk-through post's
{}  -h, --help  print this help and exit

It prints `{name}: listening on 127.0.0.1:P` when it is ready, then `accepted fd N` and
`closed fd N` for each connection on stdout, and errors on stderr. A line that stdout or
stderr cannot take at once (a full pipe) is dropped and counted, and a closed pipe is no
longer written: output never stops or kills the server. When it runs out of fds it pauses
accepting, retries every {} ms, and says so on stderr in two lines. It runs until it is
killed (or, with --graceful, until SIGINT or SIGTERM).",
        usage(name, takes_beyond),
        if takes_beyond { BEYOND_HELP } else { "" },
        RETRY.as_millis()
    )
}

/// What the command line asks for.
struct Options {
    port: u16,
    /// Shut down cleanly on SIGINT / SIGTERM (see the module docs).
    graceful: bool,
    /// `--beyond` (only for a server started by [`main_beyond`]).
    beyond: bool,
}

/// `--port P`, `--graceful` and (if `takes_beyond`) `--beyond`, or nothing; `Ok(None)` for
/// `--help`.
fn parse_args(
    mut args: impl Iterator<Item = String>,
    takes_beyond: bool,
) -> Result<Option<Options>, String> {
    let mut port = 5555;
    let mut graceful = false;
    let mut beyond = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--graceful" => graceful = true,
            "--beyond" if takes_beyond => beyond = true,
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
    Ok(Some(Options {
        port,
        graceful,
        beyond,
    }))
}

// ANCHOR: serve
/// The base, the listening socket, the banner, the accept event, the loop.
fn serve(name: &'static str, options: Options, start: Start) -> minievent::Result<()> {
    let port = options.port;
    let mut base = Base::new()?;
    let listener = listen_tcp(Ipv4Addr::LOCALHOST, port, 16)?;
    say!("{name}: listening on 127.0.0.1:{port}");
    let fd = listener.as_raw_fd();
    let state = Rc::new(Listener::new(name, listener, start));
    let on_ready = Rc::clone(&state);
    let accept_ev = base.event_new(fd, EV_READ | EV_PERSIST, move |base, _, _, _| {
        on_accept(base, &on_ready)
    })?;
    state.event.set(Some(accept_ev));
    base.event_add(accept_ev, None)?;
    GRACEFUL.set(options.graceful);
    if options.graceful {
        for signo in [libc::SIGINT, libc::SIGTERM] {
            let l = Rc::clone(&state);
            let ev =
                base.evsignal_new(signo, move |base, signo, _, _| shutdown(base, &l, signo))?;
            base.event_add(ev, None)?;
            state.signal_events.borrow_mut().push(ev);
        }
    }
    base.dispatch()?;
    Ok(())
}
// ANCHOR_END: serve

/// How to close one open connection at once (see [`opened`]).
type Closer = Box<dyn FnOnce(&mut Base)>;

thread_local! {
    /// The open connections of a `--graceful` server: fd → how to close it now.
    static OPEN: RefCell<BTreeMap<RawFd, Closer>> = RefCell::new(BTreeMap::new());
}

/// A server's connection on `fd` is open; `close` frees it at once (its events, its socket;
/// unsent data dropped) if the server shuts down first. Without `--graceful` there is no
/// shutdown, and nothing is kept (an idle connection costs no more than its bufferevent).
#[allow(
    dead_code,
    reason = "lab 5's program compiles this file and does not register"
)]
pub fn opened(fd: RawFd, close: impl FnOnce(&mut Base) + 'static) {
    if !GRACEFUL.get() {
        return;
    }
    OPEN.with(|open| open.borrow_mut().insert(fd, Box::new(close)));
}

/// The connection on `fd` was closed by its server.
#[allow(
    dead_code,
    reason = "lab 5's program compiles this file and does not register"
)]
pub fn closed(fd: RawFd) {
    OPEN.with(|open| open.borrow_mut().remove(&fd));
}

// ANCHOR: shutdown
/// SIGINT or SIGTERM with `--graceful`: stop accepting, close every open connection, say how
/// many were served, free the signal events (their default actions come back) and end the loop.
fn shutdown(base: &mut Base, l: &Listener, signo: i32) {
    if let Some(accept_ev) = l.event.take()
        && let Err(e) = base.event_free(accept_ev)
    {
        say_err!("{}: cannot stop accepting: {e}", l.name);
    }
    let open = OPEN.with(|open| std::mem::take(&mut *open.borrow_mut()));
    let closing = open.len();
    for (_, close) in open {
        close(base);
    }
    let signal = if signo == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    say!(
        "{}: {signal}: shutting down; {} connection(s) served, {closing} open one(s) closed",
        l.name,
        l.served.get()
    );
    for ev in l.signal_events.take() {
        let _ = base.event_free(ev);
    }
    base.loopbreak();
}
// ANCHOR_END: shutdown

/// The listening socket and what its accept callback needs.
struct Listener {
    name: &'static str,
    /// The listening socket (open until the process ends).
    sock: OwnedFd,
    start: Start,
    /// The accept event (set once it exists).
    event: Cell<Option<EventId>>,
    /// The shortage of fds going on, if one is.
    shortage: Cell<Option<Shortage>>,
    /// Connections accepted and handed to `start`.
    served: Cell<u64>,
    /// The SIGINT and SIGTERM events of `--graceful`.
    signal_events: RefCell<Vec<EventId>>,
}

/// A shortage of fds: from the first failed `accept` until [`QUIET`] without one.
#[derive(Clone, Copy, Debug)]
struct Shortage {
    since: Instant,
    /// Accepts that failed (each one paused accepting for [`RETRY`]).
    failed: u64,
    /// Connections accepted meanwhile.
    accepted: u64,
}

impl Listener {
    fn new(name: &'static str, sock: OwnedFd, start: Start) -> Listener {
        Listener {
            name,
            sock,
            start,
            event: Cell::new(None),
            shortage: Cell::new(None),
            served: Cell::new(0),
            signal_events: RefCell::new(Vec::new()),
        }
    }
}

// ANCHOR: on_accept
/// The listener is readable: accept one connection, make it non-blocking, hand it over. Out of
/// fds, pause accepting instead (see the module docs).
fn on_accept(base: &mut Base, l: &Rc<Listener>) {
    let conn = match accept(&l.sock) {
        Ok(Some(conn)) => conn,
        Ok(None) => return, // the connection went away before we got to it
        Err(e) if out_of_fds(&e) => return pause(base, l, &e),
        Err(e) => return say_err!("{}: {e}", l.name),
    };
    if let Some(mut shortage) = l.shortage.get() {
        shortage.accepted += 1;
        l.shortage.set(Some(shortage));
    }
    let fd = conn.as_raw_fd();
    if let Err(e) = make_socket_nonblocking(fd) {
        say_err!("{}: fd {fd}: {e}", l.name);
        close_conn(conn);
        return;
    }
    say!("accepted fd {fd}");
    l.served.set(l.served.get() + 1);
    (l.start)(base, conn);
}
// ANCHOR_END: on_accept

/// EMFILE, ENFILE, ENOBUFS, ENOMEM: `accept` failed for want of an fd or of kernel memory, and
/// the connection is still queued.
fn out_of_fds(e: &minievent::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

// ANCHOR: pause
/// Stops accepting for [`RETRY`]; the first time in a shortage, says so.
fn pause(base: &mut Base, l: &Rc<Listener>, e: &minievent::Error) {
    let Some(accept_ev) = l.event.get() else {
        return;
    };
    if let Err(del) = base.event_del(accept_ev) {
        say_err!("{}: cannot pause accepting: {del}", l.name);
    }
    let mut shortage = l.shortage.get().unwrap_or_else(|| {
        say_err!(
            "{}: {e}: no fd for a new connection; accepting pauses and is retried every {} ms \
             (clients wait in the listen queue)",
            l.name,
            RETRY.as_millis()
        );
        Shortage {
            since: Instant::now(),
            failed: 0,
            accepted: 0,
        }
    });
    shortage.failed += 1;
    l.shortage.set(Some(shortage));
    let retry = Rc::clone(l);
    if let Err(e) = base.once(-1, EV_TIMEOUT, Some(RETRY), move |base, _, _| {
        resume(base, &retry)
    }) {
        say_err!(
            "{}: cannot schedule the retry ({e}): accepting again now",
            l.name
        );
        resume(base, l);
    }
}

/// [`RETRY`] later: accept again; if fds do not run out for [`QUIET`], the shortage is over.
fn resume(base: &mut Base, l: &Rc<Listener>) {
    if let Some(accept_ev) = l.event.get()
        && let Err(e) = base.event_add(accept_ev, None)
    {
        say_err!("{}: cannot resume accepting: {e}", l.name);
    }
    let failed = l.shortage.get().map_or(0, |s| s.failed);
    let check = Rc::clone(l);
    let _ = base.once(-1, EV_TIMEOUT, Some(QUIET), move |_, _, _| {
        end_shortage(&check, failed)
    });
}

/// [`QUIET`] after a retry: if no accept failed since (`failed` is still the count), the
/// shortage is over: one line sums it up.
fn end_shortage(l: &Listener, failed: u64) {
    let Some(shortage) = l.shortage.get().filter(|s| s.failed == failed) else {
        return; // fds ran out again since: a later check will end it
    };
    l.shortage.set(None);
    let lasted = shortage.since.elapsed().saturating_sub(QUIET);
    say_err!(
        "{}: accepting again: fds were short for {:.1} s; {} accept(s) failed and were retried, \
         {} connection(s) accepted meanwhile",
        l.name,
        lasted.as_secs_f64(),
        shortage.failed,
        shortage.accepted
    );
}
// ANCHOR_END: pause

/// Closes a connection the server no longer needs (an error leaves nothing to do): the one
/// place the servers close a socket themselves. `sys::close_owned`, not a drop of the `OwnedFd`,
/// which in a debug build first checks the fd with `fcntl(F_GETFD)` — a call the traces would
/// show.
pub fn close_conn(sock: OwnedFd) {
    let _ = minievent::sys::close_owned(sock);
}
