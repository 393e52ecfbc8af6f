//! What the labs' tests share.
//!
//! - [`check_trace`]: a lab's step program, run under strace by the trace harness
//!   (`minievent-traces`), must give exactly the trace of its snapshot in `traces/snapshots/` —
//!   the one minievent itself is tested against. Snapshots are only read here, never written: a
//!   learner cannot pass by updating the expected trace. [`check_trace_and_libevent`] also
//!   compares it with real libevent's recorded trace (`traces/libevent/`).
//! - [`run`]: runs a lab program in a clean environment (no inherited `EVENT_*` variable), for tests
//!   that need a fresh process (environment variables, fault injection).
//! - [`todo_message`]: the `todo!()` text a program died with, so a failing check says which
//!   chapter to read instead of "exit status 101".
//! - [`echo::EchoServer`]: a lab's echo server as a plain process, for clients that check every
//!   byte, load runs and fd counts (lab 5), failing with the `todo!()` the server died in.
//! - [`names`]: epoll masks and `epoll_ctl` calls in words, for failure messages.

pub mod echo;
pub mod names;

use minievent_traces::{Scenario, TraceError, read_recorded, target_dir, trace, workspace_dir};
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The snapshot of `scenario`: `traces/snapshots/NAME.snap` without its `---` header.
pub fn expected_trace(scenario: &str) -> Result<String, String> {
    let path = snapshot_path(scenario);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "the expected trace {} cannot be read ({e}); it is minievent's own snapshot, made by \
             `cargo test` at the root of the repository",
            path.display()
        )
    })?;
    strip_header(&text).ok_or_else(|| {
        format!(
            "{} has no `---` header: is it an insta snapshot?",
            path.display()
        )
    })
}

/// `traces/snapshots/NAME.snap`.
pub fn snapshot_path(scenario: &str) -> PathBuf {
    workspace_dir()
        .join("traces")
        .join("snapshots")
        .join(format!("{scenario}.snap"))
}

/// The body of an insta snapshot: what follows the second `---` line.
pub fn strip_header(snap: &str) -> Option<String> {
    let mut lines = snap.split_inclusive('\n');
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    lines.by_ref().find(|l| l.trim_end() == "---")?;
    Some(lines.collect())
}

/// Where a failing trace check leaves the two traces for `just lab N` to show side by side:
/// `target/labs/<lab package>/<scenario>.expected` and `.actual`.
pub fn trace_files(lab: &str, scenario: &str) -> (PathBuf, PathBuf) {
    let dir = target_dir().join("labs").join(lab);
    (
        dir.join(format!("{scenario}.expected")),
        dir.join(format!("{scenario}.actual")),
    )
}

/// Runs `program` (a lab's build of a step program) as scenario `scenario` under strace and panics
/// unless its normalized trace equals the snapshot. `lab` is the lab's package name
/// (`env!("CARGO_PKG_NAME")`), which names the folder the traces are left in on a mismatch.
pub fn check_trace(lab: &str, scenario: &str, program: &Path) {
    let expected = expected_trace(scenario).unwrap_or_else(|e| panic!("{e}"));
    let actual = actual_trace(lab, scenario, program);
    compare(
        lab,
        scenario,
        program,
        &expected,
        &actual,
        &snapshot_label(scenario),
    );
}

/// [`check_trace`], and then the same trace against real libevent's, recorded from the scenario's
/// C twin in `traces/libevent/NAME.trace`: for a scenario whose trace has no divergence from
/// libevent (traces/DIVERGENCES.md), so that the lab shows the learner's code behaving like
/// libevent itself, not only like minievent.
pub fn check_trace_and_libevent(lab: &str, scenario: &str, program: &Path) {
    let expected = expected_trace(scenario).unwrap_or_else(|e| panic!("{e}"));
    let path = workspace_dir()
        .join("traces")
        .join("libevent")
        .join(format!("{scenario}.trace"));
    let libevent = read_recorded(&path).unwrap_or_else(|e| panic!("{e}"));
    let actual = actual_trace(lab, scenario, program);
    compare(
        lab,
        scenario,
        program,
        &expected,
        &actual,
        &snapshot_label(scenario),
    );
    let label = format!("libevent's trace traces/libevent/{scenario}.trace");
    compare(lab, scenario, program, &libevent, &actual, &label);
}

/// `traces/snapshots/NAME.snap`, as failure messages name it.
fn snapshot_label(scenario: &str) -> String {
    Path::new("traces/snapshots")
        .join(format!("{scenario}.snap"))
        .display()
        .to_string()
}

