//! The benchmark programs `bench_pipes`, `bench_cascade` and `bench_timers` (src/bin/ on
//! minievent, traces/reference/ on libevent): their command lines, a timed run, and their
//! syscalls and instructions per operation.
//!
//! Each program prints `method NAME`, then `run WALL_NS CPU_NS OPS EXPECTED` per run
//! (src/bin/bench_common/). [`parse_output`] checks the method is the backend asked for and that
//! every run did all its work (every byte written was read, every timer re-added).

use std::process::{Command, Stdio};

use super::count::{self, Work};
use super::{Backend, Bench, Point, Side, spread};

/// The program a benchmark runs.
pub fn program(bench: Bench) -> &'static str {
    match bench {
        Bench::Pipes => "bench_pipes",
        Bench::Cascade => "bench_cascade",
        Bench::Timers => "bench_timers",
        Bench::Echo | Bench::Rss => unreachable!("the echo benchmarks run servers"),
    }
}

/// Writes chained through `bench_pipes`' callbacks per unit of work (one pair is active):
/// 1,000, fewer from 1,000 pairs on, where each is one wait over all the fds (poll and select
/// pass them all to the kernel each time), so that a run stays short; 100 at least.
pub fn pipes_writes(pairs: u64) -> u64 {
    (1_000_000 / pairs.max(1)).clamp(100, 1000)
}
/// Times `bench_timers` re-adds each timer, per unit of work.
pub const TIMERS_PASSES: u64 = 10;

/// The arguments for `scale` units of work per run, `runs` runs, and the operations a run does.
pub fn args(point: &Point, scale: u64, runs: usize) -> (Vec<String>, u64) {
    let n = point.size;
    let (mut args, ops) = match point.bench {
        Bench::Pipes => {
            let w = pipes_writes(n) * scale;
            (
                strings(&["-n", &n.to_string(), "-a", "1", "-w", &w.to_string()]),
                1 + w,
            )
        }
        Bench::Cascade => (strings(&["-n", &n.to_string()]), n),
        Bench::Timers => {
            let p = TIMERS_PASSES * scale;
            let mut a = strings(&["-n", &n.to_string(), "-p", &p.to_string()]);
            if point.variant == "common" {
                a.push("--common".into());
            }
            (a, n * p)
        }
        Bench::Echo | Bench::Rss => unreachable!("the echo benchmarks run servers"),
    };
    args.extend(strings(&["-r", &runs.to_string()]));
    (args, ops)
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The command for `point` on `side`: only fds 0-2 open, no `EVENT_*` variable but the
/// backend's.
pub fn command(point: &Point, side: Side, args: &[String]) -> Command {
    let mut c = Command::new(side.program(program(point.bench)));
    c.args(args);
    prepare(&mut c, point.backend);
    c
}

/// Makes `c` hermetic (only fds 0-2, no inherited `EVENT_*`) and selects `backend`.
pub fn prepare(c: &mut Command, backend: Backend) {
    let event_vars: Vec<_> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_string_lossy().starts_with("EVENT_"))
        .collect();
    for key in event_vars {
        c.env_remove(key);
    }
    c.envs(backend.env().iter().copied());
    c.stdin(Stdio::null());
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs in the forked child before exec and only makes syscalls
    // (close_range, or sysconf + fcntl), which are async-signal-safe.
    unsafe {
        c.pre_exec(crate::record::hermetic_fds);
    }
}

/// One run's line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    /// Wall-clock nanoseconds.
    pub wall_ns: u64,
    /// CPU nanoseconds (user + system) of the process.
    pub cpu_ns: u64,
    /// Operations done.
    pub ops: u64,
}

// ANCHOR: parse_output
/// The runs a program printed, after checking its backend is `backend` and that each run did
/// what it was asked to.
pub fn parse_output(name: &str, text: &str, backend: Backend) -> Result<Vec<Run>, String> {
    let mut lines = text.lines();
    let method = lines.next().and_then(|l| l.strip_prefix("method "));
    if method != Some(backend.name()) {
        return Err(format!(
            "{name} ran on {method:?}, not on {}: check EVENT_NOEPOLL / EVENT_NOPOLL",
            backend.name()
        ));
    }
    let mut runs = Vec::new();
    for line in lines {
        let fields: Vec<u64> = line
            .strip_prefix("run ")
            .map(|rest| rest.split(' ').filter_map(|f| f.parse().ok()).collect())
            .unwrap_or_default();
        let [wall_ns, cpu_ns, ops, expected] = fields[..] else {
            return Err(format!(
                "{name} printed {line:?}, not `run WALL CPU OPS EXPECTED`"
            ));
        };
        if ops != expected || ops == 0 {
            return Err(format!(
                "{name} did {ops} operations in a run instead of {expected}: some work was lost"
            ));
        }
        runs.push(Run {
            wall_ns,
            cpu_ns,
            ops,
        });
    }
    if runs.is_empty() {
        return Err(format!("{name} printed no run"));
    }
    Ok(runs)
}
// ANCHOR_END: parse_output

