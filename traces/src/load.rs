//! Load on an echo server: many connections at once, each checking that every byte comes back.
//!
//! One connection ([`exchange`]) sends a pseudo-random payload ([`Payload`]: xorshift64*, so
//! the reader regenerates it to compare instead of keeping a copy) from a writer thread, in
//! chunks of random size, then half-closes (`shutdown(SHUT_WR)`); its reader reads until end of
//! file and compares. A reader may be slow (small reads with pauses) or late (it starts only
//! when the writer is done, or after a delay): then the server meets short writes and must keep
//! what the socket did not take — the walk-through post's servers lose it. A connection may also abort
//! (close without reading after sending part), which makes the server's next write fail.
//!
//! [`stress`] runs hundreds of such connections against one server at once, with a deadline,
//! and then checks that the server's open fds went back to what they were (every connection
//! closed). It fails with a clear message on any missing or wrong byte, on a timeout, on a
//! leaked fd, or when the server died.
//!
//! [`non_readers`] measures what clients that send and never read cost a server in memory: its
//! RSS before they connect and once it has stopped growing.
//!
//! [`fd_exhaustion`] runs a server out of fds: started with a low `RLIMIT_NOFILE`, it gets more
//! clients than it can hold, which connect and wait. While it is saturated, its listener stays
//! readable and every `accept` fails with EMFILE; the run checks that it does not spin on that
//! (its CPU time over a window), that it logs a bounded number of lines, and that once the
//! waiting clients are let go (and fds free up) every one of them is served, every byte.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::path::Path;
use std::sync::{Arc, Barrier, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::server::Server;

// ANCHOR: payload
/// A reproducible byte stream: xorshift64* from a seed, 8 bytes per step. The same seed gives the
/// same bytes however the stream is cut into chunks.
#[derive(Clone, Debug)]
pub struct Payload {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Payload {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Payload {
        Payload {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            word: [0; 8],
            used: 8,
        }
    }

    /// The next 64-bit number (also used to draw the random sizes of a run).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Fills `buf` with the next bytes of the stream.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.used == 8 {
                self.word = self.next_u64().to_le_bytes();
                self.used = 0;
            }
            *b = self.word[self.used];
            self.used += 1;
        }
    }
}
// ANCHOR_END: payload

/// How a connection's reader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Reads as fast as it can, 64 KiB at a time.
    Fast,
    /// Reads `chunk` bytes, then sleeps `pause`, again and again.
    Slow {
        /// Bytes per read.
        chunk: usize,
        /// Pause after each read.
        pause: Duration,
    },
    /// Starts reading only once the writer is done, or `after` has passed, whichever comes
    /// first, and `then` later still; then reads fast. With a server that keeps everything, the
    /// writer blocks (the server stops reading), so `after` is what unblocks it; with the walk-through post's
    /// servers the writer is done at once, and `then` gives the server time to see the end of
    /// file while the echo is still queued.
    Late {
        /// The longest it waits for the writer.
        after: Duration,
        /// How long it waits after that.
        then: Duration,
    },
    /// Sends `abort_after` bytes, then closes the socket without reading anything.
    Abort {
        /// Bytes sent before the close.
        abort_after: usize,
    },
}

/// One connection of a load run.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    /// Its number in the run (for messages).
    pub id: usize,
    /// The payload's seed.
    pub seed: u64,
    /// Bytes sent (and expected back).
    pub size: usize,
    /// The largest chunk the writer hands to one `write`.
    pub max_write: usize,
    /// How it reads.
    pub reader: Reader,
    /// `SO_RCVBUF` set before connecting (a small one makes the server's writes short sooner).
    pub rcvbuf: Option<usize>,
}

// ANCHOR: late_reader
/// The client of the tests of the walk-through post's bugs (and of lab 5): it sends 8 MiB, half-closes, and only then
/// reads — once its writer is done (or after 2 s if the server holds it back), plus 500 ms: time
/// for the server to have read the end of file. Its receive buffer is small (64 KiB), so the
/// server's writes soon come up short.
pub const LATE_READER: Conn = Conn {
    id: 0,
    seed: 42,
    size: 8 << 20,
    max_write: 64 << 10,
    reader: Reader::Late {
        after: Duration::from_secs(2),
        then: Duration::from_millis(500),
    },
    rcvbuf: Some(64 << 10),
};
// ANCHOR_END: late_reader

