//! The one error type of the harness.
//!
//! Every failure carries what a reader needs to fix it: the missing tool and how to install it,
//! the program path and how to build it, the strace line that did not parse, the program's stderr.
//! Nothing is ever skipped silently: a scenario that cannot be traced is an error, not a pass.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while recording, parsing or normalizing a trace.
#[derive(Debug)]
pub enum TraceError {
    /// `Scenario::by_name` got a name that is not in `traces/SCENARIOS.md`.
    UnknownScenario {
        /// The name that was asked for.
        name: String,
        /// Every valid scenario name, in the order of `SCENARIOS.md`.
        valid: Vec<&'static str>,
    },
    /// The `strace` binary could not be started because it is not installed.
    StraceMissing,
    /// strace started but the kernel refused to let it trace the program.
    PtraceBlocked {
        /// strace's own messages (the lines of stderr starting with `strace: `).
        message: String,
    },
    /// strace itself failed for another reason before or while running the program.
    StraceFailed {
        /// strace's own messages.
        message: String,
    },
    /// The program to trace does not exist.
    ProgramMissing {
        /// The path that was looked for.
        path: PathBuf,
        /// The command that builds it.
        build_with: &'static str,
    },
    /// The traced program exited with a non-zero status or was killed by a signal we did not send.
    ProgramFailed {
        /// The program's path.
        program: PathBuf,
        /// How it ended, in words (`exit status 1`, `killed by SIGSEGV`).
        status: String,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// Something did not happen before its deadline; the child processes were killed.
    Timeout {
        /// What we were waiting for.
        what: String,
        /// How long we waited.
        after: Duration,
        /// The program's stderr so far.
        stderr: String,
    },
    /// A line of strace output that strace-parse could not parse (never skipped).
    Parse {
        /// The strace output file (or another name for the text).
        file: String,
        /// 1-based line number in that file.
        line: usize,
        /// The line, as strace wrote it.
        text: String,
        /// Why it did not parse.
        reason: String,
    },
    /// The trace has no `write(1, ...)`: the program printed no banner line.
    NoBanner {
        /// The strace output file (or another name for the text).
        file: String,
    },
    /// The lock-step echo client saw something other than the expected session.
    Client(String),
    /// A recorded trace file (`traces/libevent/NAME.trace`) is malformed or missing.
    Recorded {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O error, with what we were doing when it happened.
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl TraceError {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        TraceError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Indents every line of `text` by four spaces, or says `(empty)`.
fn indented(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return "    (empty)".to_string();
    }
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::UnknownScenario { name, valid } => write!(
                f,
                "unknown scenario `{name}`; the scenarios are: {}",
                valid.join(", ")
            ),
            TraceError::StraceMissing => write!(
                f,
                "strace is not installed: run `apt-get install strace` (Debian/Ubuntu)"
            ),
            TraceError::PtraceBlocked { message } => write!(
                f,
                "strace may not trace programs here: the kernel refused ptrace.\n\
                 In a container, start it with `--cap-add=SYS_PTRACE` (docker/podman); \
                 on a host, check `sysctl kernel.yama.ptrace_scope` (0 or 1 allows tracing \
                 one's own children).\nstrace said:\n{}",
                indented(message)
            ),
            TraceError::StraceFailed { message } => {
                write!(f, "strace failed:\n{}", indented(message))
            }
            TraceError::ProgramMissing { path, build_with } => write!(
                f,
                "the program {} does not exist; build it with `{build_with}`",
                path.display()
            ),
            TraceError::ProgramFailed {
                program,
                status,
                stderr,
            } => write!(
                f,
                "{} failed ({status}); its stderr:\n{}",
                program.display(),
                indented(stderr)
            ),
            TraceError::Timeout {
                what,
                after,
                stderr,
            } => write!(
                f,
                "{what}: not done within {} s, so the program was killed; its stderr:\n{}",
                after.as_secs_f64(),
                indented(stderr)
            ),
            TraceError::Parse {
                file,
                line,
                text,
                reason,
            } => write!(
                f,
                "{file}:{line}: strace-parse cannot parse this line ({reason}):\n    {text}"
            ),
            TraceError::NoBanner { file } => write!(
                f,
                "{file}: the program printed no banner line (no write(1, ...) in the trace); \
                 see traces/SCENARIOS.md"
            ),
            TraceError::Client(message) => write!(f, "echo client: {message}"),
            TraceError::Recorded { path, reason } => write!(f, "{}: {reason}", path.display()),
            TraceError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TraceError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scenario_lists_the_valid_names() {
        let e = TraceError::UnknownScenario {
            name: "nope".into(),
            valid: vec!["step1", "step2"],
        };
        assert_eq!(
            e.to_string(),
            "unknown scenario `nope`; the scenarios are: step1, step2"
        );
    }

    #[test]
    fn empty_stderr_is_said_to_be_empty() {
        let e = TraceError::ProgramFailed {
            program: "/x/step1".into(),
            status: "exit status 1".into(),
            stderr: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "/x/step1 failed (exit status 1); its stderr:\n    (empty)"
        );
    }
}
