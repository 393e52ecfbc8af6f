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
//! `trace --help` (and `trace help COMMAND`) explains each command and option. Errors print
//! `error: ...` and exit with 1; a usage error or an unknown scenario exits with 2 (clap's
//! usage-error status). Nothing here panics on bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::{ContextKind, ErrorKind};
use clap::{Parser, Subcommand};
use minievent_traces::annotate::{self, Of};
use minievent_traces::recorded::{Versions, Written, write_recorded};
use minievent_traces::{Scenario, TraceError, normalize_text, scenarios, trace, workspace_dir};

/// Every command with its options (shown by `trace --help`).
const SYNOPSIS: &str = "\
Commands in full (`trace help COMMAND` explains one):
  trace list                            every scenario with what its trace shows
  trace run NAME [--libevent] [--raw]   run it on minievent's program (or the C reference) and print
                                        the normalized trace (or strace's own output)
  trace record [--out DIR] [NAME...]    run the C references and write DIR/NAME.trace
                                        (DIR defaults to traces/libevent)
  trace normalize FILE [--port P]       normalize a raw `strace -f -o FILE` output";

const EXIT_STATUS: &str = "\
    Exit status: 0 on success, 1 when a trace could not be taken, 2 for a bad command line or an \
    unknown scenario.";

/// Run minievent's (and libevent's) trace scenarios under strace and print their normalized
/// syscall traces.
///
/// A scenario is one program run under strace (traces/SCENARIOS.md): minievent's step program
/// or echo server, or its C twin on real libevent 2.1.12. `just trace NAME` and `just traces` run
/// this tool; `just reference` runs `trace record`.
#[derive(Parser, Debug)]
#[command(
    name = "trace",
    arg_required_else_help = true,
    after_help = EXIT_STATUS,
    after_long_help = format!("{SYNOPSIS}\n\n{EXIT_STATUS}")
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every scenario with what its trace shows (`just traces`)
    List,
    /// Run one scenario under strace and print its normalized trace (`just trace NAME`)
    ///
    /// Runs minievent's program, built by `cargo build --bins` (which `just trace` does first),
    /// with only fds 0-2 open, and prints one syscall per line after normalization.
    Run {
        /// The scenario to run, as `trace list` names it (e.g. step3, echo-event)
        #[arg(value_name = "NAME")]
        name: String,
        /// Run the C reference program on real libevent 2.1.12 instead of minievent's (it is built
        /// into target/reference/ by `just reference`; needs gcc and libevent-dev)
        #[arg(long)]
        libevent: bool,
        /// Print strace's own output instead of the normalized trace
        #[arg(long)]
        raw: bool,
    },
    /// Run the C reference programs and write their traces to DIR/NAME.trace (`just reference`)
    ///
    /// Records every scenario, or only the NAMEs given, from the programs `just reference` builds
    /// in target/reference/.
    Record {
        /// Write the traces into DIR instead of traces/libevent/ (`just check-reference` records
        /// into a temporary directory and compares)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The scenarios to record, as `trace list` names them (default: all of them)
        #[arg(value_name = "NAME")]
        names: Vec<String>,
    },
    /// Record the scenarios under `strace -k` and write which function made each syscall to
    /// traces/annotated/ (`just annotate`, which first builds minievent with frame pointers)
    ///
    /// Annotates minievent's trace (traces/snapshots/NAME.snap) and libevent's
    /// (traces/libevent/NAME.trace) of every scenario, or of the NAMEs given. A run whose trace
    /// differs from the committed one is retried, then reported.
    Annotate {
        /// Where the frame-pointer build of minievent's programs is (`just annotate` builds it
        /// into target/annotate/debug)
        #[arg(long, value_name = "DIR")]
        bin_dir: PathBuf,
        /// Compare with traces/annotated/ instead of writing; exit 1 when a file differs
        #[arg(long)]
        check: bool,
        /// The scenarios, as `trace list` names them (default: all of them)
        #[arg(value_name = "NAME")]
        names: Vec<String>,
    },
    /// Normalize a raw `strace -f -o FILE` output and print it as a trace
    Normalize {
        /// The strace output file to read
        #[arg(value_name = "FILE")]
        file: String,
        /// The TCP port the traced server listened on, so that it is normalized away
        #[arg(long, value_name = "P")]
        port: Option<u16>,
    },
}

