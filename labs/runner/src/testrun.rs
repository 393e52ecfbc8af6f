//! Running a lab's tests with cargo and reading libtest's report.

use crate::labs::{Lab, target_dir, workspace};
use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long the tests of one lab may run once built (a loop that never returns must not hang
/// `just lab N`; every lab's tests take seconds).
const TEST_DEADLINE: Duration = Duration::from_secs(180);

/// One test: a check of the lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The test file it is in (`selection` for tests/selection.rs).
    pub group: String,
    /// The test function's name.
    pub name: String,
    pub passed: bool,
    /// For a failure: the panic message (without the `thread '…' panicked at` line).
    pub message: String,
    /// For a failure: where it panicked, `file:line` from that line (a `todo!()` of the
    /// exercise, or the test's assertion).
    pub location: Option<String>,
}

/// What running a lab's tests gave.
#[derive(Debug)]
pub enum Outcome {
    /// The lab does not compile; cargo's messages (empty when they went to the terminal).
    BuildFailed(String),
    /// The tests ran (or some crashed, or timed out: `trouble` then says so).
    Ran {
        checks: Vec<Check>,
        trouble: Option<String>,
    },
}

/// Where the full output of the last run of a lab goes.
pub fn log_path(lab: &Lab, reference: bool) -> PathBuf {
    target_dir()
        .join("labs")
        .join(lab.package)
        .join(if reference {
            "reference.log"
        } else {
            "test.log"
        })
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    cmd
}

fn args(lab: &Lab, reference: bool) -> Vec<String> {
    let mut args = vec![
        "test".to_string(),
        "-p".into(),
        lab.package.into(),
        "--color".into(),
        "never".into(),
    ];
    if reference {
        args.extend(["--features".into(), "reference".into()]);
    }
    args
}

/// Builds and runs the tests of `lab` (`reference`: against minievent's own code). With `live`,
/// the compiler's messages (warnings, errors) go straight to the terminal as cargo prints them.
pub fn run(lab: &Lab, reference: bool, live: bool) -> Result<Outcome, String> {
    let log = log_path(lab, reference);
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }

    let mut build = cargo();
    build
        .args(args(lab, reference))
        .args(["--no-run", "--quiet"]);
    if live {
        let status = build
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Ok(Outcome::BuildFailed(String::new()));
        }
    } else {
        let output = build
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Ok(Outcome::BuildFailed(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
    }

    // stdout and stderr into one file, so cargo's "Running tests/x.rs" lines stay in order with
    // libtest's report.
    let file = File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = cargo()
        .args(args(lab, reference))
        .arg("--no-fail-fast")
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let start = Instant::now();
    let mut timed_out = false;
    while child
        .try_wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?
        .is_none()
    {
        if start.elapsed() > TEST_DEADLINE {
            // The test programs (and what they run under strace) first, then cargo.
            for pid in descendants(child.id()) {
                // SAFETY: kill(2) only sends a signal, to a process this run started.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let text = fs::read_to_string(&log).map_err(|e| format!("reading {}: {e}", log.display()))?;
    let checks = parse(&text);
    let trouble = if timed_out {
        Some(format!(
            "the tests did not finish within {} s and were stopped: a loop that never returns?",
            TEST_DEADLINE.as_secs()
        ))
    } else if let Some(crash) = crashed(&text) {
        Some(crash)
    } else if checks.is_empty() {
        Some("no test ran".to_string())
    } else {
        None
    };
    Ok(Outcome::Ran { checks, trouble })
}

/// Every process below `root`, found in /proc, deepest first.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found.reverse();
    found
}

/// A test binary that died without finishing its report (a segfault, an abort).
fn crashed(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.contains("process didn't exit successfully") && !l.contains("exit status: 101"))
        .map(|l| format!("a test program crashed: {}", l.trim()))
}

/// The checks in a `cargo test` report: `test NAME ... ok|FAILED`, grouped by the test file named
/// in cargo's `Running tests/FILE.rs` lines, with the messages of the `---- NAME stdout ----`
/// sections.
pub fn parse(text: &str) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    let mut group = String::new();
    let mut section: Option<(String, Vec<String>)> = None;
    let flush =
        |section: &mut Option<(String, Vec<String>)>, checks: &mut Vec<Check>, group: &str| {
            if let Some((name, lines)) = section.take() {
                let message = clean_message(&lines);
                if let Some(check) = checks
                    .iter_mut()
                    .rev()
                    .find(|c| c.name == name && c.group == group)
                {
                    check.message = message;
                    check.location = panic_location(&lines);
                }
            }
        };
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            flush(&mut section, &mut checks, &group);
            let file = rest.split_whitespace().next().unwrap_or(rest);
            group = file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".rs")
                .to_string();
            continue;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            flush(&mut section, &mut checks, &group);
            section = Some((name.to_string(), Vec::new()));
            continue;
        }
        if section.is_some() && (line == "failures:" || line.starts_with("test result:")) {
            flush(&mut section, &mut checks, &group);
            continue;
        }
        if let Some((_, lines)) = section.as_mut() {
            lines.push(line.to_string());
            continue;
        }
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.split_once(" has been running for over "))
            .map(|(name, _)| name)
        {
            // Reported while it runs; if no result follows, the run was stopped with it unfinished.
            if !checks.iter().any(|c| c.name == name && c.group == group) {
                checks.push(Check {
                    group: group.clone(),
                    name: name.to_string(),
                    passed: false,
                    message: "did not finish: it was still running when the tests were stopped"
                        .into(),
                    location: None,
                });
            }
            continue;
        }
        let Some((name, result)) = line
            .find("test ")
            .and_then(|i| line[i + 5..].split_once(" ... "))
        else {
            continue;
        };
        let result = result.trim();
        if name.contains(' ') || !(result.starts_with("ok") || result.starts_with("FAILED")) {
            continue;
        }
        let passed = result.starts_with("ok");
        match checks
            .iter_mut()
            .find(|c| c.name == name && c.group == group)
        {
            Some(slow) => {
                slow.passed = passed;
                slow.message.clear();
            }
            None => checks.push(Check {
                group: group.clone(),
                name: name.to_string(),
                passed,
                message: String::new(),
                location: None,
            }),
        }
    }
    flush(&mut section, &mut checks, &group);
    checks
}

