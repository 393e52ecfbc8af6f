//! `bench`: minievent against libevent 2.1.12 on libevent's own benchmarks (the backend of
//! `just bench` and `just bench-book`).
//!
//! ```text
//! bench [BENCH...] [--backends LIST] [--sizes LIST] [--rounds R] [--runs N] [--seconds S]
//!       [--counted M] [--no-counts] [--quick] [--book] [--out DIR] [--estimate] [--replot]
//! ```
//!
//! See `minievent_traces::bench` for what is measured and how; `bench --help` explains each
//! option. Progress goes to stderr; the results (CSV, Markdown tables, SVG plots) to `--out`.
//! Exit status 0 when everything ran, 1 on an error, 2 for a bad command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use minievent_traces::bench::{Backend, Bench, BenchConfig, estimate, minutes, render, run};
use minievent_traces::scenario::workspace_dir;

/// Measure minievent (release build) against libevent (C, -O2) on libevent's own benchmarks.
///
/// BENCH is any of: pipes (libevent's test/bench.c: writes chained through read callbacks over
/// N socketpairs, one active), cascade (test/bench_cascade.c: one byte through N one-shot
/// events), timers (N pending timeouts re-added: min-heap vs common timeout), echo (the echo
/// servers at several connection counts, faithful and --beyond), rss (memory per idle
/// connection). The two sides alternate round by round; times are medians of the rounds, with
/// the ratio minievent/libevent; syscalls (strace -f -c) and user-space instructions (callgrind)
/// per operation are exact counts, from two work sizes. Results: results.csv, one Markdown
/// table per benchmark (.txt), about.txt and SVG plots in --out. Needs `cargo build --release --bins`
/// and `just _reference-bins`; `just bench` does both first.
#[derive(Parser, Debug)]
#[command(
    name = "bench",
    after_help = "Examples:\n  just bench --quick                 everything, small, one round (about a minute)\n  \
                  just bench pipes --backends poll,epoll --sizes 100,1000,5000\n  \
                  just bench echo --seconds 5 --rounds 5\n  \
                  just bench-book                    the book's figures into book/src/perf/\n\n\
                  Exit status: 0 when everything ran, 1 on an error, 2 for a bad command line."
)]
struct Cli {
    /// The benchmarks to run (default: all)
    #[arg(value_name = "BENCH", value_parser = parse_bench)]
    benches: Vec<Bench>,
    /// Backends for pipes and cascade, comma-separated: epoll,poll,select (select stops at
    /// FD_SETSIZE, 1024 fds; bigger sizes are skipped with a note)
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_backend)]
    backends: Vec<Backend>,
    /// Sizes for every chosen benchmark, comma-separated (socketpairs, timers or connections);
    /// default: each benchmark's own (pipes, cascade 100,1000,9000; timers
    /// 1000,10000,100000; echo 1,10,50,200; rss 10000)
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        allow_negative_numbers = true,
        value_parser = positive
    )]
    sizes: Vec<u64>,
    /// Timed rounds; each runs both sides, their order alternating
    #[arg(long, value_name = "R", allow_negative_numbers = true, allow_negative_numbers = true, value_parser = positive, default_value_t = defaults().rounds as u64)]
    rounds: u64,
    /// Runs inside one process of pipes, cascade and timers (the round takes their median)
    #[arg(long, value_name = "N", allow_negative_numbers = true, allow_negative_numbers = true, value_parser = positive, default_value_t = defaults().runs as u64)]
    runs: u64,
    /// Seconds per timed echo run
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = seconds, default_value = "2")]
    seconds: Duration,
    /// Messages per connection in the echo runs under strace that count syscalls
    #[arg(long, value_name = "M", allow_negative_numbers = true, allow_negative_numbers = true, value_parser = positive, default_value_t = defaults().counted as u64)]
    counted: u64,
    /// Time only: no strace, no callgrind
    #[arg(long)]
    no_counts: bool,
    /// Small sizes, one round, 3 runs, 0.5 s echo runs: a check that everything runs
    #[arg(long)]
    quick: bool,
    /// The book's set, into book/src/perf/, with 1 s echo runs unless --seconds says otherwise
    /// (what `just bench-book` runs)
    #[arg(long, conflicts_with = "quick")]
    book: bool,
    /// Where the results go [default: <target>/bench]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the plan's size and expected time, and exit
    #[arg(long)]
    estimate: bool,
    /// Measure nothing: redraw the tables and plots from --out's results.csv
    #[arg(long, conflicts_with = "estimate")]
    replot: bool,
}

fn defaults() -> BenchConfig {
    BenchConfig::default()
}

/// A benchmark's name, for clap.
fn parse_bench(text: &str) -> Result<Bench, String> {
    Bench::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Bench::ALL.iter().map(|b| b.name()).collect();
        format!("`{text}` is not a benchmark: use {}", names.join(", "))
    })
}

/// A backend's name, for clap.
fn parse_backend(text: &str) -> Result<Backend, String> {
    Backend::from_name(text)
        .ok_or_else(|| format!("`{text}` is not a backend: use epoll, poll or select"))
}

/// A whole number above 0, for clap.
fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a positive whole number")),
    }
}

/// Seconds above 0, maybe with a fraction (`0.5`), for clap.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "`{text}` is not a number of seconds above 0 (at most 3600)"
        )),
    }
}

/// A count from the command line as a `usize`.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The configuration the command line asks for.
fn config(cli: Cli) -> BenchConfig {
    let mut config = BenchConfig {
        rounds: count(cli.rounds),
        runs: count(cli.runs),
        duration: cli.seconds,
        counted: count(cli.counted),
        counts: !cli.no_counts,
        quick: cli.quick,
        ..BenchConfig::default()
    };
    if cli.quick {
        config.rounds = 1;
        config.runs = 3;
        config.duration = Duration::from_millis(500);
        config.counted = 20;
    }
    if cli.book {
        config.out = workspace_dir().join("book").join("src").join("perf");
        if cli.seconds == Duration::from_secs(2) {
            // 1 s echo runs keep the book's set near 15 minutes on a loaded 2-core machine.
            config.duration = Duration::from_secs(1);
        }
    }
    if !cli.benches.is_empty() {
        config.benches = cli.benches;
        config.benches.sort_unstable();
        config.benches.dedup();
    }
    if !cli.backends.is_empty() {
        config.backends = cli.backends;
        config.backends.sort_unstable();
        config.backends.dedup();
    }
    if !cli.sizes.is_empty() {
        config.sizes = Some(cli.sizes);
    }
    if let Some(out) = cli.out {
        config.out = out;
    }
    config
}

fn main() -> ExitCode {
    // A bad command line: clap prints the error and the usage, and exits with 2.
    let cli = Cli::parse();
    let (only_estimate, replot) = (cli.estimate, cli.replot);
    let config = config(cli);
    if only_estimate {
        let (steps, time) = estimate(&config);
        println!(
            "{steps} steps, about {} on an idle machine, results into {}",
            minutes(time),
            config.out.display()
        );
        return ExitCode::SUCCESS;
    }
    let result = if replot {
        render(&config.out)
    } else {
        run(&config)
    };
    match result {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nerror: {e}");
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
    fn quick_overrides_rounds_and_book_sets_the_folder() {
        let quick = config(Cli::parse_from(["bench", "--quick", "--rounds", "5"]));
        assert_eq!((quick.rounds, quick.runs), (1, 3));
        let book = config(Cli::parse_from(["bench", "--book", "pipes", "pipes"]));
        assert!(book.out.ends_with("book/src/perf"));
        assert_eq!(book.benches, [Bench::Pipes]);
    }
}
