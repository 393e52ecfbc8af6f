//! The first measurement: minievent's echo servers against libevent's, in one run on loopback.
//!
//! For each echo server (`echo_event`, `echo_bufferevent`, `echo_listener`) and each side
//! (minievent's release build, the C reference at -O2 on real libevent), [`lockstep`] drives
//! `conns` connections from one thread with `poll`: each sends a `size`-byte message, waits for
//! all of it to come back, sends the next. Messages per second are measured over `duration`, in `rounds` rounds whose
//! order alternates (minievent first, then libevent first), so a drift of the shared machine hits
//! both sides alike; the report gives the ratio minievent / libevent of every round and its
//! spread. The server's CPU time per message (`/proc/PID/stat`) is reported too: it is less
//! sensitive to what else runs on the machine than the rate is.
//!
//! Syscalls per message: each server runs once more under `strace -f -c` for a fixed number of
//! messages, and once with the same connections but no message; the difference of the two
//! counts, divided by the messages, is the cost of a message alone (accept, close and start-up
//! cancel out).

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::scenario::{reference_program, target_dir};
use crate::server::{Server, Under, parse_counts};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Concurrent connections.
    pub conns: usize,
    /// Bytes per message.
    pub size: usize,
    /// How long each timed run lasts.
    pub duration: Duration,
    /// Timed runs per server and side.
    pub rounds: usize,
    /// Messages per connection in the run under `strace -c`.
    pub counted: usize,
    /// The echo servers, by program name.
    pub servers: Vec<String>,
}

