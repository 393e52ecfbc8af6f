//! `bench`: minievent's echo servers against libevent's, in one run (the backend of `just bench`).
//!
//! ```text
//! bench [--conns N] [--size BYTES] [--seconds S] [--rounds R] [--counted M] [NAME...]
//! ```
//!
//! Needs minievent's release build (`cargo build --release --bins`) and the C references
//! (`just reference`); `just bench` builds both first. See `minievent_traces::bench` for what is
//! measured and how. `bench --help` explains each option. Exit status 0 with the report on stdout,
//! 1 on an error, 2 for a bad command line.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::PossibleValuesParser;
use minievent_traces::bench::{BenchConfig, run};

/// The echo servers `bench` can measure (each exists in minievent and as a C reference).
const SERVERS: [&str; 3] = ["echo_event", "echo_bufferevent", "echo_listener"];

/// Measure minievent's echo servers (release build) against libevent's (C, -O2) in one run.
///
/// For each server, lock-step clients on loopback send a message, wait for its echo and send the
/// next; the runs of both sides alternate, so a drift of the machine hits both alike. The report
/// gives messages per second, the server's CPU time per message and, from one more run under
/// `strace -c`, the syscalls per message. Needs `cargo build --release --bins` and
/// `just reference`; `just bench` does both first.
#[derive(Parser, Debug)]
#[command(
    name = "bench",
    after_help = "Exit status: 0 with the report on stdout, 1 on an error, 2 for a bad command \
                  line."
)]
struct Cli {
    /// Concurrent connections, each in lock-step
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = positive,
        default_value_t = defaults().conns as u64
    )]
    conns: u64,
    /// Bytes per message
    #[arg(
        long,
        value_name = "BYTES",
        allow_negative_numbers = true,
        value_parser = positive,
        default_value_t = defaults().size as u64
    )]
    size: u64,
    /// How long each timed run lasts, in seconds
    #[arg(
        long,
        value_name = "S",
        allow_negative_numbers = true,
        value_parser = positive,
        default_value_t = defaults().duration.as_secs()
    )]
    seconds: u64,
    /// Timed runs per server and side (their order alternates)
    #[arg(
        long,
        value_name = "R",
        allow_negative_numbers = true,
        value_parser = positive,
        default_value_t = defaults().rounds as u64
    )]
    rounds: u64,
    /// Messages per connection in the run under `strace -c` that counts syscalls
    #[arg(
        long,
        value_name = "M",
        allow_negative_numbers = true,
        value_parser = positive,
        default_value_t = defaults().counted as u64
    )]
    counted: u64,
    /// The echo servers to measure (default: both)
    #[arg(value_name = "NAME", value_parser = PossibleValuesParser::new(SERVERS))]
    servers: Vec<String>,
}

fn defaults() -> BenchConfig {
    BenchConfig::default()
}

/// A whole number above 0, for clap.
fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a positive whole number")),
    }
}

/// A count from the command line as a `usize`.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn main() -> ExitCode {
    // A bad command line: clap prints the error and the usage, and exits with 2.
    let cli = Cli::parse();
    let mut config = BenchConfig {
        conns: count(cli.conns),
        size: count(cli.size),
        duration: Duration::from_secs(cli.seconds),
        rounds: count(cli.rounds),
        counted: count(cli.counted),
        ..BenchConfig::default()
    };
    if !cli.servers.is_empty() {
        config.servers = cli.servers;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_default_servers_are_the_ones_accepted() {
        assert_eq!(BenchConfig::default().servers, SERVERS);
    }
}
