//! `minievent-traces`: the syscall traces of minievent and libevent, recorded the same way.
//!
//! Every claim the book makes about syscalls is a trace. This crate runs a scenario's program
//! under strace and turns strace's output into a short, stable text: one syscall per line,
//! as strace prints it, minus what changes from run to run.
//!
//! ```text
//! record  (record.rs)     strace -f -qq -e signal=none -e trace=SET -o FILE PROGRAM ARGS
//!                         with only fds 0-2 open, a clean EVENT_* environment, a deadline;
//!                         for the echo scenarios the lock-step client (client.rs) drives the server;
//!                         for the client scenarios the echo peer (peer.rs) serves the program
//!                         (or nobody listens, and its connect is refused)
//! parse   (parse.rs)      every line through strace-parse -> Event { pid, Call { name, args, result } }
//! normalize (normalize.rs) start at the banner; drop exit; ADDR, PORT, T; collapse repeated timeouts
//! render  (render.rs)     `name(arg, arg) = result`, one per line
//! ```
//!
//! The scenarios are listed in `traces/SCENARIOS.md` and in [`scenarios()`]. The traces of the
//! libevent reference programs are committed under `traces/libevent/` ([`recorded`]); the
//! `trace` binary (`src/bin/trace.rs`, behind `just trace NAME`) lists, runs and records them.
//!
//! The echo servers are also run without strace, as plain child processes ([`server`]): under
//! load by [`load`] (the `stress` binary, behind `just stress NAME`, and the tests of the walk-through post's bugs in
//! `traces/tests/echo_servers.rs`), and against libevent's by [`mod@bench`], with libevent's own
//! benchmarks (the `bench` binary, behind `just bench` and `just bench-book`).
//!
//! ```no_run
//! use minievent_traces::{Scenario, trace};
//!
//! let scenario = Scenario::by_name("step3")?;
//! let t = trace(scenario, &scenario.minievent_program())?;
//! print!("{}", t.rendered);
//! # Ok::<(), minievent_traces::TraceError>(())
//! ```

#![warn(missing_docs)]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "minievent-traces supports Linux on x86_64 only: it runs strace and reads x86_64 syscall numbers \
     from /proc"
);

pub mod annotate;
pub mod bench;
pub mod client;
mod error;
pub mod load;
pub mod normalize;
pub mod parse;
pub mod peer;
pub mod record;
pub mod recorded;
pub mod render;
pub mod scenario;
pub mod server;

use std::fs;
use std::path::Path;

pub use error::TraceError;
pub use normalize::Options;
pub use parse::{Call, Event, EventKind};
pub use recorded::{read_recorded, write_recorded};
pub use scenario::{
    Client, Scenario, TraceSet, minievent_program, reference_program, scenarios, target_dir,
    workspace_dir,
};

/// One traced run of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The normalized trace, one syscall per line, ending with a newline.
    pub rendered: String,
    /// strace's output file, untouched.
    pub raw: String,
    /// What the program printed to stdout (not normalized: the echo server's banner has the
    /// port in it).
    pub stdout: String,
    /// What the program printed to stderr.
    pub stderr: String,
}

/// Runs `scenario` with `program` (its minievent binary or its C reference) under strace and
/// returns the normalized trace.
///
/// Fails with a [`TraceError`] saying what to do when strace is missing or may not trace, the
/// program is missing, exits with another status than [`Scenario::exit_code`], dies of a
/// signal the harness did not send, or does not finish in time, when a line of strace's output
/// does not parse, and when the program printed no banner. After a parse or banner error strace's output file is left in place (its path
/// is in the error); otherwise it is removed.
pub fn trace(scenario: &Scenario, program: &Path) -> Result<Trace, TraceError> {
    run(scenario, program, false).map(|(trace, _)| trace)
}

/// [`trace`] under `strace -k`: the trace, and each raw call with the stack that made it, for
/// [`annotate::annotate`] (the trace's `raw` keeps strace's output without the stack lines).
pub fn trace_with_stacks(
    scenario: &Scenario,
    program: &Path,
) -> Result<(Trace, Vec<annotate::RawCall>), TraceError> {
    run(scenario, program, true)
}

