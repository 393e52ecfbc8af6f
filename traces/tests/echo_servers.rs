//! The echo servers under load, and the seed's two bugs.
//!
//! The seed's servers are kept as they are in traces/reference/ (echo_event.c, echo_bufferevent.c):
//! the tests named `seed_bug_*` run them — built by `just reference` — and check that they *do*
//! lose bytes, as the seed does. They are `#[ignore]`d so that `cargo test` needs nothing but cargo
//! and strace; `just test` and `just ci` build the C servers and run them. The tests beside each run minievent's server on the very same
//! client and check that it loses nothing. The `stress_*` tests are `just stress` at a small size.
//!
//! This file belongs to the root package (see Cargo.toml), so cargo builds the servers first and
//! hands their paths over as `CARGO_BIN_EXE_*`.

use minievent_traces::load::{
    Conn, FdExhaustionConfig, LATE_READER, Outcome, Reader, StressConfig, exchange, fd_exhaustion,
    stress,
};
use minievent_traces::reference_program;
use minievent_traces::server::{Server, Under};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts a server, or fails saying how to build it.
fn start(program: &Path) -> Server {
    Server::start(program, Under::Nothing).unwrap_or_else(|e| panic!("{e}"))
}

/// The seed's C server `name`, built by `just reference`.
fn seed_server(name: &str) -> Server {
    let program = reference_program(name);
    if !program.is_file() {
        panic!(
            "{} is missing: run `just reference` (it builds the seed's C servers on libevent; \
             libevent-dev must be installed)",
            program.display()
        );
    }
    start(&program)
}

/// Runs [`LATE_READER`] against `server`.
fn late_reader(server: &Server) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(60);
    exchange(
        server.port,
        &LATE_READER,
        Duration::from_secs(30),
        deadline,
        || {},
    )
    .unwrap_or_else(|e| panic!("{}: the client failed: {e}", server.program.display()))
}

// ANCHOR: seed_bugs
// ANCHOR: seed_bug_echo_event
/// DEMONSTRATES THE SEED'S BUG (traces/reference/echo_event.c): its read callback writes what it
/// read with one write() and forgets what a short write did not take. Once the client's window
/// is full every write is short or fails, so only a prefix of the echo ever comes back.
#[test]
#[ignore = "needs the seed's C servers on libevent: `just reference`, then `cargo test --test echo_servers -- --ignored` (`just test` and `just ci` do both)"]
fn seed_bug_echo_event_c_drops_the_tail_of_a_short_write() {
    let server = seed_server("echo_event");
    let outcome = late_reader(&server);
    assert!(
        outcome.received < outcome.sent,
        "the seed's echo_event.c was expected to lose bytes here, and returned all {} — has \
         traces/reference/echo_event.c been fixed? It must keep the seed's bug",
        outcome.sent
    );
    assert_eq!(
        outcome.first_wrong, None,
        "what came back is an intact prefix: the tail is what is lost"
    );
}
// ANCHOR_END: seed_bug_echo_event

// ANCHOR: seed_bug_echo_bufferevent
/// DEMONSTRATES THE SEED'S BUG (traces/reference/echo_bufferevent.c): its event callback frees
/// the bufferevent at end of file, with the output still queued — a client that half-closes
/// before its echo is written loses the rest.
#[test]
#[ignore = "needs the seed's C servers on libevent: `just reference`, then `cargo test --test echo_servers -- --ignored` (`just test` and `just ci` do both)"]
fn seed_bug_echo_bufferevent_c_loses_the_echo_of_a_half_closed_client() {
    let server = seed_server("echo_bufferevent");
    let outcome = late_reader(&server);
    assert!(
        outcome.received < outcome.sent,
        "the seed's echo_bufferevent.c was expected to lose bytes here, and returned all {} — has \
         traces/reference/echo_bufferevent.c been fixed? It must keep the seed's bug",
        outcome.sent
    );
    assert_eq!(
        outcome.first_wrong, None,
        "what came back is an intact prefix: the tail is what is lost"
    );
}
// ANCHOR_END: seed_bug_echo_bufferevent
// ANCHOR_END: seed_bugs