/// What came back on one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The connection.
    pub id: usize,
    /// Bytes sent.
    pub sent: usize,
    /// Bytes that came back (before end of file).
    pub received: usize,
    /// The offset of the first byte that came back wrong, if one did.
    pub first_wrong: Option<usize>,
    /// The reader was an aborting one: nothing was expected back.
    pub aborted: bool,
}

impl Outcome {
    /// `true` when every byte came back, in order, and nothing else (or the connection aborted).
    pub fn is_complete(&self) -> bool {
        self.aborted || (self.received == self.sent && self.first_wrong.is_none())
    }

    /// What went wrong, in words; `None` when nothing did.
    pub fn loss(&self) -> Option<String> {
        if self.is_complete() {
            return None;
        }
        Some(match self.first_wrong {
            Some(at) => format!(
                "sent {} bytes, got {} back, wrong from offset {at} on (bytes were dropped there)",
                self.sent, self.received
            ),
            None if self.received < self.sent => format!(
                "sent {} bytes, got {} back: the last {} never came (end of file came first)",
                self.sent,
                self.received,
                self.sent - self.received
            ),
            None => format!(
                "sent {} bytes, got {} back: too many",
                self.sent, self.received
            ),
        })
    }
}

/// Connects to `addr`, with `SO_RCVBUF` set first if asked, retrying until `deadline` (a full
/// accept queue drops SYNs; the kernel retries them after a second).
fn connect(addr: SocketAddr, rcvbuf: Option<usize>, deadline: Instant) -> io::Result<TcpStream> {
    loop {
        let attempt = match rcvbuf {
            None => TcpStream::connect_timeout(&addr, Duration::from_secs(5)),
            Some(size) => connect_with_rcvbuf(addr, size),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// `socket`, `setsockopt(SO_RCVBUF)`, `connect`: std has no way to set an option before
/// connecting, and `SO_RCVBUF` must be set before the handshake to shrink the TCP window.
fn connect_with_rcvbuf(addr: SocketAddr, size: usize) -> io::Result<TcpStream> {
    let SocketAddr::V4(v4) = addr else {
        return Err(io::Error::new(ErrorKind::InvalidInput, "IPv4 only"));
    };
    // SAFETY: socket takes only integers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd == -1 {
        return Err(io::Error::last_os_error());
    }
    // From here the fd is owned by the stream, which closes it on every path.
    // SAFETY: fd is a socket we just created and own.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let value = size as libc::c_int;
    // SAFETY: the option value points at a live c_int of the given size.
    let set = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set == -1 {
        return Err(io::Error::last_os_error());
    }
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sin is a valid sockaddr_in of the given length.
    let connected = unsafe {
        libc::connect(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if connected == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(stream)
}

// ANCHOR: exchange
/// Runs one connection against the echo server on `port`: connect, call `connected` (the load
/// test waits there until every connection is made — also when this one failed), send the
/// payload, half-close, read everything back and compare. Socket calls that stall for
/// `io_timeout` fail; so does the whole connection when it is not done by `deadline`.
pub fn exchange(
    port: u16,
    conn: &Conn,
    io_timeout: Duration,
    deadline: Instant,
    connected: impl FnOnce(),
) -> io::Result<Outcome> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = connect(addr, conn.rcvbuf, deadline);
    connected();
    let stream = stream?;
    stream.set_read_timeout(Some(io_timeout))?;
    stream.set_write_timeout(Some(io_timeout))?;
    let mut writer_stream = stream.try_clone()?;
    let to_send = match conn.reader {
        Reader::Abort { abort_after } => abort_after.min(conn.size),
        _ => conn.size,
    };
    let (done_tx, done_rx) = mpsc::channel();
    let spec = *conn;
    let writer =
        thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || -> io::Result<usize> {
                let mut payload = Payload::new(spec.seed);
                let mut sizes = Payload::new(spec.seed ^ 0x5EED);
                let mut buf = vec![0u8; spec.max_write.max(1)];
                let mut sent = 0;
                while sent < to_send {
                    let n =
                        (sizes.range(1, spec.max_write.max(1) as u64) as usize).min(to_send - sent);
                    payload.fill(&mut buf[..n]);
                    writer_stream.write_all(&buf[..n])?;
                    sent += n;
                }
                if !matches!(spec.reader, Reader::Abort { .. }) {
                    writer_stream.shutdown(Shutdown::Write)?;
                }
                let _ = done_tx.send(());
                Ok(sent)
            })?;

    let mut outcome = Outcome {
        id: conn.id,
        sent: to_send,
        received: 0,
        first_wrong: None,
        aborted: matches!(conn.reader, Reader::Abort { .. }),
    };
    let result = match conn.reader {
        Reader::Abort { .. } => {
            let _ = done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
            drop(stream); // unread bytes in the receive queue: the kernel sends RST
            Ok(())
        }
        Reader::Late { after, then } => {
            let _ = done_rx.recv_timeout(after);
            thread::sleep(then);
            read_back(stream, conn, 65536, Duration::ZERO, deadline, &mut outcome)
        }
        Reader::Fast => read_back(stream, conn, 65536, Duration::ZERO, deadline, &mut outcome),
        Reader::Slow { chunk, pause } => {
            read_back(stream, conn, chunk, pause, deadline, &mut outcome)
        }
    };
    let sent = writer
        .join()
        .map_err(|_| io::Error::other("the writer thread panicked"))?;
    match (result, sent) {
        (Ok(()), Ok(sent)) => {
            outcome.sent = sent;
            Ok(outcome)
        }
        // The server closed early (the walk-through post's bug): the writer may see EPIPE / ECONNRESET;
        // what counts is what came back.
        (Ok(()), Err(_)) if outcome.received < outcome.sent => Ok(outcome),
        (Ok(()), Err(e)) | (Err(e), _) => Err(e),
    }
}
// ANCHOR_END: exchange

/// Reads until end of file, comparing with the payload; stops comparing at the first wrong byte.
fn read_back(
    mut stream: TcpStream,
    conn: &Conn,
    chunk: usize,
    pause: Duration,
    deadline: Instant,
    outcome: &mut Outcome,
) -> io::Result<()> {
    let mut expected = Payload::new(conn.seed);
    let mut buf = vec![0u8; chunk.max(1)];
    let mut want = vec![0u8; chunk.max(1)];
    loop {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!(
                    "not done by the deadline ({} bytes back so far)",
                    outcome.received
                ),
            ));
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if outcome.first_wrong.is_none() {
            expected.fill(&mut want[..n]);
            if let Some(at) = buf[..n].iter().zip(&want[..n]).position(|(a, b)| a != b) {
                outcome.first_wrong = Some(outcome.received + at);
            }
        }
        outcome.received += n;
        if !pause.is_zero() {
            thread::sleep(pause);
        }
    }
}

