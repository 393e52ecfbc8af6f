//! The echo servers under load, and the walk-through post's two bugs.
//!
//! The walk-through post's servers are kept as they are in traces/reference/ (echo_event.c, echo_bufferevent.c):
//! the tests named `walkthrough_bug_*` run them — built by `just reference` — and check that they *do*
//! lose bytes, as the walk-through post does. They are `#[ignore]`d so that `cargo test` needs nothing but cargo
//! and strace; `just test` and `just ci` build the C servers and run them. The tests beside each run minievent's server on the very same
//! client and check that it loses nothing. The `stress_*` tests are `just stress` at a small size.
//!
//! This file belongs to the root package (see Cargo.toml), so cargo builds the servers first and
//! hands their paths over as `CARGO_BIN_EXE_*`.

use minievent_traces::client::free_port;
use minievent_traces::load::{
    Conn, FdExhaustionConfig, LATE_READER, NonReadersConfig, NonReadersReport, Outcome, Reader,
    StressConfig, exchange, fd_exhaustion, human, non_readers, stress,
};
use minievent_traces::reference_program;
use minievent_traces::server::{Server, Under};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Starts a server, or fails saying how to build it.
fn start(program: &Path) -> Server {
    Server::start(program, Under::Nothing).unwrap_or_else(|e| panic!("{e}"))
}

/// The walk-through post's C server `name`, built by `just reference`.
fn walkthrough_server(name: &str) -> Server {
    let program = reference_program(name);
    if !program.is_file() {
        panic!(
            "{} is missing: run `just reference` (it builds the walk-through post's C servers on libevent; \
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
// ANCHOR: walkthrough_bug_echo_event
/// DEMONSTRATES THE WALK-THROUGH POST'S BUG (traces/reference/echo_event.c): its read callback writes what it
/// read with one write() and forgets what a short write did not take. Once the client's window
/// is full every write is short or fails, so only a prefix of the echo ever comes back.
#[test]
#[ignore = "needs the walk-through post's C servers on libevent: `just reference`, then `cargo test --test echo_servers -- --ignored` (`just test` and `just ci` do both)"]
fn walkthrough_bug_echo_event_c_drops_the_tail_of_a_short_write() {
    let server = walkthrough_server("echo_event");
    let outcome = late_reader(&server);
    assert!(
        outcome.received < outcome.sent,
        "the walk-through post's echo_event.c was expected to lose bytes here, and returned all {} — has \
         traces/reference/echo_event.c been fixed? It must keep the walk-through post's bug",
        outcome.sent
    );
    assert_eq!(
        outcome.first_wrong, None,
        "what came back is an intact prefix: the tail is what is lost"
    );
}
// ANCHOR_END: walkthrough_bug_echo_event

// ANCHOR: walkthrough_bug_echo_bufferevent
/// DEMONSTRATES THE WALK-THROUGH POST'S BUG (traces/reference/echo_bufferevent.c): its event callback frees
/// the bufferevent at end of file, with the output still queued — a client that half-closes
/// before its echo is written loses the rest.
#[test]
#[ignore = "needs the walk-through post's C servers on libevent: `just reference`, then `cargo test --test echo_servers -- --ignored` (`just test` and `just ci` do both)"]
fn walkthrough_bug_echo_bufferevent_c_loses_the_echo_of_a_half_closed_client() {
    let server = walkthrough_server("echo_bufferevent");
    let outcome = late_reader(&server);
    assert!(
        outcome.received < outcome.sent,
        "the walk-through post's echo_bufferevent.c was expected to lose bytes here, and returned all {} — has \
         traces/reference/echo_bufferevent.c been fixed? It must keep the walk-through post's bug",
        outcome.sent
    );
    assert_eq!(
        outcome.first_wrong, None,
        "what came back is an intact prefix: the tail is what is lost"
    );
}
// ANCHOR_END: walkthrough_bug_echo_bufferevent
// ANCHOR_END: seed_bugs

// ANCHOR: fixed
// ANCHOR: fixed_echo_event
/// The same client as the walk-through-bug test: minievent's echo_event keeps the tail of a short write,
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
fn small_stress(program: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut server = Server::start_with_args(Path::new(program), Under::Nothing, &args)
        .unwrap_or_else(|e| panic!("{e}"));
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
    small_stress(env!("CARGO_BIN_EXE_echo_event"), &[]);
}

#[test]
fn stress_echo_bufferevent_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_bufferevent"), &[]);
}

#[test]
fn stress_echo_listener_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_listener"), &[]);
}

/// The same with `--beyond` (`BEV_OPT_MINIEVENT_EAGER`): inline writes, short ones included,
/// lose nothing.
#[test]
fn stress_echo_bufferevent_beyond_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_bufferevent"), &["--beyond"]);
}