// ANCHOR: fixed
// ANCHOR: fixed_echo_event
/// The same client as the seed-bug test: minievent's echo_event keeps the tail of a short write,
/// stops reading, and writes it when the socket is writable again.
#[test]
fn echo_event_keeps_the_tail_of_a_short_write() {
    let server = start(Path::new(env!("CARGO_BIN_EXE_echo_event")));
    let outcome = late_reader(&server);
    assert_eq!(outcome.loss(), None);
}
// ANCHOR_END: fixed_echo_event

// ANCHOR: fixed_echo_bufferevent
/// The same client: minievent's echo_bufferevent frees only once the output is empty.
#[test]
fn echo_bufferevent_flushes_before_it_closes_a_half_closed_client() {
    let server = start(Path::new(env!("CARGO_BIN_EXE_echo_bufferevent")));
    let outcome = late_reader(&server);
    assert_eq!(outcome.loss(), None);
}
// ANCHOR_END: fixed_echo_bufferevent
// ANCHOR_END: fixed

/// `just stress` at a size for CI: 60 connections at once, payloads up to 2 MiB, slow, late and
/// aborting readers; every byte back, every fd closed.
fn small_stress(program: &str) {
    let mut server = start(Path::new(program));
    let config = StressConfig {
        conns: 60,
        max_size: 2 << 20,
        slow_percent: 20,
        late_percent: 10,
        abort_percent: 5,
        seed: 5,
        deadline: Duration::from_secs(60),
        io_timeout: Duration::from_secs(30),
    };
    if let Err(problems) = stress(&mut server, &config) {
        panic!("{problems}");
    }
}

#[test]
fn stress_echo_event_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_event"));
}

#[test]
fn stress_echo_bufferevent_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_bufferevent"));
}

/// `just stress`'s fd-exhaustion case at a size for CI: 60 clients against a server limited to 32
/// fds (25 for connections). While it is out of fds its listener stays readable and `accept`
/// fails with EMFILE: the server must not spin (at most 10% of a core over 1 s) nor log a line
/// per attempt (at most 10 lines in all), and must serve every client once fds free up.
fn fd_exhaustion_small(program: &str) {
    let config = FdExhaustionConfig {
        window: Duration::from_secs(1),
        deadline: Duration::from_secs(20),
        ..FdExhaustionConfig::default()
    };
    match fd_exhaustion(Path::new(program), &config) {
        Ok(report) => eprintln!("{program}: {}", report.summary(&config)),
        Err(problems) => panic!("{problems}"),
    }
}

#[test]
fn fd_exhaustion_echo_event() {
    fd_exhaustion_small(env!("CARGO_BIN_EXE_echo_event"));
}

#[test]
fn fd_exhaustion_echo_bufferevent() {
    fd_exhaustion_small(env!("CARGO_BIN_EXE_echo_bufferevent"));
}

/// A slow reader of 12 MiB (64 KiB receive buffer, 16 KiB reads with pauses): the server's writes
/// go short again and again, and every byte must still come back in order.
#[test]
fn a_slow_reader_of_megabytes_gets_every_byte() {
    for program in [
        env!("CARGO_BIN_EXE_echo_event"),
        env!("CARGO_BIN_EXE_echo_bufferevent"),
    ] {
        let server = start(Path::new(program));
        let conn = Conn {
            id: 0,
            seed: 7,
            size: 12 << 20,
            max_write: 256 << 10,
            reader: Reader::Slow {
                chunk: 16 << 10,
                pause: Duration::from_micros(200),
            },
            rcvbuf: Some(64 << 10),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let outcome = exchange(server.port, &conn, Duration::from_secs(30), deadline, || {})
            .unwrap_or_else(|e| panic!("{program}: the client failed: {e}"));
        assert_eq!(outcome.loss(), None, "{program}");
    }
}

/// echo_common.rs (parse_port): a bad `--port` is a usage error — exit code 2, a usage line on
/// stderr, nothing on stdout — for both servers.
#[test]
fn bad_port_is_a_usage_error() {
    for (name, program) in [
        ("echo_event", env!("CARGO_BIN_EXE_echo_event")),
        ("echo_bufferevent", env!("CARGO_BIN_EXE_echo_bufferevent")),
    ] {
        for args in [
            &["--port", "x"][..],
            &["--port", "0"],
            &["--port", "70000"],
            &["--port"],
            &["--bogus"],
        ] {
            let out = Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("usage: {name} [--port P]")),
                "{name} {args:?}: {stderr}"
            );
            assert!(out.stdout.is_empty(), "{name} {args:?}: nothing on stdout");
        }
    }
}
