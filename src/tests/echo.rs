//! The `echo_event` server (src/bin/echo_event.rs) as a child process, under load: 50 concurrent
//! clients with payloads of up to 4 MiB, some of them slow readers, all of them half-closing once
//! they have sent everything; and one client sending more than the kernel's socket buffers hold
//! while it reads nothing, so that the server's writes go short and it must keep the rest, stop
//! reading and wait for EV_WRITE. Every byte must come back, in order — the seed's echo server
//! (traces/reference/echo_event.c) loses the tail of a short write; this one must not.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const CLIENTS: usize = 50;
const MAX_PAYLOAD: usize = 4 << 20;
/// The slow readers' receive buffer (the kernel doubles it for its bookkeeping).
const SLOW_RCVBUF: libc::c_int = 4 << 10;
/// How long a slow reader waits before its first read.
const SLOW_START: Duration = Duration::from_millis(500);
/// No single socket operation may stall this long (the test fails instead of hanging).
const IO_TIMEOUT: Duration = Duration::from_secs(40);

/// A small xorshift64* generator: the payloads are pseudo-random, reproducible from the seed, and
/// generated on the fly by the writer and again by the reader that checks them.
#[derive(Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The server child, killed and reaped when dropped (also when a test fails).
struct Server {
    child: Child,
    port: u16,
    /// Everything it printed on stdout after the "listening" line.
    stdout: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `echo_event --port P` on a free loopback port and waits for its "listening" line.
    fn start() -> Server {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo_event"));
            cmd.args(["--port", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // SAFETY: prctl is async-signal-safe; the server gets SIGKILL if this test dies before
            // it can kill the server itself (so no orphan keeps a port or the runner's pipes).
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().expect("starting echo_event");
            let err = BufReader::new(child.stderr.take().unwrap());
            // Its stderr (warnings, errors) goes to the test's output, shown if the test fails.
            thread::spawn(move || {
                for line in err.lines().map_while(Result::ok) {
                    eprintln!("echo_event stderr: {line}");
                }
            });
            let mut out = BufReader::new(child.stdout.take().unwrap());
            let mut first = String::new();
            out.read_line(&mut first).unwrap();
            if first.trim() != format!("echo_event: listening on 127.0.0.1:{port}") {
                // Most likely the port was taken in between: try another one.
                eprintln!("echo_event did not start on port {port}: {first:?}");
                let _ = child.kill();
                let _ = child.wait();
                continue;
            }
            let stdout = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&stdout);
            // Drain stdout so the server never blocks on a full pipe.
            thread::spawn(move || {
                for line in out.lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
            return Server {
                child,
                port,
                stdout,
            };
        }
        panic!("echo_event did not start on any of 5 free ports");
    }

    fn count(&self, prefix: &str) -> usize {
        self.stdout
            .lock()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(prefix))
            .count()
    }
}

/// How a client reads the echo back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reader {
    /// 64 KiB reads, as fast as it can.
    Fast,
    /// A small receive buffer, a pause before the first read, then 1 KiB reads with a short sleep
    /// every 32 of them.
    Slow,
}

/// What a client saw.
struct Report {
    /// Bytes echoed back and checked.
    got: usize,
    /// Bytes its writer had sent when the reader began to read.
    sent_before_reading: usize,
}

/// One client on a connected `stream`: once every client is ready (`start`), a writer thread sends
/// `len` bytes from `seed` then half-closes; this thread reads the echo and checks every byte, in
/// order, up to EOF.
fn client(
    stream: TcpStream,
    start: &Barrier,
    id: usize,
    len: usize,
    seed: u64,
    reader: Reader,
) -> Result<Report, String> {
    start.wait();
    let sent = Arc::new(AtomicUsize::new(0));
    let sent_by_writer = Arc::clone(&sent);
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut tx = stream.try_clone().unwrap();
    let writer = thread::spawn(move || -> std::io::Result<()> {
        let mut payload = XorShift::new(seed);
        let mut buf = vec![0u8; 64 << 10];
        let mut left = len;
        while left > 0 {
            let n = left.min(buf.len());
            payload.fill(&mut buf[..n]);
            tx.write_all(&buf[..n])?;
            left -= n;
            sent_by_writer.fetch_add(n, Ordering::Relaxed);
        }
        // Half-close: the server sees EOF but must still send back everything it has.
        tx.shutdown(Shutdown::Write)
    });

    let mut rx = stream;
    let mut expected_gen = XorShift::new(seed);
    // The expected stream is generated in 8-byte words; keep the unconsumed tail between reads.
    let mut expected = Vec::new();
    let mut got = 0usize;
    let chunk = match reader {
        Reader::Fast => 64 << 10,
        Reader::Slow => 1 << 10,
    };
    let mut buf = vec![0u8; chunk];
    if reader == Reader::Slow {
        thread::sleep(SLOW_START);
    }
    let sent_before_reading = sent.load(Ordering::Relaxed);
    let mut reads = 0u64;
    loop {
        let n = match rx.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format!(
                    "client {id} ({reader:?}): read after {got}/{len} bytes: {e}"
                ));
            }
        };
        if got + n > len {
            return Err(format!(
                "client {id}: got {} bytes, sent only {len}",
                got + n
            ));
        }
        while expected.len() < n {
            let mut word = [0u8; 8];
            expected_gen.fill(&mut word);
            expected.extend_from_slice(&word);
        }
        if buf[..n] != expected[..n] {
            let at = buf[..n]
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap();
            return Err(format!(
                "client {id}: byte {} differs from what was sent",
                got + at
            ));
        }
        expected.drain(..n);
        got += n;
        reads += 1;
        if reader == Reader::Slow && reads.is_multiple_of(32) {
            thread::sleep(Duration::from_millis(1));
        }
    }
    writer
        .join()
        .expect("writer thread")
        .map_err(|e| format!("client {id}: write: {e}"))?;
    if got != len {
        return Err(format!(
            "client {id} ({reader:?}): got {got} of {len} bytes back before EOF"
        ));
    }
    Ok(Report {
        got,
        sent_before_reading,
    })
}

