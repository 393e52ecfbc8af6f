//! A lab's echo server as a plain child process, for tests of behaviour under load (lab 5).
//!
//! [`EchoServer`] wraps the load harness's [`Server`] (`minievent_traces::server`): a free port,
//! a hermetic start, the banner awaited, `/proc/PID/fd` counted, the process killed when the test
//! ends. Two things are added for labs:
//!
//! - The harness recognises a server by its banner, `NAME: listening on 127.0.0.1:P`, where NAME
//!   is the program's file name. A lab's build of minievent's `echo_bufferevent` is called
//!   `lab05-echo_bufferevent` (a second `echo_bufferevent` in `target/debug/` would overwrite
//!   minievent's own), so it is run through a symlink named after its banner,
//!   `target/labs/PACKAGE/bin/echo_bufferevent`.
//! - Every failure goes through [`EchoServer::fail`]: when the server died in a `todo!()` of the
//!   exercise, the test fails with that `todo!()`'s message (which names the chapter to read),
//!   not with what the client saw (a reset connection).

use crate::todo_message;
use minievent_traces::load::{Conn, Outcome, Reader, StressConfig, StressReport, exchange, stress};
use minievent_traces::server::{Server, Under};
use minievent_traces::target_dir;
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a client's socket call may wait for the server before the test fails: the servers
/// answer in microseconds; a connection nothing moves on for this long is stuck.
pub const STALL: Duration = Duration::from_secs(5);

