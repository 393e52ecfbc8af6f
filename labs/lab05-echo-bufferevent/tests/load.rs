//! More than one message's worth: a reader slower than the writer, a client that does not read
//! at all, many clients at once. The output must keep what the socket does not take yet, and it
//! must not grow without bound while the client does not read.

use minievent_labs_kit::echo::{STALL, is_stall};
use minievent_traces::load::{Conn, Payload, Reader, StressConfig};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::time::{Duration, Instant};

mod common;

/// 6 MiB to a client that reads 8 KiB at a time with a pause after each read: the server's
/// writes come up short again and again, and the output holds the rest meanwhile.
#[test]
fn a_slow_reader_gets_megabytes() {
    let mut server = common::server();
    let baseline = server.open_fds();
    let conn = Conn {
        id: 0,
        seed: 11,
        size: 6 << 20,
        max_write: 128 << 10,
        reader: Reader::Slow {
            chunk: 8 << 10,
            pause: Duration::from_millis(1),
        },
        rcvbuf: Some(64 << 10),
    };
    server.exchange(&conn, Duration::from_secs(40));
    server.assert_fds_back_to(baseline, "after the slow reader");
}

/// More than a client that reads nothing can get a server that stops reading to take: its
/// output's limit (1 MiB), plus what the kernel queues on the way — mostly the server's send
/// queue, up to 4 MiB by default (`net.ipv4.tcp_wmem`); about 5 MiB in all. A server that never
/// stops reading takes it all.
const MOST_UNREAD: usize = 24 << 20;

/// Sends without reading anything back, until the server stops taking bytes (or
/// [`MOST_UNREAD`] went through: the server reads on and queues its echo without bound); then
/// reads the whole echo. So the server must stop reading while its output is full — and start
/// again once the client reads.
#[test]
fn a_client_that_does_not_read_makes_the_server_stop_reading() {
    let mut server = common::server();
    let baseline = server.open_fds();
    let mut stream = match TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())) {
        Ok(s) => s,
        Err(e) => server.fail(format!("cannot connect: {e}")),
    };
    if let Err(e) = stream.set_nonblocking(true) {
        server.fail(format!("cannot make the client non-blocking: {e}"));
    }
    // The client's own buffers small, so that what the server took is most of what went out.
    for option in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        let size: libc::c_int = 64 << 10;
        // SAFETY: the option value points at a live c_int of the given size.
        let set = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&stream),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set == -1 {
            let e = std::io::Error::last_os_error();
            server.fail(format!("setsockopt on the client: {e}"));
        }
    }
    let mut payload = Payload::new(99);
    let mut chunk = vec![0u8; 64 << 10];
    let mut filled = 0; // how much of `chunk` is the next, unsent part of the payload
    let mut offset = 0;
    let mut sent = 0;
    let mut stalled_since = None;
    let started = Instant::now();
    while sent < MOST_UNREAD {
        if offset == filled {
            payload.fill(&mut chunk);
            filled = chunk.len();
            offset = 0;
        }
        match stream.write(&chunk[offset..filled]) {
            Ok(n) => {
                sent += n;
                offset += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(1) {
                    break; // the server stopped reading
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => server.fail(format!("sending, after {sent} bytes: {e}")),
        }
        if started.elapsed() > Duration::from_secs(30) {
            server.fail(format!("sending took over 30 s ({sent} bytes sent)"));
        }
    }
    if sent >= MOST_UNREAD {
        server.fail(format!(
            "the client sent {} MiB without reading any of its echo, and the server took it all: \
             it reads on while its output grows without bound (it should stop reading at 1 MiB \
             queued)",
            sent >> 20
        ));
    }
    // Now read it all back; the server must resume reading what is still queued on its side.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(STALL));
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        server.fail(format!("shutdown(SHUT_WR): {e}"));
    }
    let mut expected = Payload::new(99);
    let mut buf = vec![0u8; 64 << 10];
    let mut want = vec![0u8; 64 << 10];
    let mut received = 0;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                expected.fill(&mut want[..n]);
                if buf[..n] != want[..n] {
                    server.fail(format!("the echo is wrong after {received} bytes"));
                }
                received += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_stall(&e) && received == sent => server.fail(format!(
                "all {sent} bytes came back, then nothing for {} s: the server did not close \
                 the connection once its output was empty (the client had half-closed)",
                STALL.as_secs()
            )),
            Err(e) if is_stall(&e) => server.fail(format!(
                "{received} of {sent} bytes came back, then nothing for {} s: did the server \
                 start reading again once its output went down?",
                STALL.as_secs()
            )),
            Err(e) => server.fail(format!(
                "reading the echo back, after {received} of {sent} bytes: {e}"
            )),
        }
    }
    if received != sent {
        server.fail(format!(
            "sent {sent} bytes, got {received} back before the server closed: the last {} were \
             still queued when it closed",
            sent - received
        ));
    }
    println!(
        "the server took {} KiB while the client read nothing",
        sent >> 10
    );
    server.assert_fds_back_to(baseline, "after the client that did not read");
}

/// `just stress` at a small size: 40 connections at once, payloads up to 2 MiB, slow, late and
/// aborting readers; every byte back, every fd closed, in bounded time.
#[test]
fn a_small_load_run_loses_nothing_and_closes_every_fd() {
    let mut server = common::server();
    let config = StressConfig {
        conns: 40,
        max_size: 2 << 20,
        slow_percent: 20,
        late_percent: 15,
        abort_percent: 5,
        seed: 55,
        deadline: Duration::from_secs(30),
        io_timeout: Duration::from_secs(10),
    };
    server.stress(&config);
}