fn run(
    scenario: &Scenario,
    program: &Path,
    stacks: bool,
) -> Result<(Trace, Vec<annotate::RawCall>), TraceError> {
    let peer = match scenario.client {
        Some(Client::EchoPeer) => Some(peer::EchoPeer::listen(scenario.args)?),
        _ => None,
    };
    let port = match (scenario.client, &peer) {
        (Some(Client::EchoSession | Client::Refused), _) => Some(client::free_port()?),
        (_, Some(peer)) => Some(peer.port),
        _ => None,
    };
    let mut args: Vec<String> = scenario.args.iter().map(|a| a.to_string()).collect();
    if let Some(port) = port {
        args.extend(["--port".to_string(), port.to_string()]);
    }
    let spec = record::RecordSpec {
        program: program.to_path_buf(),
        args,
        env: scenario
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        trace_set: scenario.trace_set.syscalls(),
        deadline: record::DEADLINE,
        stacks,
        exit_code: scenario.exit_code(),
    };
    let recording = match (scenario.client, port, peer) {
        (Some(Client::EchoSession), Some(port), _) => {
            record::record(&spec, |running| client::echo_session(port, running))?
        }
        (_, _, Some(peer)) => record::record(&spec, |running| peer.serve(running))?,
        _ => record::record(&spec, |_| Ok(()))?,
    };

    // The echo session ends its server with SIGTERM; every other program exits by itself.
    let expected = match scenario.client {
        Some(Client::EchoSession) => Some(libc::SIGTERM),
        _ => None,
    };
    if let Some(signal) = recording.killed_by
        && Some(signal) != expected
    {
        let _ = fs::remove_file(&recording.raw_path);
        return Err(TraceError::ProgramFailed {
            program: program.to_path_buf(),
            status: format!("killed by {}", record::signal_name(signal)),
            stderr: recording.stderr,
        });
    }

    let (raw, calls) = if stacks {
        annotate::split_stacks(&recording.raw)
    } else {
        (recording.raw, Vec::new())
    };
    let file = recording.raw_path.display().to_string();
    let mut events = parse::parse(&raw, &file)?;
    if let Some(signal) = recording.killed_by {
        // strace prints no `+++ killed by +++` line with `-e signal=none` (see record.rs):
        // end the trace with the line it would have printed, unless it is there already.
        if !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Killed(_)))
        {
            let pid = events.last().and_then(|e| e.pid);
            events.push(Event {
                pid,
                kind: EventKind::Killed(record::signal_name(signal)),
            });
        }
    }
    let events = normalize::normalize(events, Options { port }, &file)?;
    let _ = fs::remove_file(&recording.raw_path);
    Ok((
        Trace {
            rendered: render::render(&events),
            raw,
            stdout: recording.stdout,
            stderr: recording.stderr,
        },
        calls,
    ))
}

/// Parses, normalizes and renders strace output given as text (`strace -f -o` format).
///
/// `file` names the text in errors; `port` is the server's port, if the scenario has one.
/// This is [`trace`] without running anything, for tests and for re-normalizing a raw file.
pub fn normalize_text(text: &str, file: &str, port: Option<u16>) -> Result<String, TraceError> {
    let events = parse::parse(text, file)?;
    let events = normalize::normalize(events, Options { port }, file)?;
    Ok(render::render(&events))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured with strace 6.1 from a C program that follows step3 on libevent 2.1.12.
    const STEP3_RAW: &str = include_str!("../testdata/step3.strace");

    #[test]
    fn step3_normalizes_to_the_snapshot() {
        let rendered = normalize_text(STEP3_RAW, "step3.strace", None).expect("normalizes");
        insta::assert_snapshot!(rendered);
    }

    /// Captured with strace 6.1 from a C echo server on libevent 2.1.12 on port 41234,
    /// killed with SIGTERM (the `+++ killed by` line is the one `trace` appends).
    const ECHO_RAW: &str = include_str!("../testdata/echo_event.strace");

    #[test]
    fn echo_session_normalizes_to_the_snapshot() {
        let rendered =
            normalize_text(ECHO_RAW, "echo_event.strace", Some(41234)).expect("normalizes");
        insta::assert_snapshot!(rendered);
    }
}