/// The shape of a load run.
#[derive(Clone, Debug)]
pub struct StressConfig {
    /// Connections, all at once.
    pub conns: usize,
    /// The largest payload; sizes are drawn from 0 up to it (most small, some large).
    pub max_size: usize,
    /// Per cent of the readers that are slow (4 KiB reads with a 1 ms pause).
    pub slow_percent: u64,
    /// Per cent that read late (only once their writer is done, or after 300 ms).
    pub late_percent: u64,
    /// Per cent that abort: close after sending part, without reading.
    pub abort_percent: u64,
    /// The walk-through post of the run (payloads, sizes, kinds).
    pub seed: u64,
    /// The whole run must end by then.
    pub deadline: Duration,
    /// One socket call may block this long.
    pub io_timeout: Duration,
}

impl Default for StressConfig {
    /// `just stress`'s default: 300 connections, up to 8 MiB, 20% slow, 10% late, no aborts.
    fn default() -> StressConfig {
        StressConfig {
            conns: 300,
            max_size: 8 << 20,
            slow_percent: 20,
            late_percent: 10,
            abort_percent: 0,
            seed: 1,
            deadline: Duration::from_secs(180),
            io_timeout: Duration::from_secs(60),
        }
    }
}

impl StressConfig {
    /// The connections of the run: sizes mostly small (60% up to 64 KiB, 30% up to 1 MiB, 10% up
    /// to `max_size`), readers fast, slow, late or aborting by the percentages.
    pub fn connections(&self) -> Vec<Conn> {
        let mut rng = Payload::new(self.seed);
        (0..self.conns)
            .map(|id| {
                let band = rng.range(0, 99);
                let top = if band < 60 {
                    64 << 10
                } else if band < 90 {
                    1 << 20
                } else {
                    self.max_size
                };
                let size = rng.range(0, top.min(self.max_size) as u64) as usize;
                let kind = rng.range(0, 99);
                let reader = if kind < self.abort_percent {
                    Reader::Abort {
                        abort_after: size / 2,
                    }
                } else if kind < self.abort_percent + self.slow_percent {
                    Reader::Slow {
                        chunk: 4096,
                        pause: Duration::from_millis(1),
                    }
                } else if kind < self.abort_percent + self.slow_percent + self.late_percent {
                    Reader::Late {
                        after: Duration::from_millis(300),
                        then: Duration::ZERO,
                    }
                } else {
                    Reader::Fast
                };
                Conn {
                    id,
                    seed: rng.next_u64(),
                    size,
                    max_write: rng.range(1, 256 << 10) as usize,
                    reader,
                    rcvbuf: None,
                }
            })
            .collect()
    }
}

