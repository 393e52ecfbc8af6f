//! `stress`: the load tests of an echo server (the backend of `just stress NAME`); `stress
//! --help` explains every option.
//!
//! NAME is `echo_event`, `echo_bufferevent` or `echo_listener`: minievent's release build
//! (`target/release/NAME`; `--debug`: `target/debug/NAME`), or with `--libevent` the C reference
//! (`target/reference/NAME`, whose seed bugs make it lose bytes, and which exits when `accept`
//! fails for want of an fd). `--beyond` starts minievent's server with `--beyond` (its opt-in
//! "beyond libevent" mode, `BEV_OPT_MINIEVENT_EAGER`). Two cases run, one after the other (`--case` picks one):
//!
//! - **load**: the server is started on a free port; hundreds of connections then send random
//!   payloads (up to several MiB), half-close, and check every byte of the echo (see
//!   `minievent_traces::load::stress`). It passes when every byte came back and the server's open
//!   fds returned to their count before the run.
//! - **fd-exhaustion**: the server is started with `RLIMIT_NOFILE` 32 and gets 60 clients that
//!   connect and wait (see `minievent_traces::load::fd_exhaustion`). It passes when the saturated
//!   server stays under 10% of a core, logs at most 10 lines, and serves every client, every byte,
//!   once they are let go.
//!
//! Exit status 0 when every case passed; 1 otherwise, with every problem listed; 2 for a bad
//! command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};
use minievent_traces::load::{FdExhaustionConfig, StressConfig, fd_exhaustion, human, stress};
use minievent_traces::server::{Server, Under};
use minievent_traces::{reference_program, target_dir};

/// Load-test an echo server: every byte of every connection must come back.
#[derive(Parser, Debug)]
#[command(
    name = "stress",
    after_help = "Examples:\n  just stress echo_bufferevent\n  just stress echo_event --case \
                  fd-exhaustion --fd-limit 64 --waiters 200\n  just stress echo_bufferevent --beyond   \
                  (minievent's eager mode: 3 syscalls per echo)\n  just stress echo_event --libevent \
                  --case load   (the walk-through post's C server: it loses bytes)"
)]
struct Cli {
    /// The server: `echo_event`, `echo_bufferevent` or `echo_listener` (minievent's release
    /// build, unless --debug or --libevent say otherwise).
    #[arg(value_name = "NAME", required_unless_present = "program")]
    name: Option<String>,

    /// Run this program instead of a NAME (it must take `--port P` and print the echo servers'
    /// banner `NAME: listening on 127.0.0.1:P`).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["name", "libevent", "debug"])]
    program: Option<PathBuf>,

    /// Run the walk-through post's C server on real libevent (target/reference/NAME, built by `just
    /// reference`) instead of minievent's.
    #[arg(long)]
    libevent: bool,

    /// Run minievent's debug build (target/debug/NAME) instead of the release build.
    #[arg(long, conflicts_with = "libevent")]
    debug: bool,

    /// Start the server with `--beyond`: minievent's opt-in "beyond libevent" mode
    /// (`BEV_OPT_MINIEVENT_EAGER`; echo_bufferevent and echo_listener take it).
    #[arg(long, conflicts_with = "libevent")]
    beyond: bool,

    /// Which case to run: `load`, `fd-exhaustion`, or `all` (both, load first).
    #[arg(long, value_enum, default_value_t = Case::All)]
    case: Case,

    /// The walk-through post of the run: payloads, sizes and reader kinds (both cases).
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,

    /// Connections, all connected first and then run at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 300,
        help_heading = "Load case"
    )]
    conns: usize,

    /// The largest payload of a connection, in bytes (sizes are drawn from 0 up to it: 60% up to
    /// 64 KiB, 30% up to 1 MiB, 10% up to this).
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20, help_heading = "Load case")]
    max_size: usize,

    /// Per cent of the readers that are slow (4 KiB reads with a 1 ms pause): the server's
    /// writes come up short and it must keep the rest.
    #[arg(long, value_name = "PCT", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(0..=100), help_heading = "Load case")]
    slow: u64,

    /// Per cent of the readers that are late (they read only once their writer is done, or after
    /// 300 ms).
    #[arg(long, value_name = "PCT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=100), help_heading = "Load case")]
    late: u64,

    /// Per cent of the connections that abort: they close after sending half, without reading,
    /// so the server's next write fails.
    #[arg(long, value_name = "PCT", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=100), help_heading = "Load case")]
    aborts: u64,

    /// The whole load case must end within this many seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 180,
        help_heading = "Load case"
    )]
    deadline: u64,

    /// The server's RLIMIT_NOFILE: how many fds it may have open, its own 7 or so included.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 32,
        help_heading = "Fd-exhaustion case"
    )]
    fd_limit: u64,

    /// Clients that connect and wait: more than the server has fds for. Once the server is out
    /// of fds they are let go, and each must get its payload (up to 64 KiB) back.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 60,
        help_heading = "Fd-exhaustion case"
    )]
    waiters: usize,

    /// How long, in seconds, the saturated server's CPU time (utime + stime) is measured.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 2.0,
        help_heading = "Fd-exhaustion case"
    )]
    cpu_window: f64,

    /// The most CPU the saturated server may use over that window, in per cent of one core: a
    /// server that retries accept on a listener that stays readable uses close to 100.
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 10.0,
        help_heading = "Fd-exhaustion case"
    )]
    max_cpu: f64,

    /// The most lines the server may write to stderr in the whole case (a line per failed accept
    /// is tens of thousands a second).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        help_heading = "Fd-exhaustion case"
    )]
    max_log_lines: usize,
}

