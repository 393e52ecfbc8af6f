//! The lock-step echo client that drives the `echo-event` scenario.
//!
//! A server's trace is only the same on every run if the client never lets two things race:
//! each step waits for the previous one's effect before it starts (see the end of
//! `traces/SCENARIOS.md`):
//!
//! 1. connect to `127.0.0.1:P` (retrying while the server starts, at most [`STEP`]);
//! 2. send `hello\n`, read exactly 6 bytes back and check them;
//! 3. send `world\n`, read exactly 6 bytes back and check them;
//! 4. `shutdown(SHUT_WR)`, read until end of file (the server closed its side), close;
//! 5. wait until the server is blocked in its backend's wait call again;
//! 6. SIGTERM the server; strace then ends.
//!
//! Each step has its own deadline and a clear error; the whole recording has
//! [`crate::record::DEADLINE`].

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::TraceError;
use crate::record::Running;

/// How long one step of the session may take.
pub const STEP: Duration = Duration::from_secs(5);

/// The lowest port the harness uses: every port has five digits, so a string that contains it
/// (the server's banner) has the same length on every run (see [`crate::normalize::mask_ports`]).
pub const MIN_PORT: u16 = 10000;

/// A free TCP port on 127.0.0.1, at least [`MIN_PORT`]: [`listen_local`]'s, closed again.
pub fn free_port() -> Result<u16, TraceError> {
    Ok(listen_local()?.1)
}

/// A socket listening on 127.0.0.1 on a port the kernel chose, at least [`MIN_PORT`], and
/// that port.
///
/// Binds port 0 to let the kernel choose one, and tries again if it was below [`MIN_PORT`]
/// (Linux's ephemeral range starts at 32768, so this practically never repeats).
pub fn listen_local() -> Result<(TcpListener, u16), TraceError> {
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| TraceError::io("binding 127.0.0.1:0 to find a free port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| TraceError::io("reading the port the kernel chose", e))?
            .port();
        if port >= MIN_PORT {
            return Ok((listener, port));
        }
    }
    Err(TraceError::Client(format!(
        "the kernel gave no free port >= {MIN_PORT} in 100 tries"
    )))
}

/// Runs the session against the server on `port`, driving `running` (the server under strace)
/// until it has been sent SIGTERM.
pub fn echo_session(port: u16, running: &mut Running) -> Result<(), TraceError> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = connect(address, running)?;
    stream
        .set_nodelay(true)
        .map_err(|e| TraceError::io("setting TCP_NODELAY", e))?;
    for word in [&b"hello\n"[..], &b"world\n"[..]] {
        stream
            .write_all(word)
            .map_err(|e| TraceError::io(format!("sending {}", shown(word)), e))?;
        let echo = read_within(&mut stream, Some(word.len()), STEP)?;
        if echo.bytes != word {
            return Err(TraceError::Client(format!(
                "echo server did not echo {} within {} s; got {}",
                shown(word),
                STEP.as_secs_f64(),
                shown(&echo.bytes)
            )));
        }
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| TraceError::io("shutting down the client's writing side", e))?;
    let rest = read_within(&mut stream, None, STEP)?;
    if !rest.bytes.is_empty() || !rest.eof {
        return Err(TraceError::Client(format!(
            "after shutdown(SHUT_WR) the server did not close the connection within {} s; \
             it sent {}",
            STEP.as_secs_f64(),
            shown(&rest.bytes)
        )));
    }
    drop(stream);
    running.wait_until_waiting(STEP)?;
    running.terminate()
}

/// Connects to the server, retrying while it starts up.
fn connect(address: SocketAddr, running: &mut Running) -> Result<TcpStream, TraceError> {
    let until = Instant::now() + STEP;
    loop {
        match TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() >= until => {
                return Err(TraceError::Client(format!(
                    "could not connect to the echo server at {address} within {} s: {e}\n\
                     its stderr:\n{}",
                    STEP.as_secs_f64(),
                    running.stderr_so_far()
                )));
            }
            Err(_) => {
                running.check_alive("the client tried to connect")?;
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// What [`read_within`] got.
pub(crate) struct Received {
    /// The bytes read.
    pub(crate) bytes: Vec<u8>,
    /// Whether the other side closed its side (end of file).
    pub(crate) eof: bool,
}

/// Reads until `want` bytes came (or, for `None`, until end of file), end of file, or `within`
/// has passed; returns what came. Only an I/O error other than the timeout is an error.
pub(crate) fn read_within(
    stream: &mut TcpStream,
    want: Option<usize>,
    within: Duration,
) -> Result<Received, TraceError> {
    let until = Instant::now() + within;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if want.is_some_and(|n| bytes.len() >= n) || left.is_zero() {
            return Ok(Received { bytes, eof: false });
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| TraceError::io("setting the read timeout", e))?;
        let limit = want.map_or(chunk.len(), |n| (n - bytes.len()).min(chunk.len()));
        match stream.read(&mut chunk[..limit]) {
            Ok(0) => return Ok(Received { bytes, eof: true }),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(TraceError::io("reading from the socket", e)),
        }
    }
}

/// Bytes shown as a Rust-like string literal, e.g. `hello\n`, between backticks.
pub(crate) fn shown(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".to_string();
    }
    format!("`{}`", bytes.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_have_five_digits() {
        let port = free_port().expect("a port");
        assert!(port >= MIN_PORT);
        assert_eq!(port.to_string().len(), 5);
    }

    #[test]
    fn bytes_are_shown_escaped() {
        assert_eq!(shown(b"hello\n"), "`hello\\n`");
        assert_eq!(shown(b""), "nothing");
    }

    #[test]
    fn reading_stops_at_the_count_or_times_out_with_what_came() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let address = listener.local_addr().expect("address");
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            s.write_all(b"hel").expect("write");
            thread::sleep(Duration::from_millis(300));
        });
        let mut client = TcpStream::connect(address).expect("connect");
        let got = read_within(&mut client, Some(6), Duration::from_millis(100)).expect("reads");
        assert_eq!(got.bytes, b"hel");
        assert!(!got.eof);
        let rest = read_within(&mut client, None, Duration::from_secs(5)).expect("reads");
        assert!(rest.bytes.is_empty() && rest.eof);
        server.join().expect("server thread");
    }
}
