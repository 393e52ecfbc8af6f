//! An echo server as a plain child process, for the load test, the benchmark and the walk-through-bug
//! tests (the trace scenarios run theirs under strace through [`crate::record`] instead).
//!
//! [`Server::start`] runs `PROGRAM --port P` on a free port (see [`crate::client::free_port`]),
//! hermetically like a recording (only fds 0-2 open, no `EVENT_*` variables), and waits for its
//! banner `NAME: listening on 127.0.0.1:P`; [`Server::open_fds`] counts its open fds in
//! `/proc/PID/fd`, [`Server::cpu_time`] reads its CPU time from `/proc/PID/stat` and
//! [`Server::rss`] its resident memory from `/proc/PID/status`;
//! [`Server::stop`] ends it with SIGTERM. [`Server::start_with_fd_limit`] starts it with a low
//! `RLIMIT_NOFILE`, to run it out of fds. Optionally the server runs under
//! `strace -f -c`, which counts its syscalls ([`Server::stop`] then returns the summary). A
//! `Server` that is dropped is killed and reaped: nothing outlives a failed test.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::free_port;
use crate::error::TraceError;
use crate::record::{first_child, hermetic_fds, signal_name};
use crate::scenario::build_command;

/// How long a server may take to print its banner.
pub const START: Duration = Duration::from_secs(10);

/// The most of a server's stderr that is kept (its lines are all counted): a server that logs
/// in a loop must not fill the test's memory.
const KEEP_STDERR: usize = 64 << 10;

/// How a server is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Under {
    /// Directly.
    Nothing,
    /// Under `strace -f -c` (syscall counts, printed when it exits).
    StraceCount,
}

/// A running echo server.
pub struct Server {
    child: Child,
    /// The program's path.
    pub program: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The server's own pid (strace's child when it runs under strace).
    pub pid: i32,
    /// Every line the server printed to stdout after its banner (`accepted fd N`, `closed fd N`).
    lines: Arc<Mutex<Vec<String>>>,
    /// What the server printed to stderr (the first [`KEEP_STDERR`] bytes), and how many lines.
    errors: Arc<Mutex<Stderr>>,
    /// Where `strace -c` writes its summary, when it runs under it.
    summary: Option<PathBuf>,
    stopped: bool,
}

/// The name a program prints in its banner: its file name (`echo_event`).
fn program_name(program: &Path) -> String {
    program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A new path in the temp dir for a strace summary.
fn temp_summary() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("minievent-count-{}-{n}.txt", std::process::id()))
}

/// A server's stderr: the start of it, and its line count.
#[derive(Default)]
struct Stderr {
    text: String,
    lines: usize,
}

impl Server {
    /// Starts `program --port P` on a free port and waits for its banner. A port taken in the
    /// meantime (the banner never comes, the program exits) is retried with another, five times.
    pub fn start(program: &Path, under: Under) -> Result<Server, TraceError> {
        Server::start_limited(program, under, None, &[])
    }

    /// [`Server::start`] with more arguments after `--port P` (`--beyond`).
    pub fn start_with_args(
        program: &Path,
        under: Under,
        args: &[String],
    ) -> Result<Server, TraceError> {
        Server::start_limited(program, under, None, args)
    }

    /// [`Server::start`], with `RLIMIT_NOFILE` set to `nofile` (soft and hard) in the child
    /// before it runs: the server can have at most `nofile` fds open.
    /// `args` go after `--port P`.
    pub fn start_with_fd_limit(
        program: &Path,
        nofile: u64,
        args: &[String],
    ) -> Result<Server, TraceError> {
        Server::start_limited(program, Under::Nothing, Some(nofile), args)
    }

