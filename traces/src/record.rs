//! Record: run a program under strace, hermetically and with a deadline.
//!
//! The command is `strace -f -qq -e signal=none -e trace=SET -o FILE -- PROGRAM ARGS...`:
//!
//! - `-f` follows forks, so each line starts with a pid; `-qq` keeps attach/detach and
//!   `+++ exited +++` messages out; `-e signal=none` keeps out `--- SIGNAL {si_pid=...} ---`
//!   lines, whose pids and uids change between runs and machines.
//! - strace 6.1 writes `+++ killed by SIGNAL +++` only for a signal in the `-e signal=` set, so
//!   with `signal=none` it never does. When the program dies of a signal, strace kills itself
//!   with the same signal ("so that strace can be used as a wrapper process transparent to the
//!   invoking parent process", strace(1)); [`Recording::killed_by`] is read from strace's own
//!   exit status, and [`crate::trace`] ends the trace with the line strace would have printed.
//! - Hermetic fds: fd numbers are part of the trace, and a parent (a shell, a terminal, a test
//!   runner) can leak open fds into its children: a shell here hands every child fds 10 and
//!   251. A `pre_exec` hook marks every fd from 3 up close-on-exec (`close_range(3, ~0,
//!   CLOSE_RANGE_CLOEXEC)`), so strace, and the program after it, start with only 0, 1 and 2
//!   (stdin is `/dev/null`, stdout and stderr are captured). Marking rather than closing keeps
//!   open the pipe through which std reports a failed `exec` (so a missing strace is still
//!   `NotFound`); strace opens its own files close-on-exec.
//! - Every `EVENT_*` variable of the caller's environment is removed (libevent reads
//!   `EVENT_NOEPOLL`, `EVENT_SHOW_METHOD`, ...) and the scenario's are set.
//! - Everything has a deadline ([`DEADLINE`]); then the program and strace are killed and the
//!   recording is an error. Nothing here can hang.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::TraceError;
use crate::scenario::build_command;

/// How long a whole recording (start, client session, exit) may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How often a waiting loop looks again.
const TICK: Duration = Duration::from_millis(5);

/// What to run under strace.
#[derive(Clone, Debug)]
pub struct RecordSpec {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables to set (after removing every inherited `EVENT_*`).
    pub env: Vec<(String, String)>,
    /// The `-e trace=` list.
    pub trace_set: String,
    /// How long the whole recording may take ([`DEADLINE`] for the scenarios).
    pub deadline: Duration,
    /// Print each syscall's stack too (`strace -k`), for [`crate::annotate`].
    pub stacks: bool,
}

/// The result of one successful recording.
#[derive(Clone, Debug)]
pub struct Recording {
    /// strace's output file, as written.
    pub raw: String,
    /// Where that file is (in the temp dir; the caller removes it).
    pub raw_path: PathBuf,
    /// What the program printed to stdout.
    pub stdout: String,
    /// What the program (and strace) printed to stderr.
    pub stderr: String,
    /// The signal that killed the program, if it was killed (read from strace's exit status).
    pub killed_by: Option<i32>,
}

/// A pipe being read to its end by a thread.
struct Collector {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: Receiver<()>,
}

impl Collector {
    fn start(mut pipe: impl Read + Send + 'static) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let sink = Arc::clone(&buffer);
        thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => match sink.lock() {
                        Ok(mut b) => b.extend_from_slice(&chunk[..n]),
                        Err(_) => break,
                    },
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
        Collector { buffer, done }
    }

    /// What was read so far.
    fn text(&self) -> String {
        match self.buffer.lock() {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => String::new(),
        }
    }

    /// Waits (bounded) for the end of the pipe, then returns everything read.
    fn finish(self, within: Duration) -> String {
        let _ = self.done.recv_timeout(within);
        self.text()
    }
}

/// A program running under strace; what a client session (see [`crate::client`]) drives.
pub struct Running {
    child: Child,
    program: PathBuf,
    deadline: Instant,
    allowed: Duration,
    stdout: Collector,
    stderr: Collector,
    /// strace's exit status, once seen.
    status: Option<ExitStatus>,
}

