//! The echo servers (`echo_event`, `echo_bufferevent`, `echo_listener`), minievent's release
//! build against the C references on libevent, on loopback.
//!
//! [`lockstep`] drives `conns` connections from one thread with `poll`: each sends a 1 KiB
//! message, waits for all of it to come back, sends the next. [`timed`] gives messages per
//! second and the server's CPU time per message (`/proc/PID/stat`); [`syscalls_per_message`]
//! runs the server under `strace -f -c` once with messages and once with the same connections
//! and none, so that accept, close and start-up cancel out; [`rss_per_connection`] opens idle
//! connections and reads the server's resident memory (`VmRSS`) before and after.
//!
//! A variant `echo_bufferevent --beyond` runs the server with that flag (minievent's opt-in mode
//! with fewer syscalls per message); libevent has no such mode, so it runs on minievent's side
//! only.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{Point, Side};
use crate::server::{Server, Under, parse_counts};

/// Bytes per message.
pub const MESSAGE_BYTES: usize = 1024;

/// The server and its flags in a variant: `echo_bufferevent --beyond` → (`echo_bufferevent`,
/// [`--beyond`]).
pub fn server_and_flags(variant: &'static str) -> (&'static str, Vec<&'static str>) {
    let mut words = variant.split(' ');
    let server = words.next().unwrap_or(variant);
    (server, words.collect())
}

/// `true` if `program --help` mentions `flag`.
pub fn accepts_flag(program: &Path, flag: &str) -> bool {
    std::process::Command::new(program)
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(flag))
}

/// Starts the server of `point` on `side`, with the variant's flags.
fn start(point: &Point, side: Side, under: Under) -> Result<Server, String> {
    let (server, flags) = server_and_flags(point.variant);
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    Server::start_with_args(&side.program(server), under, &flags).map_err(|e| e.to_string())
}

/// When a lock-step run stops.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// After this long (messages in flight are not counted).
    After(Duration),
    /// After this many messages on every connection.
    Messages(usize),
}

/// One connection of a lock-step run.
struct LockstepConn {
    stream: TcpStream,
    message: Vec<u8>,
    reply: Vec<u8>,
    sent: usize,
    got: usize,
    done: usize,
}

// ANCHOR: lockstep
/// Lock-step echo on `conns` connections from one thread: send a message, wait for it back,
/// compare, send the next. Returns the messages completed and the time taken.
pub fn lockstep(port: u16, conns: usize, size: usize, stop: Stop) -> io::Result<(u64, Duration)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut all = Vec::with_capacity(conns);
    for id in 0..conns {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let message = (0..size).map(|i| (i as u8) ^ (id as u8)).collect();
        all.push(LockstepConn {
            stream,
            message,
            reply: vec![0; size],
            sent: 0,
            got: 0,
            done: 0,
        });
    }
    let per_conn = match stop {
        Stop::Messages(n) => n,
        Stop::After(_) => usize::MAX,
    };
    let started = Instant::now();
    let until = match stop {
        Stop::After(d) => started + d,
        Stop::Messages(_) => started + Duration::from_secs(120),
    };
    let mut total = 0u64;
    let mut fds: Vec<libc::pollfd> = all
        .iter()
        .map(|c| libc::pollfd {
            fd: c.stream.as_raw_fd(),
            events: 0,
            revents: 0,
        })
        .collect();
    while Instant::now() < until && all.iter().any(|c| c.done < per_conn) {
        for (pfd, c) in fds.iter_mut().zip(&all) {
            pfd.events = match (c.done < per_conn, c.sent < size) {
                (false, _) => 0,
                (true, true) => libc::POLLOUT,
                (true, false) => libc::POLLIN,
            };
            pfd.revents = 0;
        }
        // SAFETY: fds is a valid array of pollfd of the given length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if ready == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for (pfd, c) in fds.iter().zip(all.iter_mut()) {
            if pfd.revents == 0 {
                continue;
            }
            if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                return Err(io::Error::other("poll reported an error on a connection"));
            }
            if c.sent < size {
                match c.stream.write(&c.message[c.sent..]) {
                    Ok(n) => c.sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            } else {
                match c.stream.read(&mut c.reply[c.got..]) {
                    Ok(0) => return Err(io::Error::other("the server closed a connection")),
                    Ok(n) => c.got += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if c.got == size {
                    if c.reply != c.message {
                        return Err(io::Error::other("a message came back wrong"));
                    }
                    c.sent = 0;
                    c.got = 0;
                    c.done += 1;
                    total += 1;
                }
            }
        }
    }
    let elapsed = started.elapsed();
    if let Stop::Messages(n) = stop
        && all.iter().any(|c| c.done < n)
    {
        return Err(io::Error::new(
            ErrorKind::TimedOut,
            "the counted run did not finish",
        ));
    }
    Ok((total, elapsed))
}
// ANCHOR_END: lockstep

