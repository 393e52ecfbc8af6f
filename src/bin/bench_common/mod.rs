//! What the benchmark programs (`bench_pipes`, `bench_cascade`, `bench_timers`) share with each
//! other and with their C twins in traces/reference/: the command line (`-n 1000 -r 25 ...`,
//! letters as in libevent's test/bench.c), the fd limit libevent's benchmarks raise, and the one
//! output line per run that `just bench` reads (traces/src/bench/programs.rs):
//!
//! ```text
//! method epoll
//! run WALL_NS CPU_NS OPS EXPECTED
//! ```
//!
//! OPS is what the run really did (callbacks that read their byte, timers re-added), EXPECTED
//! what it should have done; the harness checks they are equal.

use minievent::Base;
use std::process::ExitCode;
use std::time::Duration;

/// The options a program takes: a letter, its value, what it means (for `--help`).
pub struct Options {
    values: Vec<(char, u64, &'static str)>,
    /// Flags without a value (`--common`) that were given.
    pub flags: Vec<String>,
}

impl Options {
    /// Parses `-X VALUE` for each known letter (else its default) and each known `--flag`;
    /// `Err(ExitCode)` after printing the usage for `--help` (0) or a bad command line (2).
    pub fn parse(
        program: &str,
        about: &str,
        known: &[(char, u64, &'static str)],
        known_flags: &[(&str, &str)],
    ) -> Result<Options, ExitCode> {
        let mut opts = Options {
            values: known.to_vec(),
            flags: Vec::new(),
        };
        let usage = || {
            let mut text = format!("{about}\n\nusage: {program}");
            for (letter, default, what) in known {
                text.push_str(&format!("\n  -{letter} N   {what} (default {default})"));
            }
            for (flag, what) in known_flags {
                text.push_str(&format!("\n  --{flag}   {what}"));
            }
            text.push_str(
                "\n\nEVENT_NOEPOLL=1 / EVENT_NOPOLL=1 choose the backend, as for libevent.",
            );
            text
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                println!("{}", usage());
                return Err(ExitCode::SUCCESS);
            }
            if let Some(flag) = arg.strip_prefix("--")
                && known_flags.iter().any(|(f, _)| *f == flag)
            {
                opts.flags.push(flag.to_string());
                continue;
            }
            let letter = arg.strip_prefix('-').and_then(|l| {
                let mut chars = l.chars();
                chars.next().filter(|_| chars.next().is_none())
            });
            let slot = letter.and_then(|l| opts.values.iter_mut().find(|(k, _, _)| *k == l));
            let Some(slot) = slot else {
                eprintln!("{program}: unknown argument {arg:?}\n\n{}", usage());
                return Err(ExitCode::from(2));
            };
            match args
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&v| v > 0)
            {
                Some(v) => slot.1 = v,
                None => {
                    eprintln!("{program}: {arg} needs a whole number above 0");
                    return Err(ExitCode::from(2));
                }
            }
        }
        Ok(opts)
    }

    /// The value of `-letter`.
    pub fn get(&self, letter: char) -> usize {
        let (_, v, _) = self
            .values
            .iter()
            .find(|(k, _, _)| *k == letter)
            .expect("only known letters are asked for");
        usize::try_from(*v).unwrap_or(usize::MAX)
    }

    /// `true` when `--flag` was given.
    #[allow(dead_code, reason = "bench_timers takes a flag, the others take none")]
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

#[allow(dead_code, reason = "bench_timers opens no fd")]
/// Raises `RLIMIT_NOFILE` to `fds` (soft and hard), as libevent's bench.c does with
/// `num_pipes * 2 + 50`. Raising the hard limit needs privilege; without it the soft limit goes
/// as high as the hard one and a later `socketpair` fails with EMFILE.
pub fn raise_fd_limit(fds: u64) {
    let rl = libc::rlimit {
        rlim_cur: fds,
        rlim_max: fds,
    };
    // SAFETY: rl is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } == -1 {
        let hard = minievent::util::open_files_hard_limit();
        let rl = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
    }
}

/// This process's CPU time (user + system): `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Prints `method NAME`, the first line of the output.
pub fn print_method(base: &Base) {
    println!("method {}", base.method());
}

/// Prints one run's line: `run WALL_NS CPU_NS OPS EXPECTED`.
pub fn print_run(wall: Duration, cpu: Duration, ops: u64, expected: u64) {
    println!(
        "run {} {} {ops} {expected}",
        wall.as_nanos(),
        cpu.as_nanos()
    );
}