#[test]
fn stress_echo_listener_beyond_small() {
    small_stress(env!("CARGO_BIN_EXE_echo_listener"), &["--beyond"]);
}

/// The syscalls `program args` makes, under `strace -f -c`, for one connection that echoes
/// `messages` 100-byte messages in lock-step and closes.
fn syscalls_for(program: &str, args: &[&str], messages: usize) -> Vec<(String, u64)> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let server = Server::start_with_args(Path::new(program), Under::StraceCount, &args)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // Nothing is sent before the server has accepted: the accept and the first message (or
    // the end of file) then never come back from the same epoll_wait.
    wait_for_line(&server, "accepted fd");
    let message = [b'm'; 100];
    let mut echo = [0u8; 100];
    for _ in 0..messages {
        conn.write_all(&message).expect("send");
        conn.read_exact(&mut echo).expect("echo");
        assert_eq!(echo, message);
    }
    drop(conn);
    wait_for_line(&server, "closed fd");
    let summary = server.stop().expect("stop").expect("strace's summary");
    minievent_traces::server::parse_counts(&summary)
}

/// Waits until the server printed a line that starts with `start`.
fn wait_for_line(server: &Server, start: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    while !server.lines().iter().any(|l| l.starts_with(start)) {
        assert!(
            Instant::now() < until,
            "{}: no {start:?} line",
            server.program.display()
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Syscalls per echoed message: a run of 50 messages minus a run of none (the connection's own
/// accept, setup, end of file and close cancel out). On a loaded machine a run can take one
/// wait more or less at its start or end (the kernel may report the accept, or the end of
/// file, a pass later): a difference that is not a whole multiple of the messages is measured
/// again, up to three times, and then fails with the counts.
fn syscalls_per_message(program: &str, args: &[&str]) -> Vec<(String, u64)> {
    const MESSAGES: u64 = 50;
    let mut problem = String::new();
    for _ in 0..3 {
        let base: std::collections::BTreeMap<String, u64> =
            syscalls_for(program, args, 0).into_iter().collect();
        let counted = syscalls_for(program, args, MESSAGES as usize);
        let uneven: Vec<String> = counted
            .iter()
            .map(|(name, calls)| (name, *calls as i64 - *base.get(name).unwrap_or(&0) as i64))
            .filter(|(_, extra)| *extra < 0 || extra % MESSAGES as i64 != 0)
            .map(|(name, extra)| format!("{name}: {extra} calls for {MESSAGES} messages"))
            .collect();
        if uneven.is_empty() {
            let mut per: Vec<(String, u64)> = counted
                .into_iter()
                .map(|(name, calls)| {
                    let extra = calls - base.get(&name).copied().unwrap_or(0);
                    (name, extra / MESSAGES)
                })
                .filter(|(_, per)| *per > 0)
                .collect();
            per.sort();
            return per;
        }
        problem = uneven.join("; ");
    }
    panic!("{program} {args:?}: three runs, none a whole number of calls per message: {problem}")
}

/// The opt-in "beyond libevent" mode (`--beyond`, `BEV_OPT_MINIEVENT_EAGER`) echoes a message
/// with 3 syscalls — epoll_wait, readv, writev — where the faithful mode, like libevent, makes 7:
/// ioctl(FIONREAD) before the readv, epoll_ctl to add EPOLLOUT, a second epoll_wait for it, and
/// epoll_ctl to remove it once the output is empty.
#[test]
fn beyond_mode_echoes_a_message_with_3_syscalls_instead_of_7() {
    let counts = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    };
    let faithful = counts(&[
        ("epoll_ctl", 2),
        ("epoll_wait", 2),
        ("ioctl", 1),
        ("readv", 1),
        ("writev", 1),
    ]);
    let beyond = counts(&[("epoll_wait", 1), ("readv", 1), ("writev", 1)]);
    for program in [
        env!("CARGO_BIN_EXE_echo_bufferevent"),
        env!("CARGO_BIN_EXE_echo_listener"),
    ] {
        assert_eq!(syscalls_per_message(program, &[]), faithful, "{program}");
        assert_eq!(
            syscalls_per_message(program, &["--beyond"]),
            beyond,
            "{program} --beyond"
        );
    }
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

/// echo_listener's error callback disables its listener and enables it again from a timer:
/// libevent's listener alone would call the error callback on every loop pass.
#[test]
fn fd_exhaustion_echo_listener() {
    fd_exhaustion_small(env!("CARGO_BIN_EXE_echo_listener"));
}

/// Issue 11's bound: 20 clients that send 8 MiB each and never read may make a server grow by at
/// most this much resident memory per client. echo_listener and echo_bufferevent stop reading a
/// connection while its output holds 1 MiB (`MAX_OUTPUT`); the rest stays in the kernel's socket
/// buffers or is never sent. That 1 MiB costs about 2 MiB: each `readv` takes at most 4096
/// bytes (`EVBUFFER_MAX_READ`) into a new chain, allocated as libevent allocates it — 4096 plus
/// the chain's header, rounded up to a power of two: 8 KiB — and the read callback moves the
/// chain whole to the output, half empty. Half a MiB more is slack for the allocator.
const NON_READER_BOUND: u64 = 5 << 19; // 2.5 MiB

/// 20 clients that never read, against `server`: what they cost it.
fn non_readers_cost(mut server: Server) -> NonReadersReport {
    let program = server.program.display().to_string();
    let report = non_readers(&mut server, &NonReadersConfig::default())
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    eprintln!("{program}: {}", report.summary());
    report
}

/// Every non-reader got more than twice the bound into its socket: the server was offered far
/// more than it may keep (without that, a small growth would prove nothing).
fn assert_pushed_past_the_bound(report: &NonReadersReport) {
    let least = report.sent.iter().min().copied().unwrap_or(0) as u64;
    assert!(
        least > 2 * NON_READER_BOUND,
        "a client sent only {}: the run did not offer the server more than it may keep",
        human(least)
    );
}

/// Issue 11: "20 clients that never read cost bounded memory". echo_listener (an evconnlistener
/// and a bufferevent per connection, reading stopped past 1 MiB of output) grows by less than
/// [`NON_READER_BOUND`] per client.
#[test]
fn twenty_non_readers_cost_echo_listener_bounded_memory() {
    assert_non_readers_bounded(env!("CARGO_BIN_EXE_echo_listener"));
}

/// The same for echo_bufferevent, which stops reading the same way.
#[test]
fn twenty_non_readers_cost_echo_bufferevent_bounded_memory() {
    assert_non_readers_bounded(env!("CARGO_BIN_EXE_echo_bufferevent"));
}

/// The clients pushed past the bound, and `program` grew by less than [`NON_READER_BOUND`] per
/// client.
fn assert_non_readers_bounded(program: &str) {
    let report = non_readers_cost(start(Path::new(program)));
    assert_pushed_past_the_bound(&report);
    assert!(
        report.growth_per_client() < NON_READER_BOUND,
        "{program} grew by {} per non-reading client (bound {}): {}",
        human(report.growth_per_client()),
        human(NON_READER_BOUND),
        report.summary()
    );
}

/// The bound is not vacuous: the walk-through post's echo_bufferevent.c, which never stops
/// reading, keeps what it cannot echo and grows past it on the very same clients.
#[test]
#[ignore = "needs the walk-through post's C servers on libevent: `just reference`, then `cargo test --test echo_servers -- --ignored` (`just test` and `just ci` do both)"]
fn walkthrough_echo_bufferevent_c_grows_past_the_non_reader_bound() {
    let report = non_readers_cost(walkthrough_server("echo_bufferevent"));
    assert!(
        report.growth_per_client() > NON_READER_BOUND,
        "the walk-through post's echo_bufferevent.c grew by only {} per client: {}",
        human(report.growth_per_client()),
        report.summary()
    );
}

/// A slow reader of 12 MiB (64 KiB receive buffer, 16 KiB reads with pauses): the server's writes
/// go short again and again, and every byte must still come back in order.
#[test]
fn a_slow_reader_of_megabytes_gets_every_byte() {
    for program in [
        env!("CARGO_BIN_EXE_echo_event"),
        env!("CARGO_BIN_EXE_echo_bufferevent"),
        env!("CARGO_BIN_EXE_echo_listener"),
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
        ("echo_listener", env!("CARGO_BIN_EXE_echo_listener")),
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

/// `--help` explains every option and exits 0, for both servers.
#[test]
fn help_explains_the_options() {
    for (name, program) in [
        ("echo_event", env!("CARGO_BIN_EXE_echo_event")),
        ("echo_bufferevent", env!("CARGO_BIN_EXE_echo_bufferevent")),
    ] {
        for flag in ["--help", "-h"] {
            let out = Command::new(program)
                .arg(flag)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{name} {flag}: {stdout}");
            for want in [
                format!("usage: {name} [--port P]"),
                "--port P".to_string(),
                "--graceful".to_string(),
                "-h, --help".to_string(),
            ] {
                assert!(
                    stdout.contains(&want),
                    "{name} {flag}: no {want:?} in {stdout}"
                );
            }
            assert!(out.stderr.is_empty(), "{name} {flag}: nothing on stderr");
        }
    }
}

/// A server started with its stdout on a pipe we hold, after its banner was read.
struct Piped {
    child: Child,
    port: u16,
    /// The read end of the server's stdout, past the banner; `None` once given up.
    stdout: Option<BufReader<ChildStdout>>,
}

impl Piped {
    fn start(program: &str) -> Piped {
        let port = free_port().unwrap_or_else(|e| panic!("{e}"));
        let mut child = Command::new(program)
            .args(["--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
        let mut banner = String::new();
        stdout
            .read_line(&mut banner)
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(banner.contains("listening on"), "{program}: {banner:?}");
        Piped {
            child,
            port,
            stdout: Some(stdout),
        }
    }

    /// One short connection: `hello`, half-close, the echo back; fails if the server does not
    /// answer within 5 s or is gone.
    fn echo_once(&mut self, program: &str, i: usize) {
        let alive = self.child.try_wait().ok().flatten();
        assert!(
            alive.is_none(),
            "{program}: connection {i}: the server exited: {alive:?}"
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("{program}: connection {i}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout can be set");
        stream.write_all(b"hello\n").expect("write");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let mut back = Vec::new();
        stream
            .read_to_end(&mut back)
            .unwrap_or_else(|e| panic!("{program}: connection {i}: no echo: {e}"));
        assert_eq!(back, b"hello\n", "{program}: connection {i}");
    }

    /// What the server wrote to stderr (it is killed first).
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        err
    }
}

/// `echo_event | head -1`: once the reader of stdout is gone, `accepted fd N` cannot be written
/// (EPIPE). The server says so once on stderr and goes on serving; `println!` panicked there.
#[test]
fn a_closed_stdout_does_not_kill_the_server() {
    for program in [
        env!("CARGO_BIN_EXE_echo_event"),
        env!("CARGO_BIN_EXE_echo_bufferevent"),
    ] {
        let mut server = Piped::start(program);
        // Close our (only) read end of the pipe: the server's next line meets EPIPE.
        drop(server.stdout.take());
        for i in 0..5 {
            server.echo_once(program, i);
        }
        let stderr = server.stop();
        assert_eq!(
            stderr.matches("stdout: Broken pipe").count(),
            1,
            "{program}: one line says stdout is gone: {stderr}"
        );
    }
}

/// A stdout nobody reads: the pipe (shrunk to 4 KiB) fills after about 150 connections. The
/// server must go on serving, dropping lines; once the pipe is read again, the next line says
/// how many were dropped. With a blocking `println!` the whole loop stopped there.
#[test]
fn a_full_stdout_does_not_block_the_server() {
    for program in [
        env!("CARGO_BIN_EXE_echo_event"),
        env!("CARGO_BIN_EXE_echo_bufferevent"),
    ] {
        let mut server = Piped::start(program);
        let mut stdout = server.stdout.take().expect("the pipe is ours");
        let fd = stdout.get_ref().as_raw_fd();
        // SAFETY: fcntl F_SETPIPE_SZ only resizes the pipe behind our own fd.
        let size = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, 4096) };
        assert!(size > 0, "F_SETPIPE_SZ");
        let lines_per_conn = "accepted fd 7\nclosed fd 7\n".len();
        let conns = 2 * size as usize / lines_per_conn + 50;
        for i in 0..conns {
            server.echo_once(program, i);
        }
        // Read what the pipe holds, then one more connection: its lines follow a count of the
        // dropped ones.
        let reader = thread::spawn(move || {
            let mut text = String::new();
            let mut line = String::new();
            while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
                text.push_str(&line);
                line.clear();
            }
            text
        });
        thread::sleep(Duration::from_millis(200));
        server.echo_once(program, conns);
        thread::sleep(Duration::from_millis(200));
        let stderr = server.stop();
        let text = reader.join().expect("the reader thread");
        assert!(
            text.contains("line(s) dropped here: stdout was full)\naccepted fd"),
            "{program}: no count of the dropped lines in {} bytes of stdout:\n{}\nstderr: {stderr}",
            text.len(),
            text.lines().rev().take(5).collect::<Vec<_>>().join("\n")
        );
    }
}

/// `--graceful` (echo_common's module docs): SIGTERM or SIGINT stops the server cleanly — the
/// open connection is closed (the client reads end of file), one summary line is printed, and
/// the exit status is 0 — for both servers. Without the flag the same signal kills it (the
/// scenarios' traces, like the walk-through post's, end with `+++ killed by SIGTERM +++`).
#[test]
fn graceful_shutdown_on_sigterm_and_sigint() {
    for (name, program) in [
        ("echo_event", env!("CARGO_BIN_EXE_echo_event")),
        ("echo_bufferevent", env!("CARGO_BIN_EXE_echo_bufferevent")),
    ] {
        for (signo, signal) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
            let port = free_port().unwrap_or_else(|e| panic!("{e}"));
            let mut child = Command::new(program)
                .args(["--port", &port.to_string(), "--graceful"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
            let mut line = String::new();
            stdout.read_line(&mut line).expect("the banner");
            assert!(line.contains("listening on"), "{name}: {line:?}");
            // One finished connection, then one left open.
            let mut done = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            done.write_all(b"one\n").expect("write");
            done.shutdown(Shutdown::Write).expect("shutdown");
            let mut back = Vec::new();
            done.read_to_end(&mut back).expect("echo");
            assert_eq!(back, b"one\n", "{name}");
            let mut open = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            open.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("a timeout can be set");
            open.write_all(b"two\n").expect("write");
            let mut echo = [0u8; 4];
            open.read_exact(&mut echo).expect("echo");
            assert_eq!(&echo, b"two\n", "{name}");
            // SAFETY: kill only sends a signal to our own child.
            assert_eq!(unsafe { libc::kill(child.id() as i32, signo) }, 0);
            let status = child.wait().expect("wait");
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).expect("stdout");
            assert_eq!(status.code(), Some(0), "{name} {signal}: {rest}");
            let summary = format!(
                "{name}: {signal}: shutting down; 2 connection(s) served, 1 open one(s) closed\n"
            );
            assert!(rest.ends_with(&summary), "{name} {signal}: {rest:?}");
            let mut after = Vec::new();
            open.read_to_end(&mut after)
                .unwrap_or_else(|e| panic!("{name} {signal}: the connection was not closed: {e}"));
            assert!(after.is_empty(), "{name} {signal}: {after:?}");
        }
    }
}

/// `--graceful` under load: 16 clients in lock-step ping-pong (64-byte messages) when SIGINT
/// arrives. The server exits 0 with its summary, and every client got back exactly a prefix of
/// what it sent, made of whole completed echoes and nothing else: no completed echo lost or
/// corrupted, every connection closed (each client sees end of file or a reset, never a hang).
#[test]
fn graceful_shutdown_under_load() {
    const CLIENTS: usize = 16;
    for (name, program) in [
        ("echo_event", env!("CARGO_BIN_EXE_echo_event")),
        ("echo_bufferevent", env!("CARGO_BIN_EXE_echo_bufferevent")),
    ] {
        let port = free_port().unwrap_or_else(|e| panic!("{e}"));
        let mut child = Command::new(program)
            .args(["--port", &port.to_string(), "--graceful"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
        let mut banner = String::new();
        stdout.read_line(&mut banner).expect("the banner");
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                thread::spawn(move || {
                    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                    conn.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("a timeout can be set");
                    let mut echoed = 0usize;
                    for round in 0..u32::MAX {
                        let msg = [b'a' + ((i as u32 + round) % 26) as u8; 64];
                        if conn.write_all(&msg).is_err() {
                            break;
                        }
                        let mut back = [0u8; 64];
                        match conn.read_exact(&mut back) {
                            Ok(()) => {
                                assert_eq!(back, msg, "client {i}: a completed echo is corrupt");
                                echoed += 1;
                            }
                            Err(e) => {
                                assert_ne!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock,
                                    "client {i}: the connection was left open"
                                );
                                break;
                            }
                        }
                    }
                    echoed
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300)); // the clients are in full swing
        // SAFETY: kill only sends a signal to our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let status = child.wait().expect("wait");
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).expect("stdout");
        assert_eq!(status.code(), Some(0), "{name}: {rest}");
        assert!(
            rest.contains(&format!(
                "{name}: SIGINT: shutting down; {CLIENTS} connection(s) served"
            )),
            "{name}: {rest:?}"
        );
        let echoed: Vec<usize> = clients
            .into_iter()
            .map(|c| c.join().expect("a client thread"))
            .collect();
        assert!(
            echoed.iter().all(|&n| n > 0),
            "{name}: every client had echoes before the signal: {echoed:?}"
        );
    }
}

/// src/bin/upper_lines.rs: whole lines come back upper-cased, a line split over several writes
/// waits for its newline, a half-closed client gets everything it is owed; `--help` and a bad
/// `--port` as for the echo servers.
#[test]
fn upper_lines_uppercases_each_line() {
    let program = env!("CARGO_BIN_EXE_upper_lines");
    let server = start(Path::new(program));
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    conn.write_all(b"hello\nWorld 42, \xc3\xa9t\xc3\xa9\r\n")
        .expect("write");
    let mut line = String::new();
    reader.read_line(&mut line).expect("read");
    assert_eq!(line, "HELLO\n");
    line.clear();
    reader.read_line(&mut line).expect("read");
    assert_eq!(
        line, "WORLD 42, \u{e9}T\u{e9}\r\n",
        "ASCII letters only; the CR stays"
    );
    // A line in three pieces comes back once, whole.
    for piece in [&b"spl"[..], b"it li", b"ne\nlast\n"] {
        conn.write_all(piece).expect("write");
        thread::sleep(Duration::from_millis(20));
    }
    // Then half-close: what is owed still comes back, then end of file.
    conn.shutdown(Shutdown::Write).expect("shutdown");
    let mut rest = String::new();
    reader
        .read_to_string(&mut rest)
        .expect("read to end of file");
    assert_eq!(rest, "SPLIT LINE\nLAST\n");

    let out = Command::new(program)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .expect("run --help");
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        help.contains("--port P") && help.contains("upper case"),
        "{help}"
    );
    let out = Command::new(program)
        .args(["--port", "0"])
        .stdin(Stdio::null())
        .output()
        .expect("run --port 0");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: upper_lines [--port P]"));
}

/// A line longer than the read high-water mark closes the connection instead of growing the
/// input without bound.
#[test]
fn upper_lines_refuses_a_line_without_end() {
    let server = start(Path::new(env!("CARGO_BIN_EXE_upper_lines")));
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let long = vec![b'a'; 200 << 10];
    // The server closes after 64 KiB: the rest of the write may fail (reset); that is the point.
    let _ = conn.write_all(&long);
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    assert!(
        got.is_empty(),
        "nothing comes back for a line that never ended"
    );
    // The server's stderr is read by another thread: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains("a line longer than") && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        server.stderr().contains("a line longer than"),
        "{}",
        server.stderr()
    );
}