    fn start_limited(
        program: &Path,
        under: Under,
        nofile: Option<u64>,
        args: &[String],
    ) -> Result<Server, TraceError> {
        if !program.is_file() {
            return Err(TraceError::ProgramMissing {
                path: program.to_path_buf(),
                build_with: build_command(program),
            });
        }
        let mut last = None;
        for _ in 0..5 {
            match Server::try_start(program, under, nofile, args, free_port()?) {
                Ok(server) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("five attempts were made"))
    }

    fn try_start(
        program: &Path,
        under: Under,
        nofile: Option<u64>,
        args: &[String],
        port: u16,
    ) -> Result<Server, TraceError> {
        let summary = (under == Under::StraceCount).then(temp_summary);
        let mut command = match &summary {
            None => Command::new(program),
            Some(path) => {
                let mut c = Command::new("strace");
                c.args(["-f", "-c", "-o"]).arg(path).arg("--").arg(program);
                c
            }
        };
        command
            .args(["--port", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let event_vars: Vec<OsString> = std::env::vars_os()
            .map(|(k, _)| k)
            .filter(|k| k.to_string_lossy().starts_with("EVENT_"))
            .collect();
        for key in event_vars {
            command.env_remove(key);
        }
        // SAFETY: the hook runs in the forked child before exec and only makes syscalls
        // (close_range, or sysconf + fcntl; setrlimit), which are async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                hermetic_fds()?;
                match nofile {
                    Some(limit) => limit_fds(limit),
                    None => Ok(()),
                }
            });
        }
        let mut child = command.spawn().map_err(|e| {
            if summary.is_some() && e.kind() == std::io::ErrorKind::NotFound {
                TraceError::StraceMissing
            } else {
                TraceError::io(format!("starting {}", program.display()), e)
            }
        })?;
        let stdout = child.stdout.take().expect("stdout was piped");
        let stderr = child.stderr.take().expect("stderr was piped");
        let (banner_tx, banner_rx) = mpsc::channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            let mut first = true;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if first {
                    let _ = banner_tx.send(line);
                    first = false;
                } else if let Ok(mut lines) = sink.lock() {
                    lines.push(line);
                }
            }
        });
        // stderr is drained too (a full pipe would block the server) and kept for errors, up
        // to KEEP_STDERR bytes; past that its lines are only counted.
        let errors = Arc::new(Mutex::new(Stderr::default()));
        let err_sink = Arc::clone(&errors);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut e) = err_sink.lock() {
                    e.lines += 1;
                    if e.text.len() + line.len() < KEEP_STDERR {
                        e.text.push_str(&line);
                        e.text.push('\n');
                    }
                }
            }
        });
        let mut server = Server {
            child,
            program: program.to_path_buf(),
            port,
            pid: 0,
            lines,
            errors: Arc::clone(&errors),
            summary,
            stopped: false,
        };
        let want = format!("{}: listening on 127.0.0.1:{port}", program_name(program));
        let banner = wait_banner(&banner_rx, &mut server.child);
        if banner.as_deref() != Some(want.as_str()) {
            let stderr = errors.lock().map(|e| e.text.clone()).unwrap_or_default();
            return Err(TraceError::ProgramFailed {
                program: program.to_path_buf(),
                status: format!(
                    "its first line was {banner:?}, not {want:?} within {} s",
                    START.as_secs()
                ),
                stderr,
            });
        }
        server.pid = match under {
            Under::Nothing => server.child.id() as i32,
            Under::StraceCount => first_child(server.child.id()).ok_or_else(|| {
                TraceError::Client("strace printed the banner but has no child".into())
            })?,
        };
        Ok(server)
    }

    /// How many fds the server has open now (`/proc/PID/fd`).
    pub fn open_fds(&self) -> Result<usize, TraceError> {
        fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|dir| dir.count())
            .map_err(|e| TraceError::io(format!("listing /proc/{}/fd", self.pid), e))
    }

    /// Waits until the server has `want` fds open, for at most `within`; returns the last count.
    pub fn wait_for_fds(&self, want: usize, within: Duration) -> Result<usize, TraceError> {
        let until = Instant::now() + within;
        loop {
            let now = self.open_fds()?;
            if now == want || Instant::now() >= until {
                return Ok(now);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// `Some(how it ended)` if the server is no longer running.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe(status)),
            Ok(None) => None,
            Err(e) => Some(format!("cannot be waited for: {e}")),
        }
    }

    /// The lines the server printed after its banner, so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// What the server printed to stderr, so far (its first 64 KiB).
    pub fn stderr(&self) -> String {
        self.errors
            .lock()
            .map(|e| e.text.clone())
            .unwrap_or_default()
    }

    /// How many lines the server printed to stderr, so far.
    pub fn stderr_lines(&self) -> usize {
        self.errors.lock().map(|e| e.lines).unwrap_or_default()
    }

    /// The CPU time the server has used so far, user and system (`utime` + `stime` of
    /// `/proc/PID/stat`, in clock ticks of `sysconf(_SC_CLK_TCK)`, usually 10 ms).
    pub fn cpu_time(&self) -> Result<Duration, TraceError> {
        let path = format!("/proc/{}/stat", self.pid);
        let stat =
            fs::read_to_string(&path).map_err(|e| TraceError::io(format!("reading {path}"), e))?;
        // The command name (field 2) is in parentheses and may hold spaces: count from the
        // last `)`. After it come field 3 (state) ... field 14 (utime), field 15 (stime).
        let fields: Vec<&str> = stat
            .rfind(')')
            .map(|at| stat[at + 1..].split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        let (Some(utime), Some(stime)) = (ticks(14 - 3), ticks(15 - 3)) else {
            let why = format!("no utime and stime in {stat:?}");
            return Err(TraceError::io(
                format!("reading {path}"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, why),
            ));
        };
        // SAFETY: sysconf(3) only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let hz = if hz > 0 { hz as u64 } else { 100 };
        Ok(Duration::from_nanos((utime + stime) * 1_000_000_000 / hz))
    }

    /// The server's resident memory now, in bytes: `VmRSS` of `/proc/PID/status` (which the
    /// kernel gives in kB, i.e. KiB).
    pub fn rss(&self) -> Result<u64, TraceError> {
        let path = format!("/proc/{}/status", self.pid);
        let status =
            fs::read_to_string(&path).map_err(|e| TraceError::io(format!("reading {path}"), e))?;
        vm_rss(&status).ok_or_else(|| {
            TraceError::io(
                format!("reading {path}"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, "no `VmRSS: N kB` line"),
            )
        })
    }

    /// Ends the server with SIGTERM and reaps it; under strace, returns strace's summary.
    pub fn stop(mut self) -> Result<Option<String>, TraceError> {
        self.stopped = true;
        if self.pid > 0 {
            // SAFETY: kill(2) only sends a signal, to our child (or strace's child).
            unsafe { libc::kill(self.pid, libc::SIGTERM) };
        }
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        match self.summary.take() {
            None => Ok(None),
            Some(path) => {
                let text = fs::read_to_string(&path)
                    .map_err(|e| TraceError::io(format!("reading {}", path.display()), e));
                let _ = fs::remove_file(&path);
                text.map(Some)
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            if self.summary.is_some() && self.pid > 0 {
                // SAFETY: kill(2) only sends a signal, to strace's child (a real pid: never 0,
                // which would be our whole process group).
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
            let _ = self.child.wait();
        }
        if let Some(path) = &self.summary {
            let _ = fs::remove_file(path);
        }
    }
}

/// `setrlimit(RLIMIT_NOFILE, {limit, limit})`, in the forked child before exec.
fn limit_fds(limit: u64) -> std::io::Result<()> {
    let rlim = libc::rlimit {
        rlim_cur: limit as libc::rlim_t,
        rlim_max: limit as libc::rlim_t,
    };
    // SAFETY: setrlimit(2) only reads the rlimit it is given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rlim) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The banner line, or `None` if the program ended or stayed silent for [`START`].
fn wait_banner(rx: &Receiver<String>, child: &mut Child) -> Option<String> {
    let until = Instant::now() + START;
    while Instant::now() < until {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(20)) {
            return Some(line);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return rx.try_recv().ok();
        }
    }
    None
}

/// An exit status in words.
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by {}", signal_name(signal)),
        _ => "ended".to_string(),
    }
}

/// The `VmRSS:   1234 kB` line of a `/proc/PID/status` text, in bytes.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kib = words.next()?.parse::<u64>().ok()?;
    (words.next() == Some("kB")).then_some(kib * 1024)
}