/// Connects the `n`-th client and waits until the server has accepted it. The server listens with
/// the seed's backlog of 16: fifty simultaneous connects would overflow the accept queue, and the
/// kernel (SYN cookies) then resets some of them before the server ever sees them — a property of
/// the backlog, not of the event loop, so the clients connect one by one and only the transfers
/// run concurrently.
fn connect(server: &Server, n: usize, rcvbuf: Option<libc::c_int>) -> TcpStream {
    let stream = match rcvbuf {
        None => TcpStream::connect(("127.0.0.1", server.port)).expect("connect"),
        Some(bytes) => connect_with_rcvbuf(server.port, bytes),
    };
    let deadline = Instant::now() + IO_TIMEOUT;
    while server.count("accepted fd") < n {
        assert!(
            Instant::now() < deadline,
            "the server did not accept client {n}"
        );
        thread::sleep(Duration::from_millis(1));
    }
    stream
}

/// `socket`, `setsockopt(SO_RCVBUF, bytes)`, `connect`: a receive buffer fixed before the handshake
/// (so the window advertised is small from the start, and the kernel does not autotune it up to
/// megabytes, which on loopback would swallow a whole payload).
fn connect_with_rcvbuf(port: u16, bytes: libc::c_int) -> TcpStream {
    use std::os::fd::FromRawFd;
    // SAFETY: socket takes only integers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: fd is a socket we own; from here on the TcpStream closes it.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    // SAFETY: the option value points at a live c_int of the given size.
    let res = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&bytes as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(
        res,
        0,
        "setsockopt(SO_RCVBUF): {}",
        std::io::Error::last_os_error()
    );
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sin is a valid sockaddr_in of the given length.
    let res = unsafe {
        libc::connect(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(res, 0, "connect: {}", std::io::Error::last_os_error());
    stream
}

/// echo_event.rs (on_read / on_write / close_conn): 50 concurrent clients, payloads of 0 to 4 MiB,
/// one in five a slow reader, each half-closing after its last byte; every client gets every byte
/// back in order, and the server closes each connection (its "closed fd" line) after the last byte.
/// (On loopback the kernel's buffers — up to 4 MiB of send buffer per socket here — can absorb a
/// whole 4 MiB echo, so short writes are not guaranteed in this test; the next one forces them.)
#[test]
fn fifty_clients_get_every_byte_back() {
    let server = Server::start();
    let start = Instant::now();
    let mut sizes = XorShift::new(0x5EED);
    let ready = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            // A few fixed edge sizes, the rest random up to 4 MiB.
            let len = match id {
                0 => 0,
                1 => 1,
                2 => MAX_PAYLOAD,
                _ => (sizes.next() % (MAX_PAYLOAD as u64 + 1)) as usize,
            };
            let reader = if id % 5 == 2 {
                Reader::Slow
            } else {
                Reader::Fast
            };
            let rcvbuf = (reader == Reader::Slow).then_some(SLOW_RCVBUF);
            let stream = connect(&server, id + 1, rcvbuf);
            let ready = Arc::clone(&ready);
            (
                len,
                thread::spawn(move || client(stream, &ready, id, len, id as u64 + 1, reader)),
            )
        })
        .collect();
    let mut failures = Vec::new();
    let mut total = 0;
    for (len, handle) in clients {
        match handle.join().expect("client thread") {
            Ok(report) => {
                assert_eq!(report.got, len);
                total += report.got;
            }
            Err(why) => failures.push(why),
        }
    }
    assert!(
        failures.is_empty(),
        "{} clients failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "echoed {total} bytes to {CLIENTS} clients in {:?}",
        start.elapsed()
    );

    // The server is still up, accepted every client and closed every connection.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count("closed fd") < CLIENTS && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.count("accepted fd"), CLIENTS);
    assert_eq!(server.count("closed fd"), CLIENTS);
    let mut server = server;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
}

/// echo_event.rs (echo / on_write): a client that sends far more than the kernel's buffers hold
/// (12 MiB; on loopback they take about 7 MiB: the server's send buffer, this client's receive
/// buffer, and the socket buffers of the other direction) and reads nothing for a while. The
/// server's writes go short: it must keep the rest, stop reading (so this client's writer stalls —
/// a server that kept reading, and dropped or hoarded what it could not write, would let it finish)
/// and wait for EV_WRITE; the client half-closes while the server still holds unsent bytes, and
/// must still get all of them.
#[test]
fn slow_reader_gets_back_pressure_and_every_byte() {
    const LEN: usize = 12 << 20;
    let server = Server::start();
    let stream = connect(&server, 1, Some(SLOW_RCVBUF));
    let report = client(stream, &Barrier::new(1), 0, LEN, 0xB0B, Reader::Slow)
        .unwrap_or_else(|why| panic!("{why}"));
    assert_eq!(report.got, LEN);
    assert!(
        report.sent_before_reading < LEN,
        "the writer sent all {LEN} bytes while nothing was read back: the server did not stop reading"
    );
}

/// echo_event.rs (parse_port): a bad `--port` is a usage error: exit code 2 and a usage line.
#[test]
fn bad_port_is_a_usage_error() {
    for args in [
        &["--port", "x"][..],
        &["--port", "0"],
        &["--port", "70000"],
        &["--port"],
        &["--bogus"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_echo_event"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("usage: echo_event [--port P]"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}