/// The wait syscalls of the three backends, as `/proc/PID/syscall` numbers them.
fn wait_syscalls() -> Vec<libc::c_long> {
    #[allow(unused_mut)]
    let mut calls = vec![libc::SYS_epoll_pwait, libc::SYS_ppoll, libc::SYS_pselect6];
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    calls.extend([libc::SYS_epoll_wait, libc::SYS_poll, libc::SYS_select]);
    calls
}

impl Running {
    /// The pid of strace itself.
    pub fn strace_pid(&self) -> u32 {
        self.child.id()
    }

    /// How long is left before the deadline of the whole recording.
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// What the program wrote to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.text()
    }

    /// Fails if strace has already ended: with the diagnosis of how it ended (ptrace refused,
    /// program failed), or, if it ended well, with "the program exited while ..." `doing`.
    pub fn check_alive(&mut self, doing: &str) -> Result<(), TraceError> {
        if self.poll_exit()?.is_none() {
            return Ok(());
        }
        self.failure()?;
        Err(TraceError::ProgramFailed {
            program: self.program.clone(),
            status: format!("it exited while {doing}"),
            stderr: self.stderr.text(),
        })
    }

    /// The traced program's pid: the (first) child of the strace process, once it exists.
    pub fn tracee_pid(&self) -> Option<i32> {
        first_child(self.child.id())
    }

    /// Waits until the traced program is blocked in a backend's wait call (`epoll_wait`,
    /// `epoll_pwait`, `poll`, `ppoll`, `select`, `pselect6`), for at most `within`.
    ///
    /// "Blocked" means `/proc/PID/syscall` names one of those calls *and* `/proc/PID/stat` says
    /// the process sleeps (`S`), three times in a row 5 ms apart: a process stopped by strace on
    /// its way into the call is in state `t`, and a wait with a zero timeout never sleeps.
    pub fn wait_until_waiting(&mut self, within: Duration) -> Result<(), TraceError> {
        let waits = wait_syscalls();
        let until = Instant::now() + within.min(self.time_left());
        let mut in_a_row = 0;
        let mut last_seen = String::from("(not started)");
        while Instant::now() < until {
            self.check_alive("the client waited for it to wait again")?;
            if let Some(pid) = self.tracee_pid() {
                let syscall =
                    fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let number = syscall
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<libc::c_long>().ok());
                let state = stat
                    .rfind(')')
                    .and_then(|at| stat[at + 1..].trim_start().chars().next());
                last_seen = format!(
                    "syscall {}, state {}",
                    syscall.split_whitespace().next().unwrap_or("?"),
                    state.unwrap_or('?')
                );
                if number.is_some_and(|n| waits.contains(&n)) && state == Some('S') {
                    in_a_row += 1;
                    if in_a_row == 3 {
                        return Ok(());
                    }
                } else {
                    in_a_row = 0;
                }
            }
            thread::sleep(TICK);
        }
        Err(TraceError::Timeout {
            what: format!(
                "waiting for {} to block in its wait call again (last seen: {last_seen})",
                self.program.display()
            ),
            after: within,
            stderr: self.stderr.text(),
        })
    }

    /// Sends SIGTERM to the traced program.
    pub fn terminate(&self) -> Result<(), TraceError> {
        let pid = self.tracee_pid().ok_or_else(|| {
            TraceError::io(
                "sending SIGTERM to the traced program",
                io::Error::new(io::ErrorKind::NotFound, "strace has no child process"),
            )
        })?;
        // SAFETY: kill(2) only sends a signal; `pid` is a child of our strace child.
        if unsafe { libc::kill(pid, libc::SIGTERM) } == -1 {
            return Err(TraceError::io(
                format!("sending SIGTERM to pid {pid}"),
                io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// strace's exit status, if it has exited (without waiting).
    fn poll_exit(&mut self) -> Result<Option<ExitStatus>, TraceError> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .map_err(|e| TraceError::io("waiting for strace", e))?;
        }
        Ok(self.status)
    }

    /// Kills the traced program (SIGKILL), gives strace a moment to see it die and reap it,
    /// then kills strace too if it is still there, and reaps strace.
    fn kill_all(&mut self) {
        if self.status.is_some() {
            return;
        }
        if let Some(pid) = self.tracee_pid() {
            // SAFETY: kill(2) only sends a signal; `pid` is a child of our strace child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                if let Ok(Some(status)) = self.child.try_wait() {
                    self.status = Some(status);
                    return;
                }
                thread::sleep(TICK);
            }
        }
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
    }

    /// Waits for strace to exit, until the deadline.
    fn wait_for_exit(&mut self) -> Result<ExitStatus, TraceError> {
        loop {
            if let Some(status) = self.poll_exit()? {
                return Ok(status);
            }
            if Instant::now() >= self.deadline {
                self.kill_all();
                return Err(TraceError::Timeout {
                    what: format!("running {} under strace", self.program.display()),
                    after: self.allowed,
                    stderr: self.stderr.text(),
                });
            }
            thread::sleep(TICK);
        }
    }

    /// If strace has exited, the error its exit status means (`Ok` for success or a signal).
    fn failure(&self) -> Result<(), TraceError> {
        match self.status {
            Some(status) => classify_exit(status, &self.program, &self.stderr.text()),
            None => Ok(()),
        }
    }
}