/// What a successful load run did.
#[derive(Clone, Debug)]
pub struct StressReport {
    /// Connections that echoed everything.
    pub complete: usize,
    /// Connections that aborted on purpose.
    pub aborted: usize,
    /// Bytes sent (and received back) in all.
    pub bytes: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// The server's open fds before and after.
    pub fds: (usize, usize),
}

/// The time between two connects of a load run. The echo servers listen with a backlog of 16
/// (as the walk-through post does): a burst of hundreds of connects overflows the accept queue, and with SYN
/// cookies the kernel then resets some of the connections — a test of the kernel, not of the
/// server. Paced connects never fill the queue; the payloads are only sent once every
/// connection is made, so all of them still run at once.
pub const CONNECT_PACE: Duration = Duration::from_millis(2);

// ANCHOR: stress
/// Runs `config` against `server`: connects every connection (one per [`CONNECT_PACE`]), then
/// runs them all at once, each on its own threads; then checks that the server is alive and its
/// open fds are back to the count before the run. Returns what went wrong, every loss listed,
/// as an error.
pub fn stress(server: &mut Server, config: &StressConfig) -> Result<StressReport, String> {
    let baseline = server.open_fds().map_err(|e| e.to_string())?;
    let conns = config.connections();
    let started = Instant::now();
    let deadline = started + config.deadline;
    let all_connected = Arc::new(Barrier::new(conns.len()));
    let (tx, rx) = mpsc::channel();
    for conn in &conns {
        let (tx, conn, port, io_timeout) = (tx.clone(), *conn, server.port, config.io_timeout);
        let start_at = started + CONNECT_PACE * conn.id as u32;
        let all_connected = Arc::clone(&all_connected);
        thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                thread::sleep(start_at.saturating_duration_since(Instant::now()));
                let result = exchange(port, &conn, io_timeout, deadline, || {
                    all_connected.wait();
                });
                let _ = tx.send((conn.id, result));
            })
            .map_err(|e| format!("cannot start the thread of connection {}: {e}", conn.id))?;
    }
    drop(tx);
    let mut problems = Vec::new();
    let mut report = StressReport {
        complete: 0,
        aborted: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        fds: (baseline, 0),
    };
    let mut done = vec![false; conns.len()];
    while done.iter().any(|d| !d) {
        let left = (deadline + Duration::from_secs(5)).saturating_duration_since(Instant::now());
        let Ok((id, result)) = rx.recv_timeout(left) else {
            let running: Vec<String> = (0..conns.len())
                .filter(|&i| !done[i])
                .map(|i| i.to_string())
                .collect();
            problems.push(format!(
                "timeout: {} connection(s) not done within {} s: #{}",
                running.len(),
                config.deadline.as_secs(),
                running.join(", #")
            ));
            break;
        };
        done[id] = true;
        let conn = &conns[id];
        match result {
            Ok(outcome) if outcome.aborted => report.aborted += 1,
            Ok(outcome) => match outcome.loss() {
                None => {
                    report.complete += 1;
                    report.bytes += outcome.sent as u64;
                }
                Some(loss) => problems.push(format!(
                    "LOSS on connection #{id} ({}): {loss}",
                    describe(conn)
                )),
            },
            Err(e) => problems.push(format!("connection #{id} ({}) failed: {e}", describe(conn))),
        }
    }
    report.elapsed = started.elapsed();
    if let Some(how) = server.exited() {
        problems.push(format!("the server {how} during the run"));
    } else {
        let after = server
            .wait_for_fds(baseline, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        report.fds.1 = after;
        if after != baseline {
            problems.push(format!(
                "the server has {after} fds open after the run, {baseline} before: {} connection(s) \
                 were never closed",
                after as i64 - baseline as i64
            ));
        }
    }
    if problems.is_empty() {
        return Ok(report);
    }
    let stderr = server.stderr();
    let stderr = if stderr.is_empty() {
        String::new()
    } else {
        format!(
            "\nthe server's stderr:\n    {}",
            stderr.trim_end().replace('\n', "\n    ")
        )
    };
    Err(format!(
        "stress against {}: {} problem(s)\n  {}{stderr}",
        server.program.display(),
        problems.len(),
        problems.join("\n  ")
    ))
}
// ANCHOR_END: stress

