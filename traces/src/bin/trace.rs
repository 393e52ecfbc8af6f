//! `trace`: list, run and record the trace scenarios (the backend of `just trace NAME`).
//!
//! ```text
//! trace list                              every scenario with what its trace shows
//! trace run NAME [--libevent] [--raw]     run it on minievent's program (or the C reference)
//!                                         and print the normalized trace (or strace's output)
//! trace record [--out DIR] [NAME...]      run the C references and write DIR/NAME.trace
//!                                         (DIR defaults to traces/libevent)
//! trace normalize FILE [--port P]         normalize a raw `strace -f -o FILE` output
//! ```
//!
//! Errors print `error: ...` and exit with 1; a usage error or an unknown scenario exits with 2.
//! Nothing here panics on bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use minievent_traces::recorded::{Versions, write_recorded};
use minievent_traces::{Scenario, TraceError, normalize_text, scenarios, trace, workspace_dir};

const USAGE: &str = "\
usage: trace list
       trace run NAME [--libevent] [--raw]
       trace record [--out DIR] [NAME...]
       trace normalize FILE [--port P]";

/// What went wrong, and the exit code it gets.
enum Failure {
    /// Bad command line: exit code 2, with the usage.
    Usage(String),
    /// Unknown scenario: exit code 2 (the message lists the valid names).
    BadName(String),
    /// Anything else: exit code 1.
    Error(String),
}

impl From<TraceError> for Failure {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::UnknownScenario { .. } => Failure::BadName(e.to_string()),
            other => Failure::Error(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::BadName(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::Usage("no command given".into()));
    };
    match command.as_str() {
        "list" if rest.is_empty() => {
            list();
            Ok(())
        }
        "run" => run_one(rest),
        "record" => record(rest),
        "normalize" => normalize(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure::Usage(format!(
            "unknown command `{}`",
            args.join(" ")
        ))),
    }
}

/// `trace list`.
fn list() {
    let width = scenarios().iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in scenarios() {
        println!("{:width$}  {}", s.name, s.description);
    }
}

/// `trace run NAME [--libevent] [--raw]`.
fn run_one(args: &[String]) -> Result<(), Failure> {
    let mut name = None;
    let (mut libevent, mut raw) = (false, false);
    for arg in args {
        match arg.as_str() {
            "--libevent" => libevent = true,
            "--raw" => raw = true,
            flag if flag.starts_with('-') => {
                return Err(Failure::Usage(format!("unknown option `{flag}`")));
            }
            _ if name.is_some() => return Err(Failure::Usage("give one scenario name".into())),
            _ => name = Some(arg.as_str()),
        }
    }
    let name = name.ok_or_else(|| Failure::Usage("which scenario? see `trace list`".into()))?;
    let scenario = Scenario::by_name(name)?;
    let program = if libevent {
        scenario.reference_program()
    } else {
        scenario.minievent_program()
    };
    let t = trace(scenario, &program)?;
    print!("{}", if raw { &t.raw } else { &t.rendered });
    Ok(())
}

/// `trace record [--out DIR] [NAME...]`.
fn record(args: &[String]) -> Result<(), Failure> {
    let mut dir = workspace_dir().join("traces").join("libevent");
    let mut chosen = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => {
                let out = args
                    .next()
                    .ok_or_else(|| Failure::Usage("--out needs a directory".into()))?;
                dir = PathBuf::from(out);
            }
            flag if flag.starts_with('-') => {
                return Err(Failure::Usage(format!("unknown option `{flag}`")));
            }
            name => chosen.push(Scenario::by_name(name)?),
        }
    }
    if chosen.is_empty() {
        chosen = scenarios().iter().collect();
    }
    let versions = Versions::detect();
    let mut failed = Vec::new();
    for scenario in chosen {
        match trace(scenario, &scenario.reference_program())
            .and_then(|t| write_recorded(scenario, &t, &versions, &dir))
        {
            Ok(path) => println!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("error: {}: {e}", scenario.name);
                failed.push(scenario.name);
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Error(format!(
            "could not record: {}",
            failed.join(", ")
        )))
    }
}

/// `trace normalize FILE [--port P]`.
fn normalize(args: &[String]) -> Result<(), Failure> {
    let (file, port) = match args {
        [file] => (file, None),
        [file, flag, port] if flag == "--port" => {
            let port = port
                .parse::<u16>()
                .map_err(|_| Failure::Usage(format!("`{port}` is not a port number")))?;
            (file, Some(port))
        }
        _ => return Err(Failure::Usage("give one strace output file".into())),
    };
    let bytes =
        std::fs::read(file).map_err(|e| Failure::Error(format!("cannot read {file}: {e}")))?;
    let text = minievent_traces::parse::text_of(&bytes, file)?;
    print!("{}", normalize_text(text, file, port)?);
    Ok(())
}