/// Turns strace's exit status into an error, if it is one.
///
/// strace exits with its program's exit code, or dies of its program's fatal signal (which is
/// not an error here: the caller decides whether that signal was expected). Its own failures
/// print lines starting with `strace: ` on stderr: a refused ptrace says `PTRACE_TRACEME`,
/// `PTRACE_SEIZE` or `Operation not permitted`.
pub fn classify_exit(status: ExitStatus, program: &Path, stderr: &str) -> Result<(), TraceError> {
    let Some(code) = status.code() else {
        return Ok(()); // killed by a signal: see Recording::killed_by
    };
    if code == 0 {
        return Ok(());
    }
    let strace_says: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("strace: "))
        .collect();
    if strace_says.is_empty() {
        return Err(TraceError::ProgramFailed {
            program: program.to_path_buf(),
            status: format!("exit status {code}"),
            stderr: stderr.to_string(),
        });
    }
    let message = strace_says.join("\n");
    let ptrace = [
        "PTRACE_TRACEME",
        "PTRACE_SEIZE",
        "ptrace",
        "Operation not permitted",
    ];
    if ptrace.iter().any(|p| message.contains(p)) {
        Err(TraceError::PtraceBlocked { message })
    } else {
        Err(TraceError::StraceFailed { message })
    }
}

/// The lowest pid among the children of process `pid` (strace's traced program), if any.
pub(crate) fn first_child(pid: u32) -> Option<i32> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .collect::<Vec<_>>()
        })
        .min()
}

/// Makes fds 3 and up close-on-exec in the forked child (see the module docs).
pub(crate) fn hermetic_fds() -> io::Result<()> {
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only sets the close-on-exec flag of this
    // (freshly forked) process's descriptors; no memory is touched.
    let marked = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if marked == 0 {
        return Ok(());
    }
    // Kernels before 5.11: mark each descriptor that is open.
    // SAFETY: sysconf(3) only reads a limit.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(3, 1 << 16) as libc::c_int;
    for fd in 3..max {
        // SAFETY: fcntl(2) F_GETFD/F_SETFD only reads and sets a descriptor flag.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
    Ok(())
}

/// The names of libevent's `EVENT_*` variables among `vars`, to remove from the child's env.
fn event_variables(vars: impl Iterator<Item = (OsString, OsString)>) -> Vec<OsString> {
    vars.map(|(key, _)| key)
        .filter(|key| key.to_string_lossy().starts_with("EVENT_"))
        .collect()
}

/// A new, unused path in the temp dir for strace's output.
fn temp_output() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("minievent-trace-{}-{n}.strace", std::process::id()))
}

/// Starts `strace` (the binary `strace`, looked up in `PATH`) on the spec.
fn spawn(strace: &str, spec: &RecordSpec, output: &Path) -> Result<Child, TraceError> {
    let mut args: Vec<OsString> = ["-f", "-qq", "-e", "signal=none", "-e"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(format!("trace={}", spec.trace_set).into());
    if spec.stacks {
        args.push("-k".into());
    }
    args.push("-o".into());
    args.push(output.into());
    args.push("--".into());
    args.push(spec.program.clone().into());
    args.extend(spec.args.iter().map(OsString::from));

    let mut command = Command::new(strace);
    command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in event_variables(std::env::vars_os()) {
        command.env_remove(key);
    }
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    // SAFETY: the hook runs in the forked child before exec and only makes syscalls
    // (close_range, or sysconf + fcntl), which are async-signal-safe.
    unsafe {
        command.pre_exec(hermetic_fds);
    }
    command.spawn().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            TraceError::StraceMissing
        } else {
            TraceError::io(format!("starting {strace}"), e)
        }
    })
}