/// The program's file name, as messages name it.
fn program_name(program: &Path) -> String {
    program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// The normalized trace of `program` run as `scenario`, or a panic that says why there is none
/// (the `todo!()` it stopped in, when it did). Removes the files a previous mismatch left.
fn actual_trace(lab: &str, scenario: &str, program: &Path) -> String {
    let (expected_file, actual_file) = trace_files(lab, scenario);
    let _ = fs::remove_file(&expected_file);
    let _ = fs::remove_file(&actual_file);
    let scenario_def = Scenario::by_name(scenario).unwrap_or_else(|e| panic!("{e}"));
    let name = program_name(program);
    match trace(scenario_def, program) {
        Ok(t) => t.rendered,
        Err(TraceError::ProgramFailed { stderr, status, .. }) => match todo_message(&stderr) {
            Some(todo) => panic!("{name} stopped in a todo!() of your exercise:\n{todo}"),
            None => panic!(
                "{name} failed ({status}) before the end of scenario {scenario}; its stderr:\n{stderr}"
            ),
        },
        Err(TraceError::Timeout { after, .. }) => panic!(
            "{name} did not finish scenario {scenario} within {} s and was killed: does your loop \
             return when nothing is pending?",
            after.as_secs()
        ),
        Err(e) => match todo_message(&e.to_string())
            .or_else(|| todo_without_strace(scenario_def, program))
        {
            Some(todo) => panic!("{name} stopped in a todo!() of your exercise:\n{todo}"),
            None => panic!("scenario {scenario} could not be traced: {e}"),
        },
    }
}

/// Panics unless `actual` equals `expected` (named `label` in the message), leaving both in
/// [`trace_files`] for `just lab N` to show side by side.
fn compare(lab: &str, scenario: &str, program: &Path, expected: &str, actual: &str, label: &str) {
    if actual.trim_end() == expected.trim_end() {
        return;
    }
    let (expected_file, actual_file) = trace_files(lab, scenario);
    if let Some(dir) = expected_file.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let _ = fs::write(&expected_file, expected);
    let _ = fs::write(&actual_file, actual);
    let (line, want, got) = first_difference(expected, actual);
    panic!(
        "the trace of {} differs from {label} at line {line}:\n  expected: {want}\n  actual:   {got}\n\
         (both traces are in {})",
        program_name(program),
        actual_file
            .parent()
            .map_or_else(String::new, |d| d.display().to_string()),
    );
}

/// When tracing failed in a way that hides the program's own stderr (the echo client sees the
/// connection reset before strace has reported the exit), runs the program once more, without
/// strace, for a second or two: the `todo!()` it stops in, if that is what happens. A server
/// gets a client that connects, sends a line and half-closes, since its callbacks only run once
/// a client comes (lab 5's todo!()s are in them).
fn todo_without_strace(scenario: &Scenario, program: &Path) -> Option<String> {
    let mut command = Command::new(program);
    command.args(scenario.args);
    let mut port = None;
    if scenario.client.is_some() {
        let free = minievent_traces::client::free_port().ok()?;
        command.args(["--port".to_string(), free.to_string()]);
        port = Some(free);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("EVENT_") {
            command.env_remove(key);
        }
    }
    command.envs(scenario.env.iter().copied());
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn().ok()?;
    let start = Instant::now();
    let _client = port.map(|port| std::thread::spawn(move || poke(port, start)));
    while child.try_wait().ok()?.is_none() {
        if start.elapsed() > Duration::from_secs(2) {
            // SAFETY: kill(2) only sends a signal, to the process group made for this run.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stderr = String::new();
    child.stderr.take()?.read_to_string(&mut stderr).ok()?;
    todo_message(&stderr)
}

/// A client for [`todo_without_strace`]: connects to 127.0.0.1:`port` (retrying while the server
/// starts, until a second after `start`), sends `hello\n`, half-closes and reads until the server
/// closes or a second passes.
fn poke(port: u16, start: Instant) {
    use std::io::Write as _;
    let address = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    let mut stream = loop {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => break stream,
            Err(_) if start.elapsed() < Duration::from_secs(1) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => return,
        }
    };
    let _ = stream.write_all(b"hello\n");
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.read_to_end(&mut Vec::new());
}

/// The 1-based number of the first line where `a` and `b` differ, and the two lines.
fn first_difference(a: &str, b: &str) -> (usize, String, String) {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                let show = |l: Option<&str>| {
                    l.map_or_else(|| "(end of trace)".to_string(), str::to_string)
                };
                return (n, show(x), show(y));
            }
        }
    }
}

/// The message of the panic in a Rust program's stderr when it is a lab's `todo!()`:
/// `not yet implemented: lab 3: … — read chapter 3, section "…"`.
pub fn todo_message(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .skip_while(|l| !l.contains("not yet implemented: lab "))
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
        .map(|l| l.trim().to_string())
        .reduce(|a, b| a + "\n" + &b)
}