/// The shape of an fd-exhaustion run ([`fd_exhaustion`]).
#[derive(Clone, Debug)]
pub struct FdExhaustionConfig {
    /// The server's `RLIMIT_NOFILE`: it can have this many fds open, its own included.
    pub fd_limit: u64,
    /// Clients that connect (one per [`CONNECT_PACE`]) and wait: more than the server has fds for.
    pub clients: usize,
    /// How long the saturated server's CPU time is measured.
    pub window: Duration,
    /// The most CPU the saturated server may use over the window, in per cent of one core.
    pub max_cpu_percent: f64,
    /// The most lines the server may write to stderr over the whole run.
    pub max_log_lines: usize,
    /// The largest payload a client sends once let go (sizes are drawn from 1 up to it).
    pub max_size: usize,
    /// The walk-through post of the payloads and sizes.
    pub seed: u64,
    /// The whole run must end by then.
    pub deadline: Duration,
    /// How long to wait after the last client for the server's last lines (the echo servers
    /// sum a shortage up once a second has passed without one).
    pub settle: Duration,
    /// More arguments for the server, after `--port P` (`--beyond`).
    pub server_args: Vec<String>,
}

impl Default for FdExhaustionConfig {
    /// `just stress`'s fd-exhaustion case: 60 clients against a server limited to 32 fds, CPU
    /// measured over 2 s and allowed 10%, at most 10 lines on stderr, payloads up to 64 KiB.
    fn default() -> FdExhaustionConfig {
        FdExhaustionConfig {
            fd_limit: 32,
            clients: 60,
            window: Duration::from_secs(2),
            max_cpu_percent: 10.0,
            max_log_lines: 10,
            max_size: 64 << 10,
            seed: 1,
            deadline: Duration::from_secs(60),
            settle: Duration::from_millis(1500),
            server_args: Vec::new(),
        }
    }
}

/// What an fd-exhaustion run measured.
#[derive(Clone, Debug, Default)]
pub struct FdExhaustionReport {
    /// The server's open fds before the clients came, and after they were all served.
    pub fds: (usize, usize),
    /// How long after the first connect the server had all its fds open.
    pub saturated_after: Duration,
    /// The server's CPU over the window, in per cent of one core.
    pub cpu_percent: f64,
    /// The window the CPU was measured over (as slept; at least the configured one).
    pub window: Duration,
    /// Lines the server wrote to stderr during the window.
    pub log_lines_in_window: usize,
    /// Lines the server wrote to stderr over the whole run.
    pub log_lines: usize,
    /// The first of them (up to `max_log_lines` + 1).
    pub log: Vec<String>,
    /// From letting the clients go until the last one had every byte back.
    pub served_in: Duration,
    /// Clients that got every byte back.
    pub complete: usize,
    /// Bytes sent (and received back) in all.
    pub bytes: u64,
}

impl FdExhaustionReport {
    /// The figures in one line.
    pub fn summary(&self, config: &FdExhaustionConfig) -> String {
        format!(
            "saturated ({} fds) {:.2} s after the first connect; CPU {:.1}% of one core over {:.1} s \
             (limit {}%); {} stderr line(s) in that window, {} in the whole run (limit {}); {} of \
             {} clients served ({}) in {:.2} s once let go; server fds {} before, {} after",
            config.fd_limit,
            self.saturated_after.as_secs_f64(),
            self.cpu_percent,
            self.window.as_secs_f64(),
            config.max_cpu_percent,
            self.log_lines_in_window,
            self.log_lines,
            config.max_log_lines,
            self.complete,
            config.clients,
            human(self.bytes),
            self.served_in.as_secs_f64(),
            self.fds.0,
            self.fds.1
        )
    }
}

/// A gate that waiting clients pass once it is opened.
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            open: Mutex::new(false),
            opened: Condvar::new(),
        }
    }

    /// Waits until the gate is open, or until `deadline`.
    fn pass(&self, deadline: Instant) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        while !*open {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            open = match self.opened.wait_timeout(open, left) {
                Ok((open, _)) => open,
                Err(_) => return,
            };
        }
    }

    fn open(&self) {
        if let Ok(mut open) = self.open.lock() {
            *open = true;
        }
        self.opened.notify_all();
    }
}