/// What went wrong, and the exit code it gets.
enum Failure {
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
    let cli = parse_command_line();
    let result = match cli.command {
        Command::List => {
            list();
            Ok(())
        }
        Command::Run {
            name,
            libevent,
            raw,
        } => run_one(&name, libevent, raw),
        Command::Record { out, names } => record(out, &names),
        Command::Annotate {
            bin_dir,
            check,
            names,
        } => annotate(&bin_dir, check, &names),
        Command::Normalize { file, port } => normalize(&file, port),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadName(message)) => {
            eprintln!("error: {message}\n(`trace list` describes each scenario)");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, or the exit: `--help` prints the help and exits with 0; a bad command line
/// prints clap's error and usage (and, when the scenario is missing, the scenarios) and exits
/// with 2.
fn parse_command_line() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            e.exit(); // --help: exit status 0
        }
        let _ = e.print();
        if e.kind() == ErrorKind::MissingRequiredArgument
            && e.get(ContextKind::InvalidArg)
                .is_some_and(|arg| arg.to_string().contains("<NAME>"))
        {
            eprintln!("{}", scenario_names());
        }
        std::process::exit(2)
    })
}

/// The one-line list of scenario names.
fn scenario_names() -> String {
    let names: Vec<&str> = scenarios().iter().map(|s| s.name).collect();
    format!(
        "The scenarios are: {} (`trace list` describes each).",
        names.join(", ")
    )
}

/// `trace list`.
fn list() {
    let width = scenarios().iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in scenarios() {
        println!("{:width$}  {}", s.name, s.description);
    }
}

/// `trace run NAME [--libevent] [--raw]`.
fn run_one(name: &str, libevent: bool, raw: bool) -> Result<(), Failure> {
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
fn record(out: Option<PathBuf>, names: &[String]) -> Result<(), Failure> {
    let dir = out.unwrap_or_else(|| workspace_dir().join("traces").join("libevent"));
    let mut chosen = names
        .iter()
        .map(|name| Scenario::by_name(name))
        .collect::<Result<Vec<_>, _>>()?;
    if chosen.is_empty() {
        chosen = scenarios().iter().collect();
    }
    let versions = Versions::detect();
    let mut failed = Vec::new();
    for scenario in chosen {
        match trace(scenario, &scenario.reference_program())
            .and_then(|t| write_recorded(scenario, &t, &versions, &dir))
        {
            Ok((path, Written::Wrote)) => println!("wrote {}", path.display()),
            Ok((path, Written::Unchanged)) => println!("unchanged {}", path.display()),
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

/// `trace annotate --bin-dir DIR [--check] [NAME...]`.
fn annotate(bin_dir: &Path, check: bool, names: &[String]) -> Result<(), Failure> {
    let mut chosen = names
        .iter()
        .map(|name| Scenario::by_name(name))
        .collect::<Result<Vec<_>, _>>()?;
    if chosen.is_empty() {
        chosen = scenarios().iter().collect();
    }
    let mut failed = Vec::new();
    for scenario in chosen {
        for of in [Of::Minievent, Of::Libevent] {
            let program = match of {
                Of::Minievent => bin_dir.join(scenario.program),
                Of::Libevent => scenario.reference_program(),
            };
            let path = annotate::annotated_path(scenario, of);
            let shown = path
                .strip_prefix(workspace_dir())
                .unwrap_or(&path)
                .display()
                .to_string();
            let result = annotate::annotate_scenario(scenario, of, &program).and_then(|text| {
                if check {
                    let committed = std::fs::read_to_string(&path).unwrap_or_default();
                    if committed == text {
                        println!("ok {shown}");
                    } else {
                        eprintln!(
                            "error: {shown} is out of date: run `just annotate {}`",
                            scenario.name
                        );
                        failed.push(format!("{} ({})", scenario.name, of.name()));
                    }
                    return Ok(());
                }
                std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
                    .and_then(|()| std::fs::write(&path, text))
                    .map_err(|e| TraceError::io(format!("writing {shown}"), e))?;
                println!("wrote {shown}");
                Ok(())
            });
            if let Err(e) = result {
                eprintln!("error: {} ({}): {e}", scenario.name, of.name());
                failed.push(format!("{} ({})", scenario.name, of.name()));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Error(format!(
            "not annotated or out of date: {}",
            failed.join(", ")
        )))
    }
}

/// `trace normalize FILE [--port P]`.
fn normalize(file: &str, port: Option<u16>) -> Result<(), Failure> {
    let bytes =
        std::fs::read(file).map_err(|e| Failure::Error(format!("cannot read {file}: {e}")))?;
    let text = minievent_traces::parse::text_of(&bytes, file)?;
    print!("{}", normalize_text(text, file, port)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