/// `true` for the error of a socket call that timed out ([`STALL`]).
pub fn is_stall(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// A running echo server built by a lab.
pub struct EchoServer {
    server: Server,
    /// What the tests call it: its program's file name.
    name: String,
}

impl EchoServer {
    /// Starts `program`, whose banner names it `name` (`echo_bufferevent`), on a free port; `lab`
    /// is the lab's package (`env!("CARGO_PKG_NAME")`), which names the folder of the symlink.
    ///
    /// # Panics
    /// When the server does not start (with the reason), or dies in a `todo!()` right away.
    pub fn start(lab: &str, program: &Path, name: &str) -> EchoServer {
        let shown = program
            .file_name()
            .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned());
        let link = link_as(lab, program, name)
            .unwrap_or_else(|e| panic!("cannot make the symlink {name} -> {shown}: {e}"));
        match Server::start(&link, Under::Nothing) {
            Ok(server) => EchoServer {
                server,
                name: shown,
            },
            Err(e) => match todo_message(&e.to_string()) {
                Some(todo) => panic!("{shown} stopped in a todo!() of your exercise:\n{todo}"),
                None => panic!("{shown} did not start: {e}"),
            },
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The load harness's handle, for what this wrapper does not offer.
    pub fn server(&mut self) -> &mut Server {
        &mut self.server
    }

    /// How many fds the server has open now.
    pub fn open_fds(&mut self) -> usize {
        match self.server.open_fds() {
            Ok(n) => n,
            Err(e) => self.fail(format!("cannot count the server's fds: {e}")),
        }
    }

    /// The lines the server printed after its banner (`accepted fd N`, `closed fd N`).
    pub fn lines(&self) -> Vec<String> {
        self.server.lines()
    }

    /// Fails the test: with the `todo!()` the server stopped in, if it died in one; otherwise
    /// with `problem`, how the server ended if it did, and what it printed to stderr.
    pub fn fail(&mut self, problem: impl Display) -> ! {
        // A server that panicked may still be unwinding, and its stderr still in the pipe.
        let until = Instant::now() + Duration::from_secs(1);
        let mut ended = self.server.exited();
        while ended.is_none() && Instant::now() < until {
            thread::sleep(Duration::from_millis(20));
            ended = self.server.exited();
        }
        let mut stderr = self.server.stderr();
        let until = Instant::now() + Duration::from_millis(500);
        while ended.is_some() && todo_message(&stderr).is_none() && Instant::now() < until {
            thread::sleep(Duration::from_millis(20));
            stderr = self.server.stderr();
        }
        if let Some(todo) = todo_message(&stderr) {
            panic!(
                "{} stopped in a todo!() of your exercise:\n{todo}",
                self.name
            );
        }
        let mut message = problem.to_string();
        if let Some(how) = ended {
            message.push_str(&format!("\n(the server {how})"));
        }
        if !stderr.trim().is_empty() {
            message.push_str(&format!(
                "\nthe server's stderr:\n    {}",
                stderr.trim_end().replace('\n', "\n    ")
            ));
        }
        panic!("{message}");
    }

    /// Runs one connection of the load harness ([`exchange`]) against the server, with
    /// `within` for the whole of it and [`STALL`] for each socket call, and fails the test
    /// unless every byte came back (an aborting connection expects nothing back).
    pub fn exchange(&mut self, conn: &Conn, within: Duration) -> Outcome {
        let deadline = Instant::now() + within;
        let (port, spec, io_timeout) = (self.server.port, *conn, STALL.min(within));
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(exchange(port, &spec, io_timeout, deadline, || {}));
        });
        // The client runs on its own thread, so that a server that dies (in a todo!()) fails the
        // test at once, not when the client gives up.
        let result = loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(result) => break result,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    self.fail(format!("connection #{}: the client panicked", conn.id))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(how) = self.server.exited() {
                        self.fail(format!(
                            "connection #{}: the server {how} while serving it",
                            conn.id
                        ));
                    }
                }
            }
        };
        match result {
            Ok(outcome) => match outcome.loss() {
                None => outcome,
                Some(loss) => self.fail(format!("connection #{}: {loss}", conn.id)),
            },
            Err(e) if is_stall(&e) => self.fail(format!(
                "connection #{}: the client waited {} s and nothing moved ({e}): the connection \
                 is stuck — reading stopped and never resumed, or the server never closed it",
                conn.id,
                STALL.min(within).as_secs()
            )),
            Err(e) => self.fail(format!("connection #{}: the client failed: {e}", conn.id)),
        }
    }

    /// Runs a load run ([`stress`]: every byte back, the server alive, its fds back to where
    /// they were) and fails the test on any problem. One client goes first, alone (a line, its
    /// echo, a half-close): a server that dies on it fails the test at once, not once the load
    /// run's connections have given up on it.
    pub fn stress(&mut self, config: &StressConfig) -> StressReport {
        let first = Conn {
            id: 0,
            seed: 1,
            size: 6,
            max_write: 6,
            reader: Reader::Fast,
            rcvbuf: None,
        };
        self.exchange(&first, Duration::from_secs(5));
        match stress(&mut self.server, config) {
            Ok(report) => report,
            Err(problems) => self.fail(problems),
        }
    }

    /// Waits (at most 5 s) until the server has `baseline` fds open again, and fails the test if
    /// it does not: a connection it never closed.
    pub fn assert_fds_back_to(&mut self, baseline: usize, what: &str) {
        let now = match self.server.wait_for_fds(baseline, Duration::from_secs(5)) {
            Ok(n) => n,
            Err(e) => self.fail(format!("cannot count the server's fds: {e}")),
        };
        if now != baseline {
            self.fail(format!(
                "{what}: the server has {now} fds open, {baseline} before: {} connection(s) \
                 never closed (each must end in bufferevent_free, which closes the socket)",
                now as i64 - baseline as i64
            ));
        }
    }

    /// Waits (at most `within`) until the server has printed `line`, and fails the test if it
    /// does not.
    pub fn expect_line(&mut self, line: &str, within: Duration, what: &str) {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if self.server.lines().iter().any(|l| l == line) {
                return;
            }
            if self.server.exited().is_some() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let printed = self.server.lines();
        self.fail(format!(
            "{what}: the server did not print {line:?} within {} s; it printed {printed:?}",
            within.as_secs_f64()
        ));
    }
}

/// `target/labs/LAB/bin/NAME`, a symlink to `program`, made (or remade) atomically: tests that
/// run at once may all make it.
fn link_as(lab: &str, program: &Path, name: &str) -> std::io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = target_dir().join("labs").join(lab).join("bin");
    fs::create_dir_all(&dir)?;
    let link = dir.join(name);
    if fs::read_link(&link).is_ok_and(|to| to == program) {
        return Ok(link);
    }
    let temp = dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_file(&temp);
    std::os::unix::fs::symlink(program, &temp)?;
    fs::rename(&temp, &link)?;
    Ok(link)
}
