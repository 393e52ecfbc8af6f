//! `bench`: minievent's echo servers against libevent's, in one run (the backend of `just bench`).
//!
//! ```text
//! bench [--conns N] [--size BYTES] [--seconds S] [--rounds R] [--counted M] [NAME...]
//! ```
//!
//! Needs minievent's release build (`cargo build --release --bins`) and the C references
//! (`just reference`); `just bench` builds both first. See `minievent_traces::bench` for what is
//! measured and how. Exit status 0 with the report on stdout, 1 on an error, 2 for a bad command
//! line.

use std::process::ExitCode;
use std::time::Duration;

use minievent_traces::bench::{BenchConfig, run};

const USAGE: &str =
    "usage: bench [--conns N] [--size BYTES] [--seconds S] [--rounds R] [--counted M] [NAME...]";

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("error: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: Vec<String>) -> Result<BenchConfig, String> {
    let mut config = BenchConfig::default();
    let mut names = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            let text = args.next().ok_or_else(|| format!("{arg} needs a number"))?;
            match text.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{arg}: `{text}` is not a positive number")),
            }
        };
        match arg.as_str() {
            "--conns" => config.conns = value()? as usize,
            "--size" => config.size = value()? as usize,
            "--seconds" => config.duration = Duration::from_secs(value()?),
            "--rounds" => config.rounds = value()? as usize,
            "--counted" => config.counted = value()? as usize,
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            name => names.push(name.to_string()),
        }
    }
    if !names.is_empty() {
        config.servers = names;
    }
    Ok(config)
}