/// Runs `spec` under strace; `drive` is called once the process is started (a client session
/// or nothing) and must leave the program exiting or killed. Returns the recording of a
/// program that exited with status 0 or died of a signal.
pub fn record<F>(spec: &RecordSpec, drive: F) -> Result<Recording, TraceError>
where
    F: FnOnce(&mut Running) -> Result<(), TraceError>,
{
    record_with("strace", spec, drive)
}

/// [`record`] with the strace binary given (tests use a missing one).
fn record_with<F>(strace: &str, spec: &RecordSpec, drive: F) -> Result<Recording, TraceError>
where
    F: FnOnce(&mut Running) -> Result<(), TraceError>,
{
    if !spec.program.is_file() {
        return Err(TraceError::ProgramMissing {
            path: spec.program.clone(),
            build_with: build_command(&spec.program),
        });
    }
    let output = temp_output();
    let mut child = spawn(strace, spec, &output)?;
    let stdout: ChildStdout = child.stdout.take().expect("stdout was piped");
    let stderr: ChildStderr = child.stderr.take().expect("stderr was piped");
    let mut running = Running {
        child,
        program: spec.program.clone(),
        deadline: Instant::now() + spec.deadline,
        allowed: spec.deadline,
        stdout: Collector::start(stdout),
        stderr: Collector::start(stderr),
        status: None,
    };

    if let Err(error) = drive(&mut running) {
        // Prefer the diagnosis of strace's own exit (ptrace refused, program failed) if it
        // ended before we kill it: that is why the session failed.
        let ended = running.poll_exit().ok().flatten().is_some();
        running.kill_all();
        let _ = fs::remove_file(&output);
        if ended {
            running.failure()?;
        }
        return Err(error);
    }
    let status = running.wait_for_exit();
    let Running {
        stdout,
        stderr,
        program,
        ..
    } = running;
    let stdout = stdout.finish(Duration::from_secs(2));
    let stderr = stderr.finish(Duration::from_secs(2));
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            let _ = fs::remove_file(&output);
            return Err(e);
        }
    };
    if let Err(e) = classify_exit(status, &program, &stderr) {
        let _ = fs::remove_file(&output);
        return Err(e);
    }
    let raw = fs::read(&output)
        .map_err(|e| TraceError::io(format!("reading strace's output {}", output.display()), e))?;
    Ok(Recording {
        raw: String::from_utf8_lossy(&raw).into_owned(),
        raw_path: output,
        stdout,
        stderr,
        killed_by: status.signal(),
    })
}