impl Default for BenchConfig {
    /// 50 connections, 1 KiB messages, 5 s per run, 3 rounds, 100 counted messages per connection.
    fn default() -> BenchConfig {
        BenchConfig {
            conns: 50,
            size: 1024,
            duration: Duration::from_secs(5),
            rounds: 3,
            counted: 100,
            servers: vec![
                "echo_event".into(),
                "echo_bufferevent".into(),
                "echo_listener".into(),
            ],
        }
    }
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

/// The server's CPU time so far (user + system), from `/proc/PID/stat`.
fn cpu_time(pid: i32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    // After the command: state is field 3, utime 14, stime 15 (1-based) → indices 11 and 12.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a limit.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// The two builds of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// `target/release/NAME`.
    Minievent,
    /// `target/reference/NAME`.
    Libevent,
}

impl Side {
    /// The program of server `name` on this side.
    pub fn program(self, name: &str) -> PathBuf {
        match self {
            Side::Minievent => target_dir().join("release").join(name),
            Side::Libevent => reference_program(name),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Side::Minievent => "minievent",
            Side::Libevent => "libevent",
        }
    }
}

/// One timed run: messages per second and server CPU µs per message.
#[derive(Clone, Copy, Debug)]
struct Timed {
    rate: f64,
    cpu_us: f64,
}

fn timed(name: &str, side: Side, config: &BenchConfig) -> Result<Timed, String> {
    let program = side.program(name);
    let server = Server::start(&program, Under::Nothing).map_err(|e| e.to_string())?;
    let cpu_before = cpu_time(server.pid).unwrap_or_default();
    let (msgs, elapsed) = lockstep(
        server.port,
        config.conns,
        config.size,
        Stop::After(config.duration),
    )
    .map_err(|e| format!("{}: {e}", program.display()))?;
    let cpu = cpu_time(server.pid)
        .unwrap_or_default()
        .saturating_sub(cpu_before);
    server.stop().map_err(|e| e.to_string())?;
    let msgs = msgs.max(1) as f64;
    Ok(Timed {
        rate: msgs / elapsed.as_secs_f64(),
        cpu_us: cpu.as_secs_f64() * 1e6 / msgs,
    })
}

/// Syscall counts of a server under `strace -f -c`: `messages` per connection on `conns`
/// connections (closed again before the server stops).
fn counted(
    program: &Path,
    config: &BenchConfig,
    conns: usize,
    messages: usize,
) -> Result<BTreeMap<String, u64>, String> {
    let server = Server::start(program, Under::StraceCount).map_err(|e| e.to_string())?;
    let baseline = server.open_fds().map_err(|e| e.to_string())?;
    lockstep(server.port, conns, config.size, Stop::Messages(messages))
        .map_err(|e| format!("{} under strace: {e}", program.display()))?;
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
                "{} under strace did not close all {conns} connections within 10 s",
                program.display()
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
    Ok(parse_counts(&summary).into_iter().collect())
}

/// Syscalls per message on `conns` connections, by name: (counted run − run without messages)
/// / messages.
fn per_message(
    name: &str,
    side: Side,
    config: &BenchConfig,
    conns: usize,
) -> Result<BTreeMap<String, f64>, String> {
    let program = side.program(name);
    let with = counted(&program, config, conns, config.counted)?;
    let without = counted(&program, config, conns, 0)?;
    let messages = (conns * config.counted) as f64;
    Ok(with
        .iter()
        .map(|(call, &n)| {
            let base = without.get(call).copied().unwrap_or(0);
            (call.clone(), n.saturating_sub(base) as f64 / messages)
        })
        .filter(|(_, per)| *per >= 0.005)
        .collect())
}

/// Median, min and max.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

// ANCHOR: run
/// Runs the whole measurement and returns the report.
pub fn run(config: &BenchConfig) -> Result<String, String> {
    for name in &config.servers {
        for side in [Side::Minievent, Side::Libevent] {
            let program = side.program(name);
            if !program.is_file() {
                let build = match side {
                    Side::Minievent => "cargo build --release --bins",
                    Side::Libevent => "just reference",
                };
                return Err(format!(
                    "{} does not exist: run `{build}` (or `just bench`)",
                    program.display()
                ));
            }
        }
    }
    let mut out = format!(
        "bench: {} connections, {}-byte messages, lock-step, {} s per run, {} rounds, loopback, {} CPUs\n\n",
        config.conns,
        config.size,
        config.duration.as_secs_f64(),
        config.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let mut results: BTreeMap<(String, Side), Vec<Timed>> = BTreeMap::new();
    for round in 0..config.rounds {
        for name in &config.servers {
            let order = if round.is_multiple_of(2) {
                [Side::Minievent, Side::Libevent]
            } else {
                [Side::Libevent, Side::Minievent]
            };
            for side in order {
                let t = timed(name, side, config)?;
                results.entry((name.clone(), side)).or_default().push(t);
            }
        }
    }
    out.push_str("messages/s (server CPU µs per message)\n");
    for name in &config.servers {
        for side in [Side::Minievent, Side::Libevent] {
            let runs = &results[&(name.clone(), side)];
            let cells: Vec<String> = runs
                .iter()
                .map(|t| format!("{:>8.0} ({:>5.1})", t.rate, t.cpu_us))
                .collect();
            out.push_str(&format!(
                "  {name:<17} {:<10} {}\n",
                side.label(),
                cells.join("  ")
            ));
        }
        let mini = &results[&(name.clone(), Side::Minievent)];
        let lib = &results[&(name.clone(), Side::Libevent)];
        let rate: Vec<f64> = mini.iter().zip(lib).map(|(m, l)| m.rate / l.rate).collect();
        let cpu: Vec<f64> = mini
            .iter()
            .zip(lib)
            .map(|(m, l)| m.cpu_us / l.cpu_us)
            .collect();
        let (rm, rlo, rhi) = spread(&rate);
        let (cm, clo, chi) = spread(&cpu);
        out.push_str(&format!(
            "  {name:<17} minievent/libevent: rate ×{rm:.2} (rounds {rlo:.2}–{rhi:.2}), CPU per message ×{cm:.2} ({clo:.2}–{chi:.2})\n\n"
        ));
    }
    for conns in [1, config.conns] {
        out.push_str(&format!(
            "syscalls per message, {conns} connection(s) (strace -f -c: {} messages, minus the same \
             connections without messages)\n",
            conns * config.counted
        ));
        for name in &config.servers {
            for side in [Side::Minievent, Side::Libevent] {
                let per = per_message(name, side, config, conns)?;
                let total: f64 = per.values().sum();
                let calls: Vec<String> = per.iter().map(|(c, n)| format!("{c} {n:.2}")).collect();
                out.push_str(&format!(
                    "  {name:<17} {:<10} {total:>5.2}: {}\n",
                    side.label(),
                    calls.join(", ")
                ));
            }
        }
    }
    Ok(out)
}
// ANCHOR_END: run

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_min_max() {
        assert_eq!(spread(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(spread(&[4.0, 1.0]), (2.5, 1.0, 4.0));
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_time(std::process::id() as i32).is_some());
    }
}