// ANCHOR: fd_exhaustion
/// Runs `program` out of fds: starts it with `RLIMIT_NOFILE` = `config.fd_limit`, connects
/// `config.clients` clients that wait once connected, waits until the server has all its fds
/// open, measures its CPU over `config.window` (a server that retries `accept` in a loop burns a
/// core), then lets the clients go: each sends its payload, half-closes and checks the echo.
/// Fails — with every figure measured — when the saturated server used more than
/// `config.max_cpu_percent`, logged more than `config.max_log_lines` lines, lost a byte, did not
/// serve a client by the deadline, kept an fd open or died.
pub fn fd_exhaustion(
    program: &Path,
    config: &FdExhaustionConfig,
) -> Result<FdExhaustionReport, String> {
    let mut server = Server::start_with_fd_limit(program, config.fd_limit, &config.server_args)
        .map_err(|e| e.to_string())?;
    let mut report = FdExhaustionReport::default();
    let baseline = server.open_fds().map_err(|e| e.to_string())?;
    report.fds.0 = baseline;
    let limit = usize::try_from(config.fd_limit).unwrap_or(usize::MAX);
    if baseline + 1 >= limit || config.clients <= limit - baseline {
        return Err(format!(
            "fd exhaustion: a limit of {limit} fds with {baseline} open at the start and {} \
             clients never runs the server out of fds",
            config.clients
        ));
    }
    let mut rng = Payload::new(config.seed);
    let conns: Vec<Conn> = (0..config.clients)
        .map(|id| Conn {
            id,
            seed: rng.next_u64(),
            size: rng.range(1, config.max_size.max(1) as u64) as usize,
            max_write: 16 << 10,
            reader: Reader::Fast,
            rcvbuf: None,
        })
        .collect();
    let started = Instant::now();
    let deadline = started + config.deadline;
    let io_timeout = config.deadline;
    let gate = Arc::new(Gate::new());
    let (tx, rx) = mpsc::channel();
    for conn in &conns {
        let (tx, conn, port, gate) = (tx.clone(), *conn, server.port, Arc::clone(&gate));
        let start_at = started + CONNECT_PACE * conn.id as u32;
        thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                thread::sleep(start_at.saturating_duration_since(Instant::now()));
                let result = exchange(port, &conn, io_timeout, deadline, || gate.pass(deadline));
                let _ = tx.send((conn.id, result, Instant::now()));
            })
            .map_err(|e| format!("cannot start the thread of client {}: {e}", conn.id))?;
    }
    drop(tx);
    let mut problems = Vec::new();

    // Saturation: every fd open, and every client has had the time to start connecting.
    let all_started = CONNECT_PACE * config.clients as u32;
    let until = Instant::now() + Duration::from_secs(10).max(all_started * 2);
    loop {
        let open = server.open_fds().map_err(|e| e.to_string())?;
        if open >= limit && started.elapsed() >= all_started {
            report.saturated_after = started.elapsed();
            break;
        }
        if Instant::now() >= until || server.exited().is_some() {
            problems.push(format!(
                "the server never had all its {limit} fds open ({open} after {:.1} s)",
                started.elapsed().as_secs_f64()
            ));
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    if problems.is_empty() {
        // Time for the waiting connections to reach the accept queue and accept to fail.
        thread::sleep(Duration::from_millis(200));
        let (cpu_before, lines_before, at) = (
            server.cpu_time().map_err(|e| e.to_string())?,
            server.stderr_lines(),
            Instant::now(),
        );
        thread::sleep(config.window);
        let (cpu_after, lines_after, window) = (
            server.cpu_time().map_err(|e| e.to_string())?,
            server.stderr_lines(),
            at.elapsed(),
        );
        report.window = window;
        report.cpu_percent = (cpu_after - cpu_before).as_secs_f64() / window.as_secs_f64() * 100.0;
        report.log_lines_in_window = lines_after - lines_before;
        if report.cpu_percent > config.max_cpu_percent {
            problems.push(format!(
                "the server used {:.0}% of a core while out of fds (at most {}% allowed): it \
                 spins on a listener that stays readable",
                report.cpu_percent, config.max_cpu_percent
            ));
        }
    }

    // Let the clients go: the served ones close, fds free up, the waiting ones get in.
    let released = Instant::now();
    gate.open();
    let mut done = vec![false; conns.len()];
    let mut last_done = released;
    while done.iter().any(|d| !d) {
        let left = (deadline + Duration::from_secs(5)).saturating_duration_since(Instant::now());
        let Ok((id, result, at)) = rx.recv_timeout(left) else {
            let waiting: Vec<String> = (0..conns.len())
                .filter(|&i| !done[i])
                .map(|i| i.to_string())
                .collect();
            problems.push(format!(
                "timeout: {} client(s) not served within {} s: #{}",
                waiting.len(),
                config.deadline.as_secs(),
                waiting.join(", #")
            ));
            break;
        };
        done[id] = true;
        last_done = last_done.max(at);
        match result {
            Ok(outcome) => match outcome.loss() {
                None => {
                    report.complete += 1;
                    report.bytes += outcome.sent as u64;
                }
                Some(loss) => problems.push(format!("LOSS on client #{id}: {loss}")),
            },
            Err(e) => problems.push(format!("client #{id} failed: {e}")),
        }
    }
    report.served_in = last_done.saturating_duration_since(released);
    if let Some(how) = server.exited() {
        problems.push(format!("the server {how} during the run"));
    } else {
        let after = server
            .wait_for_fds(baseline, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        report.fds.1 = after;
        if after != baseline {
            problems.push(format!(
                "the server has {after} fds open after the run, {baseline} before"
            ));
        }
    }
    thread::sleep(config.settle);
    report.log_lines = server.stderr_lines();
    report.log = server
        .stderr()
        .lines()
        .take(config.max_log_lines + 1)
        .map(str::to_string)
        .collect();
    if report.log_lines > config.max_log_lines {
        problems.push(format!(
            "the server wrote {} lines to stderr (at most {} allowed): its logging is not \
             rate-limited",
            report.log_lines, config.max_log_lines
        ));
    }
    if problems.is_empty() {
        return Ok(report);
    }
    let head: Vec<&str> = report.log.iter().take(5).map(String::as_str).collect();
    Err(format!(
        "fd exhaustion of {}: {} problem(s)\n  {}\n  measured: {}\n  the server's stderr \
         (first lines of {}):\n    {}",
        program.display(),
        problems.len(),
        problems.join("\n  "),
        report.summary(config),
        report.log_lines,
        head.join("\n    ")
    ))
}
// ANCHOR_END: fd_exhaustion

/// The shape of a run of clients that send and never read ([`non_readers`]).
#[derive(Clone, Debug)]
pub struct NonReadersConfig {
    /// How many clients connect.
    pub clients: usize,
    /// How much each tries to send.
    pub size: usize,
    /// Each client's `SO_RCVBUF`, set before connecting: a small one keeps the echo's TCP
    /// window small, so what the server cannot send stays in its memory (or is not read).
    pub rcvbuf: usize,
    /// The server has stopped growing when neither its RSS nor any client's sending has
    /// changed for this long.
    pub quiet: Duration,
    /// The whole run must end by then.
    pub deadline: Duration,
}

impl Default for NonReadersConfig {
    /// Issue 11's case: 20 clients of 8 MiB each, a 64 KiB receive buffer, quiet for 1 s, within
    /// 60 s.
    fn default() -> NonReadersConfig {
        NonReadersConfig {
            clients: 20,
            size: 8 << 20,
            rcvbuf: 64 << 10,
            quiet: Duration::from_secs(1),
            deadline: Duration::from_secs(60),
        }
    }
}

/// What a run of non-reading clients measured.
#[derive(Clone, Debug, Default)]
pub struct NonReadersReport {
    /// The server's RSS before the clients connected, in bytes.
    pub rss_before: u64,
    /// Its RSS once it had stopped growing, in bytes.
    pub rss_after: u64,
    /// How much each client got into its socket (the rest would not go: the server stopped
    /// reading and the kernel's buffers were full).
    pub sent: Vec<usize>,
    /// From the first connect until the server had stopped growing (minus the quiet time).
    pub settled_after: Duration,
}

impl NonReadersReport {
    /// The server's growth per client: `(rss_after - rss_before) / clients`, in bytes.
    pub fn growth_per_client(&self) -> u64 {
        let clients = self.sent.len().max(1) as u64;
        self.rss_after.saturating_sub(self.rss_before) / clients
    }

    /// The figures in one line.
    pub fn summary(&self) -> String {
        let sent: usize = self.sent.iter().sum();
        let least = self.sent.iter().min().copied().unwrap_or(0);
        format!(
            "{} clients sent {} in all (each at least {}) and never read; server RSS {} before, \
             {} once it stopped growing ({:.1} s): {} per client",
            self.sent.len(),
            human(sent as u64),
            human(least as u64),
            human(self.rss_before),
            human(self.rss_after),
            self.settled_after.as_secs_f64(),
            human(self.growth_per_client())
        )
    }
}

/// Connects `config.clients` clients to `server`, each with a small receive buffer, and has
/// each send up to `config.size` bytes without ever reading; waits until the server has stopped
/// growing — its RSS and every client's sending unchanged for `config.quiet` — and reports its
/// RSS before and after. A server without back-pressure keeps every byte it reads and cannot
/// echo; one that stops reading past a bound grows by about that bound per client. Fails when a
/// client cannot connect or its connection breaks (the server closed it), when the server
/// dies, or at the deadline, with the figures so far.
pub fn non_readers(
    server: &mut Server,
    config: &NonReadersConfig,
) -> Result<NonReadersReport, String> {
    let start = Instant::now();
    let deadline = start + config.deadline;
    let mut report = NonReadersReport {
        rss_before: server.rss().map_err(|e| e.to_string())?,
        ..NonReadersReport::default()
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port));
    let mut streams = Vec::with_capacity(config.clients);
    for id in 0..config.clients {
        let stream = connect(addr, Some(config.rcvbuf), deadline)
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map_err(|e| format!("non-reader {id}: connecting to {addr}: {e}"))?;
        streams.push(stream);
    }
    report.sent = vec![0; config.clients];
    let chunk = vec![b'x'; 64 << 10];
    let mut rss = report.rss_before;
    let mut last_change = Instant::now();
    loop {
        let mut changed = false;
        for (id, stream) in streams.iter_mut().enumerate() {
            while report.sent[id] < config.size {
                let n = chunk.len().min(config.size - report.sent[id]);
                match stream.write(&chunk[..n]) {
                    Ok(0) => {
                        return Err(format!("non-reader {id}: the server closed the connection"));
                    }
                    Ok(n) => {
                        report.sent[id] += n;
                        changed = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(format!(
                            "non-reader {id}: sending after {}: {e} (did the server close it?)",
                            human(report.sent[id] as u64)
                        ));
                    }
                }
            }
        }
        if let Some(how) = server.exited() {
            return Err(format!(
                "the server {how} under {} non-readers",
                config.clients
            ));
        }
        let now_rss = server.rss().map_err(|e| e.to_string())?;
        if changed || now_rss != rss {
            rss = now_rss;
            last_change = Instant::now();
        } else if last_change.elapsed() >= config.quiet {
            report.rss_after = rss;
            report.settled_after = last_change - start;
            return Ok(report);
        }
        if Instant::now() >= deadline {
            report.rss_after = rss;
            return Err(format!(
                "the server was still growing after {} s: {}",
                config.deadline.as_secs(),
                report.summary()
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A connection in words: `2.1 MiB, slow reader`.
fn describe(conn: &Conn) -> String {
    let kind = match conn.reader {
        Reader::Fast => "fast reader",
        Reader::Slow { .. } => "slow reader",
        Reader::Late { .. } => "late reader",
        Reader::Abort { .. } => "aborting",
    };
    format!("{}, {kind}", human(conn.size as u64))
}

/// Bytes in words: `512 B`, `3.5 KiB`, `2.1 MiB`.
pub fn human(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1 << 20 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_the_same_however_it_is_cut() {
        let mut whole = vec![0u8; 100];
        Payload::new(7).fill(&mut whole);
        let mut parts = vec![0u8; 100];
        let mut p = Payload::new(7);
        for chunk in parts.chunks_mut(3) {
            p.fill(chunk);
        }
        assert_eq!(whole, parts);
        let mut other = vec![0u8; 100];
        Payload::new(8).fill(&mut other);
        assert_ne!(whole, other);
    }

    #[test]
    fn runs_are_reproducible_and_mixed() {
        let config = StressConfig {
            abort_percent: 5,
            ..StressConfig::default()
        };
        let a = config.connections();
        let b = config.connections();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(a.iter().all(|c| c.size <= config.max_size));
        assert!(
            a.iter().any(|c| c.size > 4 << 20),
            "some payloads are several MiB"
        );
        for kind in ["Fast", "Slow", "Late", "Abort"] {
            assert!(
                a.iter()
                    .any(|c| format!("{:?}", c.reader).starts_with(kind)),
                "{kind}"
            );
        }
    }

    #[test]
    fn losses_are_explained() {
        let mut o = Outcome {
            id: 0,
            sent: 10,
            received: 6,
            first_wrong: None,
            aborted: false,
        };
        assert_eq!(
            o.loss().as_deref(),
            Some("sent 10 bytes, got 6 back: the last 4 never came (end of file came first)")
        );
        o.first_wrong = Some(3);
        assert!(o.loss().is_some_and(|l| l.contains("wrong from offset 3")));
        o.first_wrong = None;
        o.received = 10;
        assert!(o.is_complete() && o.loss().is_none());
    }
}