/// One timed run: messages per second and server CPU ns per message.
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    /// Messages per second, all connections together.
    pub rate: f64,
    /// The server's CPU time per message, in ns.
    pub cpu_ns: f64,
}

/// `point.size` connections in lock-step for `duration`, against the server on `side`.
pub fn timed(point: &Point, side: Side, duration: Duration) -> Result<Timed, String> {
    let server = start(point, side, Under::Nothing)?;
    let cpu_before = server.cpu_time().map_err(|e| e.to_string())?;
    let (msgs, elapsed) = lockstep(
        server.port,
        point.size as usize,
        MESSAGE_BYTES,
        Stop::After(duration),
    )
    .map_err(|e| format!("{} {}: {e}", side.label(), point.describe()))?;
    let cpu = server
        .cpu_time()
        .map_err(|e| e.to_string())?
        .saturating_sub(cpu_before);
    server.stop().map_err(|e| e.to_string())?;
    let msgs = msgs.max(1) as f64;
    Ok(Timed {
        rate: msgs / elapsed.as_secs_f64(),
        cpu_ns: cpu.as_secs_f64() * 1e9 / msgs,
    })
}

/// The syscalls of the server under `strace -f -c`, all calls together: `messages` per
/// connection on `point.size` connections, each closed (on both ends) before the server stops.
fn counted(point: &Point, side: Side, messages: usize) -> Result<u64, String> {
    let conns = point.size as usize;
    let server = start(point, side, Under::StraceCount)?;
    let what = format!("{} {} under strace", side.label(), point.describe());
    let baseline = server.open_fds().map_err(|e| e.to_string())?;
    lockstep(server.port, conns, MESSAGE_BYTES, Stop::Messages(messages))
        .map_err(|e| format!("{what}: {e}"))?;
    // Every connection accepted and closed on the server's side too, before the count ends
    // (with no message, the client may be gone before the server even accepted).
    let until = Instant::now() + Duration::from_secs(10);
    while server
        .lines()
        .iter()
        .filter(|l| l.starts_with("closed fd"))
        .count()
        < conns
    {
        if Instant::now() >= until {
            return Err(format!(
                "{what}: did not close all {conns} connections within 10 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    server
        .wait_for_fds(baseline, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let summary = server
        .stop()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    Ok(parse_counts(&summary).iter().map(|(_, n)| n).sum())
}

// ANCHOR: syscalls_per_message
/// Syscalls per message on `point.size` connections: (the run with `messages` per connection −
/// the run without) / messages.
pub fn syscalls_per_message(point: &Point, side: Side, messages: usize) -> Result<f64, String> {
    let with = counted(point, side, messages)?;
    let without = counted(point, side, 0)?;
    Ok(with.saturating_sub(without) as f64 / (point.size as usize * messages) as f64)
}
// ANCHOR_END: syscalls_per_message

/// The server's resident memory (`VmRSS` of `/proc/PID/status`), in bytes.
fn rss(pid: i32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("{path} has no VmRSS line"))
}

/// The server's resident memory per idle connection: (RSS with `point.size` connections
/// accepted − RSS with none) / connections.
pub fn rss_per_connection(point: &Point, side: Side) -> Result<f64, String> {
    let conns = point.size as usize;
    let server = start(point, side, Under::Nothing)?;
    let what = format!("{} {}", side.label(), point.describe());
    let fds = server.open_fds().map_err(|e| e.to_string())?;
    // One message first, so that buffers the first message allocates are in the baseline.
    lockstep(server.port, 1, MESSAGE_BYTES, Stop::Messages(1))
        .map_err(|e| format!("{what}: {e}"))?;
    let before = rss(server.pid)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port));
    // Connections the server holds: its fds beyond those it had at the start (its output
    // lines could be dropped when a pipe is full; its fds cannot).
    let accepted = || -> Result<usize, String> {
        let now = server.open_fds().map_err(|e| e.to_string())?;
        Ok(now.saturating_sub(fds))
    };
    // The servers listen with a backlog of 16: more connections waiting than that and the
    // kernel drops SYNs, which come back only after a second or more. So at most 8 wait.
    let until = Instant::now() + Duration::from_secs(60);
    let mut open = Vec::with_capacity(conns);
    let mut done = 0;
    while done < conns {
        if open.len() < conns && open.len() < done + 8 {
            open.push(
                TcpStream::connect_timeout(&addr, Duration::from_secs(10))
                    .map_err(|e| format!("{what}: connection {}: {e}", open.len() + 1))?,
            );
            continue;
        }
        done = accepted()?;
        if Instant::now() >= until {
            return Err(format!(
                "{what}: the server accepted {done} of {conns} connections within 60 s"
            ));
        }
        if open.len() >= done + 8 || open.len() == conns {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let after = rss(server.pid)?;
    drop(open);
    server.stop().map_err(|e| e.to_string())?;
    Ok(after.saturating_sub(before) as f64 / conns as f64)
}