/// The cases `--case` picks from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Case {
    /// Hundreds of connections, payloads up to MiBs, slow, late and aborting readers.
    Load,
    /// A server limited to a few fds, more clients than it can hold.
    FdExhaustion,
    /// Both, load first.
    All,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.slow + cli.late + cli.aborts > 100 {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--slow, --late and --aborts add up to more than 100",
            )
            .exit();
    }
    if !(cli.cpu_window > 0.0 && cli.cpu_window.is_finite()) {
        Cli::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                "--cpu-window must be a positive number of seconds",
            )
            .exit();
    }
    let program = match (&cli.program, &cli.name) {
        (Some(path), _) => path.clone(),
        (None, Some(name)) if cli.libevent => reference_program(name),
        (None, Some(name)) => target_dir()
            .join(if cli.debug { "debug" } else { "release" })
            .join(name),
        (None, None) => unreachable!("clap requires NAME unless --program is given"),
    };
    let mut ok = true;
    if matches!(cli.case, Case::Load | Case::All) {
        ok &= load_case(&cli, &program);
    }
    if matches!(cli.case, Case::FdExhaustion | Case::All) {
        ok &= fd_exhaustion_case(&cli, &program);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The arguments the server gets after `--port P`.
fn server_args(cli: &Cli) -> Vec<String> {
    if cli.beyond {
        vec!["--beyond".to_string()]
    } else {
        Vec::new()
    }
}

/// The load case; `true` when it passed.
fn load_case(cli: &Cli, program: &std::path::Path) -> bool {
    let config = StressConfig {
        conns: cli.conns,
        max_size: cli.max_size,
        slow_percent: cli.slow,
        late_percent: cli.late,
        abort_percent: cli.aborts,
        seed: cli.seed,
        deadline: Duration::from_secs(cli.deadline),
        ..StressConfig::default()
    };
    let mut server = match Server::start_with_args(program, Under::Nothing, &server_args(cli)) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return false;
        }
    };
    println!(
        "stress: {} connections (up to {} each; {}% slow, {}% late, {}% aborting readers; seed {}) \
         against {}{} on port {}",
        config.conns,
        human(config.max_size as u64),
        config.slow_percent,
        config.late_percent,
        config.abort_percent,
        config.seed,
        program.display(),
        if cli.beyond { " --beyond" } else { "" },
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
            true
        }
        Err(problems) => {
            eprintln!("error: {problems}");
            false
        }
    }
}

/// The fd-exhaustion case; `true` when it passed.
fn fd_exhaustion_case(cli: &Cli, program: &std::path::Path) -> bool {
    let config = FdExhaustionConfig {
        fd_limit: cli.fd_limit,
        clients: cli.waiters,
        window: Duration::from_secs_f64(cli.cpu_window),
        max_cpu_percent: cli.max_cpu,
        max_log_lines: cli.max_log_lines,
        seed: cli.seed,
        server_args: server_args(cli),
        ..FdExhaustionConfig::default()
    };
    println!(
        "stress: fd exhaustion: {} clients against {}{} limited to {} fds (CPU measured over \
         {:.1} s, at most {}%; at most {} lines on stderr)",
        config.clients,
        program.display(),
        if cli.beyond { " --beyond" } else { "" },
        config.fd_limit,
        config.window.as_secs_f64(),
        config.max_cpu_percent,
        config.max_log_lines
    );
    match fd_exhaustion(program, &config) {
        Ok(report) => {
            for line in &report.log {
                println!("  server: {line}");
            }
            println!("ok: {}", report.summary(&config));
            true
        }
        Err(problems) => {
            eprintln!("error: {problems}");
            false
        }
    }
}
