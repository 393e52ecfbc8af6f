//! `stress`: the load test of an echo server (the backend of `just stress NAME`).
//!
//! ```text
//! stress NAME [--libevent] [--debug] [--conns N] [--max-size BYTES] [--slow PCT] [--late PCT]
//!             [--aborts PCT] [--seed S] [--deadline SECS]
//! stress --program PATH [options]
//! ```
//!
//! NAME is `echo_event` or `echo_bufferevent`: minievent's release build
//! (`target/release/NAME`; `--debug`: `target/debug/NAME`), or with `--libevent` the C reference
//! (`target/reference/NAME`, whose seed bugs make it lose bytes). The server is started on a free
//! port; hundreds of connections then send random payloads (up to several MiB), half-close, and
//! check every byte of the echo (see `minievent_traces::load`). Exit status 0 when every byte came
//! back and the server's open fds returned to their count before the run; 1 otherwise, with every
//! loss listed; 2 for a bad command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use minievent_traces::load::{StressConfig, human, stress};
use minievent_traces::server::{Server, Under};
use minievent_traces::{reference_program, target_dir};

const USAGE: &str =
    "usage: stress NAME [--libevent] [--debug] [--conns N] [--max-size BYTES] [--slow PCT] \
                     [--late PCT] [--aborts PCT] [--seed S] [--deadline SECS]
       stress --program PATH [options]";

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (program, config) = match parse(std::env::args().skip(1).collect()) {
        Ok(parsed) => parsed,
        Err(why) => {
            eprintln!("error: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut server = match Server::start(&program, Under::Nothing) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "stress: {} connections (up to {} each; {}% slow, {}% late, {}% aborting readers; seed {}) \
         against {} on port {}",
        config.conns,
        human(config.max_size as u64),
        config.slow_percent,
        config.late_percent,
        config.abort_percent,
        config.seed,
        program.display(),
        server.port
    );
    match stress(&mut server, &config) {
        Ok(report) => {
            println!(
                "ok: {} connections echoed every byte ({} in all) and {} aborted, in {:.1} s; \
                 server fds {} before, {} after",
                report.complete,
                human(report.bytes),
                report.aborted,
                report.elapsed.as_secs_f64(),
                report.fds.0,
                report.fds.1
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("error: {problems}");
            ExitCode::FAILURE
        }
    }
}

/// The program to run and the run's shape.
fn parse(args: Vec<String>) -> Result<(PathBuf, StressConfig), String> {
    let mut config = StressConfig::default();
    let (mut name, mut program) = (None, None);
    let (mut libevent, mut debug) = (false, false);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or_else(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--libevent" => libevent = true,
            "--debug" => debug = true,
            "--program" => program = Some(PathBuf::from(value("a path")?)),
            "--conns" => config.conns = number(&arg, &value("a number")?)?,
            "--max-size" => config.max_size = number(&arg, &value("a size in bytes")?)?,
            "--slow" => config.slow_percent = percent(&arg, &value("a percentage")?)?,
            "--late" => config.late_percent = percent(&arg, &value("a percentage")?)?,
            "--aborts" => config.abort_percent = percent(&arg, &value("a percentage")?)?,
            "--seed" => config.seed = number(&arg, &value("a number")?)? as u64,
            "--deadline" => {
                config.deadline = Duration::from_secs(number(&arg, &value("seconds")?)? as u64)
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ if name.is_some() => return Err("give one server name".into()),
            other => name = Some(other.to_string()),
        }
    }
    if config.slow_percent + config.late_percent + config.abort_percent > 100 {
        return Err("--slow, --late and --aborts add up to more than 100".into());
    }
    let program = match (program, name) {
        (Some(path), None) => path,
        (None, Some(name)) if libevent => reference_program(&name),
        (None, Some(name)) => target_dir()
            .join(if debug { "debug" } else { "release" })
            .join(name),
        (Some(_), Some(_)) => return Err("give a NAME or --program, not both".into()),
        (None, None) => return Err("which server? echo_event or echo_bufferevent".into()),
    };
    Ok((program, config))
}

fn number(flag: &str, text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{flag}: `{text}` is not a number"))
}

fn percent(flag: &str, text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("{flag}: `{text}` is not a percentage (0 to 100)")),
    }
}