/// The name of a signal as strace prints it (`SIGTERM`), or `signal N`.
pub fn signal_name(signal: i32) -> String {
    let names = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
    ];
    names
        .iter()
        .find(|(n, _)| *n == signal)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| format!("signal {signal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(program: &str, args: &[&str]) -> RecordSpec {
        RecordSpec {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![],
            trace_set: "write,close".into(),
            deadline: DEADLINE,
            stacks: false,
        }
    }

    #[test]
    fn missing_strace_says_how_to_install_it() {
        let err = record_with("/nonexistent/strace", &spec("/bin/true", &[]), |_| Ok(()))
            .expect_err("no strace");
        assert_eq!(
            err.to_string(),
            "strace is not installed: run `apt-get install strace` (Debian/Ubuntu)"
        );
    }

    #[test]
    fn missing_program_says_how_to_build_it() {
        let err = record(&spec("/nonexistent/target/debug/step1", &[]), |_| Ok(()))
            .expect_err("no program");
        assert_eq!(
            err.to_string(),
            "the program /nonexistent/target/debug/step1 does not exist; build it with `cargo build --bins`"
        );
        let err = record(
            &spec("/nonexistent/target/reference/step1", &[]),
            |_| Ok(()),
        )
        .expect_err("no program");
        assert!(
            err.to_string().ends_with("build it with `just reference`"),
            "{err}"
        );
    }

    #[test]
    fn refused_ptrace_is_explained() {
        // What strace 6.1 printed (exit status 1) under a seccomp filter that fails ptrace
        // with EPERM, as a container without SYS_PTRACE does.
        let stderr = "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted\n\
                      strace: ptrace(PTRACE_TRACEME, ...): Operation not permitted\n\
                      strace: PTRACE_SETOPTIONS: Operation not permitted\n\
                      strace: detach: waitpid(25343): No child processes\n";
        let err = classify_exit(ExitStatus::from_raw(1 << 8), Path::new("/x/step1"), stderr)
            .expect_err("strace failed");
        let text = err.to_string();
        assert!(text.contains("--cap-add=SYS_PTRACE"), "{text}");
        assert!(text.contains("kernel.yama.ptrace_scope"), "{text}");
        assert!(text.contains("PTRACE_TRACEME"), "{text}");
    }

    #[test]
    fn program_failure_carries_its_stderr() {
        let err = classify_exit(
            ExitStatus::from_raw(1 << 8),
            Path::new("/x/step1"),
            "event_base_new failed\n",
        )
        .expect_err("failed");
        assert_eq!(
            err.to_string(),
            "/x/step1 failed (exit status 1); its stderr:\n    event_base_new failed"
        );
        assert!(classify_exit(ExitStatus::from_raw(libc::SIGTERM), Path::new("/x"), "").is_ok());
    }

    #[test]
    fn a_nonzero_exit_is_an_error_with_stderr() {
        let err = record(&spec("/bin/sh", &["-c", "echo oops >&2; exit 3"]), |_| {
            Ok(())
        })
        .expect_err("exit 3");
        let text = err.to_string();
        assert!(
            text.contains("exit status 3") && text.contains("oops"),
            "{text}"
        );
    }

    #[test]
    fn the_program_starts_with_only_fds_0_1_2() {
        // ls lists its own fds: 0, 1, 2 and the one it opened to read the directory.
        let recording = record(&spec("/bin/ls", &["/proc/self/fd"]), |_| Ok(())).expect("records");
        let _ = fs::remove_file(&recording.raw_path);
        assert_eq!(recording.stdout, "0\n1\n2\n3\n");
    }

    #[test]
    fn inherited_event_variables_are_removed_and_the_scenarios_set() {
        let vars = [("EVENT_NOEPOLL", "1"), ("PATH", "/bin"), ("XEVENT_", "1")]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        assert_eq!(
            event_variables(vars.into_iter()),
            [OsString::from("EVENT_NOEPOLL")]
        );
        let mut s = spec("/bin/sh", &["-c", "echo \"${EVENT_NOPOLL:-unset}\""]);
        s.env = vec![("EVENT_NOPOLL".into(), "1".into())];
        let recording = record(&s, |_| Ok(())).expect("records");
        let _ = fs::remove_file(&recording.raw_path);
        assert_eq!(recording.stdout, "1\n");
    }

    #[test]
    fn a_program_that_hangs_is_killed_at_the_deadline() {
        let mut s = spec("/bin/sh", &["-c", "echo started >&2; exec sleep 20"]);
        s.deadline = Duration::from_millis(500);
        let started = Instant::now();
        let err = record(&s, |_| Ok(())).expect_err("too slow");
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = err.to_string();
        assert!(text.contains("not done within 0.5 s"), "{text}");
        assert!(text.contains("started"), "{text}");
    }

    #[test]
    fn a_killed_program_reports_its_signal() {
        let recording = record(&spec("/bin/sleep", &["20"]), |running| {
            running.wait_until_waiting(Duration::from_millis(100)).ok();
            // On a loaded machine strace can take seconds to start its child: wait as long as
            // the recording's deadline allows.
            let until = Instant::now() + running.time_left();
            while running.tracee_pid().is_none() && Instant::now() < until {
                thread::sleep(TICK);
            }
            running.terminate()
        })
        .expect("records");
        let _ = fs::remove_file(&recording.raw_path);
        assert_eq!(recording.killed_by, Some(libc::SIGTERM));
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
    }
}