/// Runs `program` with `args` and the `env` given, every other `EVENT_*` variable removed, stdin
/// closed, and returns its output.
pub fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("EVENT_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    output_within(command, DEADLINE, &program.display().to_string())
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// How long a lab program run by [`run`] or [`strace`] may take: they take milliseconds, unless
/// the learner's loop never returns.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// `command.output()`, in a process group of its own that is killed (and the test failed) if it
/// is still running after `deadline`.
fn output_within(mut command: Command, deadline: Duration, what: &str) -> std::io::Result<Output> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let out = std::thread::spawn(move || read_all(out.as_mut()));
    let err = std::thread::spawn(move || read_all(err.as_mut()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > deadline {
            // SAFETY: kill(2) only sends a signal, to the process group this function made.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            let stderr = String::from_utf8_lossy(&stderr);
            if let Some(todo) = todo_message(&stderr) {
                panic!("{what} stopped in a todo!() of your exercise:\n{todo}");
            }
            panic!(
                "{what} did not finish within {} s and was killed: does your loop return when nothing is \
                 pending?",
                deadline.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn read_all(pipe: Option<&mut impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_end(&mut buf);
    }
    buf
}

/// Runs `program` with `args` under `strace -f -qq -e trace=TRACE`, with each of `inject` as an
/// `-e inject=` fault (e.g. `epoll_create1:error=ENOSYS`), and returns strace's output and the
/// program's. For the tests that need the kernel to fail in a way it will not fail by itself.
pub fn strace(program: &Path, args: &[&str], trace: &str, inject: &[&str]) -> (String, Output) {
    let out = std::env::temp_dir().join(format!(
        "minievent-lab-{}-{}.strace",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut strace_args: Vec<String> = vec![
        "-f".into(),
        "-qq".into(),
        "-e".into(),
        "signal=none".into(),
        "-e".into(),
        format!("trace={trace}"),
    ];
    for fault in inject {
        strace_args.push("-e".into());
        strace_args.push(format!("inject={fault}"));
    }
    strace_args.extend(["-o".into(), out.to_string_lossy().into_owned(), "--".into()]);
    strace_args.push(program.to_string_lossy().into_owned());
    strace_args.extend(args.iter().map(|a| a.to_string()));
    let mut command = Command::new("strace");
    command.args(&strace_args).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("EVENT_") {
            command.env_remove(key);
        }
    }
    let name = program
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let output = output_within(command, DEADLINE, &name).unwrap_or_else(|e| {
        panic!("cannot run strace ({e}): install it with `apt-get install strace` (Debian/Ubuntu)")
    });
    let text = fs::read_to_string(&out).unwrap_or_else(|e| {
        panic!(
            "strace left no output ({e}); its stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let _ = fs::remove_file(&out);
    (text, output)
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f` on a thread of its own and returns what it returns — or fails the test when it takes
/// longer than `secs` seconds, instead of hanging: a loop that never returns is a likely bug.
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => {
            panic!("{what} did not return within {secs} s: does the loop return when it should?")
        }
    }
}

/// What a lab program printed, or a panic naming the chapter when it died in a `todo!()` (and the
/// whole output otherwise).
pub fn stdout_of(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(todo) = todo_message(&stderr) {
        panic!("{what} stopped in a todo!() of your exercise:\n{todo}");
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_loses_its_header() {
        let snap = "---\nsource: traces/tests/scenarios.rs\ndescription: x\n---\nwrite(1, \"a\\n\", 2) = 2\nclose(3) = 0\n";
        assert_eq!(
            strip_header(snap).as_deref(),
            Some("write(1, \"a\\n\", 2) = 2\nclose(3) = 0\n")
        );
        assert_eq!(strip_header("no header"), None);
    }

    #[test]
    fn the_todo_of_a_panic_is_found() {
        let stderr = "step3: event_add\n\nthread 'main' panicked at labs/lab03-event-add/src/exercise.rs:40:5:\n\
                      not yet implemented: lab 3: epoll_op — read chapter 3, section \"The op table\"\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            todo_message(stderr).as_deref(),
            Some("not yet implemented: lab 3: epoll_op — read chapter 3, section \"The op table\"")
        );
        assert_eq!(todo_message("thread 'main' panicked at x:\nboom\n"), None);
    }

    #[test]
    fn the_first_difference_is_named() {
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            (2, "b".into(), "c".into())
        );
        assert_eq!(
            first_difference("a\n", "a\nx\n"),
            (2, "(end of trace)".into(), "x".into())
        );
    }
}