/// Runs `command` to its end; its stdout, or an error with its stderr.
pub fn output(mut command: Command, what: &str) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Nanoseconds per operation, wall and CPU: the medians of one process's runs.
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    /// Wall-clock ns per operation.
    pub wall_ns: f64,
    /// CPU ns per operation.
    pub cpu_ns: f64,
}

/// One timed process of `point` on `side`, `runs` runs.
pub fn timed(point: &Point, side: Side, runs: usize) -> Result<Timed, String> {
    let (args, _) = args(point, 1, runs);
    let what = format!("{} {}", side.label(), point.describe());
    let text = output(command(point, side, &args), &what)?;
    let runs = parse_output(&what, &text, point.backend)?;
    let per = |f: fn(&Run) -> u64| -> Vec<f64> {
        runs.iter().map(|r| f(r) as f64 / r.ops as f64).collect()
    };
    Ok(Timed {
        wall_ns: spread(&per(|r| r.wall_ns)).0,
        cpu_ns: spread(&per(|r| r.cpu_ns)).0,
    })
}

/// Syscalls and user-space instructions per operation of `point` on `side`: two work sizes,
/// the difference of their counts over the difference of their operations.
pub fn counted(point: &Point, side: Side) -> Result<(f64, f64), String> {
    // bench_cascade's work is whole runs (each makes its pairs); the others' is more writes or
    // passes in one run.
    let (small, large) = match point.bench {
        Bench::Cascade => ((1, 1), (1, 2)),
        _ => ((1, 1), (2, 1)),
    };
    let work = |(scale, runs): (u64, usize)| {
        let (args, ops) = args(point, scale, runs);
        Work {
            program: side.program(program(point.bench)),
            args,
            backend: point.backend,
            ops: ops * runs as u64,
        }
    };
    let what = format!("{} {}", side.label(), point.describe());
    let syscalls = count::syscalls_per_op(work(small), work(large), &what)?;
    let instructions = count::instructions_per_op(work(small), work(large), &what)?;
    // A fold from +0.0: `sum()` of no value is -0.0, which the CSV would print as `-0`.
    Ok((syscalls.values().fold(0.0, |a, b| a + b), instructions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_checked() {
        let good = "method poll\nrun 10 5 11 11\nrun 12 6 11 11\n";
        assert_eq!(
            parse_output("x", good, Backend::Poll).unwrap(),
            [
                Run {
                    wall_ns: 10,
                    cpu_ns: 5,
                    ops: 11
                },
                Run {
                    wall_ns: 12,
                    cpu_ns: 6,
                    ops: 11
                }
            ]
        );
        let wrong_backend = parse_output("x", good, Backend::Epoll).unwrap_err();
        assert!(wrong_backend.contains("not on epoll"), "{wrong_backend}");
        let lost = parse_output("x", "method epoll\nrun 1 1 10 11\n", Backend::Epoll);
        assert!(
            lost.unwrap_err()
                .contains("10 operations in a run instead of 11")
        );
        assert!(parse_output("x", "method epoll\n", Backend::Epoll).is_err());
        assert!(parse_output("x", "method epoll\nrun 1 2\n", Backend::Epoll).is_err());
    }

    #[test]
    fn work_sizes_give_their_operations() {
        let p = Point {
            bench: Bench::Pipes,
            variant: "-",
            backend: Backend::Epoll,
            size: 100,
        };
        assert_eq!(
            args(&p, 2, 3),
            (
                strings(&["-n", "100", "-a", "1", "-w", "2000", "-r", "3"]),
                2001
            )
        );
        let big = Point { size: 9000, ..p };
        assert_eq!(args(&big, 1, 1).1, 112);
        let t = Point {
            bench: Bench::Timers,
            variant: "common",
            size: 50,
            ..p
        };
        assert_eq!(args(&t, 1, 1).1, 500);
        assert!(args(&t, 1, 1).0.contains(&"--common".to_string()));
    }
}