/// A failure's message: the lines of its section without the `thread '…' panicked at` line, the
/// backtrace note and blank lines at either end.
fn clean_message(lines: &[String]) -> String {
    let kept: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !(l.starts_with("thread '") && l.contains("panicked at")))
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    kept.join("\n").trim().to_string()
}

/// `file:line` of the first `thread '…' panicked at FILE:LINE:COLUMN:` line of a failure.
fn panic_location(lines: &[String]) -> Option<String> {
    let at = lines
        .iter()
        .find_map(|l| {
            l.starts_with("thread '")
                .then(|| l.split_once(" panicked at "))
                .flatten()
        })?
        .1
        .trim_end()
        .trim_end_matches(':');
    // FILE:LINE:COLUMN → FILE:LINE
    let (file_line, column) = at.rsplit_once(':')?;
    column.parse::<u32>().ok()?;
    let (_, line) = file_line.rsplit_once(':')?;
    line.parse::<u32>().ok()?;
    Some(file_line.to_string())
}

/// A test's name in words: `a_new_event_is_pending` → `a new event is pending`; a trace check
/// `trace_step1_poll` → `the trace of step1-poll is the snapshot's`.
pub fn words(name: &str) -> String {
    let name = name.rsplit("::").next().unwrap_or(name);
    match name.strip_prefix("trace_") {
        Some(scenario) => format!("the trace of {} is the snapshot's", scenario_of(scenario)),
        None => name.replace('_', " "),
    }
}

/// The scenario a trace check is about: `step1_show_method` → `step1-show-method` (scenario
/// names have dashes, test names underscores).
pub fn scenario_of(test_suffix: &str) -> String {
    test_suffix.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
   Compiling lab03-event-add v0.1.0 (/work/main/labs/lab03-event-add)
     Running tests/evmap.rs (target/debug/deps/evmap-0a1b)

running 2 tests
test the_first_reader_is_added ... FAILED
[warn] Epoll ADD(1) on fd 6 failed
test fds_are_counted_separately ... ok

failures:

---- the_first_reader_is_added stdout ----

thread 'the_first_reader_is_added' (123) panicked at labs/lab03-event-add/src/exercise.rs:40:5:
not yet implemented: lab 3: IoMap::add — read chapter 3, section \"evmap\"
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    the_first_reader_is_added

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `-p lab03-event-add --test evmap`
     Running tests/traces.rs (target/debug/deps/traces-2c3d)

running 1 test
test trace_step3 ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s
";

    #[test]
    fn descendants_are_found_through_proc() {
        let mut sh = Command::new("sh")
            .args(["-c", "sleep 5 & sleep 5 & wait"])
            .spawn()
            .expect("sh");
        let start = Instant::now();
        let mut found = Vec::new();
        while found.len() < 2 && start.elapsed() < Duration::from_secs(2) {
            found = descendants(sh.id());
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(found.len(), 2, "the two sleeps under sh: {found:?}");
        for pid in found {
            // SAFETY: kill(2) only sends a signal, to a sleep this test started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        let _ = sh.wait();
    }

    #[test]
    fn a_report_becomes_checks_with_their_messages() {
        let checks = parse(REPORT);
        let summary: Vec<(&str, &str, bool)> = checks
            .iter()
            .map(|c| (c.group.as_str(), c.name.as_str(), c.passed))
            .collect();
        assert_eq!(
            summary,
            [
                ("evmap", "the_first_reader_is_added", false),
                ("evmap", "fds_are_counted_separately", true),
                ("traces", "trace_step3", true),
            ]
        );
        assert_eq!(
            checks[0].message,
            "not yet implemented: lab 3: IoMap::add — read chapter 3, section \"evmap\""
        );
        assert_eq!(
            checks[0].location.as_deref(),
            Some("labs/lab03-event-add/src/exercise.rs:40"),
            "the failure's file:line, from the panicked-at line"
        );
        assert_eq!(checks[1].location, None, "a passing check has no location");
        assert_eq!(
            words("trace_step1_poll"),
            "the trace of step1-poll is the snapshot's"
        );
        assert_eq!(words("a_new_event_is_pending"), "a new event is pending");
    }
}