/// One row of `strace -c`'s summary: the syscall and how many times it was called.
pub fn parse_counts(summary: &str) -> Vec<(String, u64)> {
    summary
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // `% time seconds usecs/call calls [errors] syscall`
            if !(5..=6).contains(&cols.len()) || cols[0].parse::<f64>().is_err() {
                return None;
            }
            let name = cols[cols.len() - 1];
            let calls = cols[3].parse::<u64>().ok()?;
            (name != "total").then(|| (name.to_string(), calls))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_summaries_are_parsed() {
        let text = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 50.00    0.000100           2        50           epoll_wait
 30.00    0.000060           1        40         2 read
 20.00    0.000040           1        40           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.000200           1       130         2 total
";
        assert_eq!(
            parse_counts(text),
            [
                ("epoll_wait".to_string(), 50),
                ("read".to_string(), 40),
                ("write".to_string(), 40)
            ]
        );
    }

    #[test]
    fn resident_memory_is_read_from_the_vmrss_line() {
        let status =
            "Name:\techo_listener\nVmHWM:\t    4000 kB\nVmRSS:\t    3012 kB\nRssAnon:\t 900 kB\n";
        assert_eq!(vm_rss(status), Some(3012 * 1024));
        assert_eq!(vm_rss("Name:\tx\n"), None);
        assert_eq!(vm_rss("VmRSS:\t  12 MB\n"), None);
    }

    #[test]
    fn a_missing_program_says_how_to_build_it() {
        let err = match Server::start(
            Path::new("/nonexistent/reference/echo_event"),
            Under::Nothing,
        ) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("started a missing program"),
        };
        assert!(err.contains("just reference"), "{err}");
    }
}
