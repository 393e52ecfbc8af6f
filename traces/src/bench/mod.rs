//! `just bench`: minievent against libevent 2.1.12 on libevent's own benchmarks, in one run.
//!
//! The benchmarks ([`Bench`]):
//!
//! - `pipes` — libevent's test/bench.c: writes chained through read callbacks over N
//!   socketpairs, one active at a time (`bench_pipes`, [`programs`]);
//! - `cascade` — test/bench_cascade.c: one byte through a chain of N one-shot events
//!   (`bench_cascade`);
//! - `timers` — N pending timeouts re-added, in the min-heap or on one common timeout
//!   (`bench_timers`);
//! - `echo` — the echo servers under lock-step clients at several connection counts, faithful
//!   and `--beyond` ([`echo`]);
//! - `rss` — the echo servers' memory per idle connection.
//!
//! Every program exists twice: in Rust on minievent (release build, `src/bin/`) and in C on
//! libevent (`-O2`, `traces/reference/`). Each timed measurement runs both, minievent first in
//! even rounds and libevent first in odd ones, so a drift of the shared machine hits both
//! alike; the result is the median of the rounds, with their spread. Times drift; two counts do
//! not, and are the figures to compare ([`count`]): syscalls per operation (`strace -f -c`) and
//! user-space instructions per operation (callgrind's `Ir`), each the difference between two
//! work sizes divided by the difference in work, so that start-up and set-up cancel out.
//!
//! The results go to a CSV file ([`results`]), Markdown tables and SVG plots ([`plot`]), all
//! made from the CSV file as read back, so the book's numbers are exactly the file's. The
//! Markdown files are named `.txt` (`pipes.txt`, `about.txt`): the book includes them into its
//! chapter, and a `.md` file under book/src would be taken for a page of its own.

pub mod count;
pub mod echo;
pub mod plot;
pub mod programs;
pub mod results;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::scenario::{reference_program, target_dir};
use results::{Metric, Row};

/// One benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bench {
    /// libevent's test/bench.c: `bench_pipes`.
    Pipes,
    /// libevent's test/bench_cascade.c: `bench_cascade`.
    Cascade,
    /// Re-adding pending timeouts: `bench_timers`.
    Timers,
    /// The echo servers' throughput, CPU and syscalls per message.
    Echo,
    /// The echo servers' memory per idle connection.
    Rss,
}

impl Bench {
    /// Every benchmark, in the order they run.
    pub const ALL: [Bench; 5] = [
        Bench::Pipes,
        Bench::Cascade,
        Bench::Timers,
        Bench::Echo,
        Bench::Rss,
    ];

    /// Its name on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Bench::Pipes => "pipes",
            Bench::Cascade => "cascade",
            Bench::Timers => "timers",
            Bench::Echo => "echo",
            Bench::Rss => "rss",
        }
    }

    /// The benchmark called `name`.
    pub fn from_name(name: &str) -> Option<Bench> {
        Bench::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What its size counts.
    pub fn size_unit(self) -> &'static str {
        match self {
            Bench::Pipes | Bench::Cascade => "socketpairs",
            Bench::Timers => "timers",
            Bench::Echo | Bench::Rss => "connections",
        }
    }

    /// Its variants: the program's mode, or the echo server and its flags.
    pub fn variants(self) -> &'static [&'static str] {
        match self {
            Bench::Pipes | Bench::Cascade => &["-"],
            Bench::Timers => &["heap", "common"],
            Bench::Echo => &[
                "echo_event",
                "echo_bufferevent",
                "echo_listener",
                "echo_bufferevent --beyond",
                "echo_listener --beyond",
            ],
            Bench::Rss => &["echo_event", "echo_bufferevent", "echo_listener"],
        }
    }

    /// Its sizes unless `--sizes` says otherwise.
    pub fn default_sizes(self, quick: bool) -> Vec<u64> {
        match (self, quick) {
            // 9,000 pairs are 18,000 fds: 10,000 would need more than the common hard limit of
            // 20,000 (points that need more than the limit here are skipped with a note).
            (Bench::Pipes | Bench::Cascade, false) => vec![100, 1000, 9000],
            (Bench::Pipes | Bench::Cascade, true) => vec![100, 1000],
            (Bench::Timers, false) => vec![1000, 10_000, 100_000],
            (Bench::Timers, true) => vec![1000, 10_000],
            (Bench::Echo, false) => vec![1, 10, 50, 200],
            (Bench::Echo, true) => vec![1, 50],
            (Bench::Rss, false) => vec![10_000],
            (Bench::Rss, true) => vec![1000],
        }
    }

    /// Whether it runs on each backend (the others run on the default one, epoll).
    pub fn per_backend(self) -> bool {
        matches!(self, Bench::Pipes | Bench::Cascade)
    }
}

/// A backend, chosen on both sides with libevent's environment variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Backend {
    /// The default.
    Epoll,
    /// `EVENT_NOEPOLL=1`.
    Poll,
    /// `EVENT_NOEPOLL=1 EVENT_NOPOLL=1`.
    Select,
}

impl Backend {
    /// All three, in libevent's order of preference.
    pub const ALL: [Backend; 3] = [Backend::Epoll, Backend::Poll, Backend::Select];

    /// Its name, as `event_base_get_method` says it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Poll => "poll",
            Backend::Select => "select",
        }
    }

    /// The backend called `name`.
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The variables that make libevent and minievent choose it.
    pub fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Backend::Epoll => &[],
            Backend::Poll => &[("EVENT_NOEPOLL", "1")],
            Backend::Select => &[("EVENT_NOEPOLL", "1"), ("EVENT_NOPOLL", "1")],
        }
    }
}

/// The two builds of a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// `<target>/release/NAME`.
    Minievent,
    /// `<target>/reference/NAME`.
    Libevent,
}

impl Side {
    /// The program `name` on this side.
    pub fn program(self, name: &str) -> PathBuf {
        match self {
            Side::Minievent => target_dir().join("release").join(name),
            Side::Libevent => reference_program(name),
        }
    }

    /// Its name in the results.
    pub fn label(self) -> &'static str {
        match self {
            Side::Minievent => "minievent",
            Side::Libevent => "libevent",
        }
    }

    /// Both, minievent first in even rounds and libevent first in odd ones.
    pub fn order(round: usize) -> [Side; 2] {
        if round.is_multiple_of(2) {
            [Side::Minievent, Side::Libevent]
        } else {
            [Side::Libevent, Side::Minievent]
        }
    }
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The benchmarks.
    pub benches: Vec<Bench>,
    /// The backends of the per-backend benchmarks.
    pub backends: Vec<Backend>,
    /// The sizes, instead of each benchmark's own.
    pub sizes: Option<Vec<u64>>,
    /// Timed rounds (each runs both sides).
    pub rounds: usize,
    /// Runs inside one process of `pipes`, `cascade` and `timers` (their median is the round's).
    pub runs: usize,
    /// How long a timed echo run lasts.
    pub duration: Duration,
    /// Messages per connection in the echo runs that count syscalls.
    pub counted: usize,
    /// Count syscalls and instructions, not only time.
    pub counts: bool,
    /// Small sizes, one round: a check that everything runs, not a measurement.
    pub quick: bool,
    /// Where the results, tables and plots go.
    pub out: PathBuf,
}

impl Default for BenchConfig {
    /// Every benchmark and backend, 3 rounds of 10 runs, 2 s echo runs, counts on.
    fn default() -> BenchConfig {
        BenchConfig {
            benches: Bench::ALL.to_vec(),
            backends: Backend::ALL.to_vec(),
            sizes: None,
            rounds: 3,
            runs: 10,
            duration: Duration::from_secs(2),
            counted: 100,
            counts: true,
            quick: false,
            out: target_dir().join("bench"),
        }
    }
}

impl BenchConfig {
    /// The sizes `bench` runs at.
    pub fn sizes(&self, bench: Bench) -> Vec<u64> {
        self.sizes
            .clone()
            .unwrap_or_else(|| bench.default_sizes(self.quick))
    }

    /// The backends `bench` runs on.
    pub fn backends(&self, bench: Bench) -> Vec<Backend> {
        if bench.per_backend() {
            self.backends.clone()
        } else {
            vec![Backend::Epoll]
        }
    }
}

/// One measurement point: a benchmark's variant on a backend at a size.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    /// The benchmark.
    pub bench: Bench,
    /// Its variant ([`Bench::variants`]).
    pub variant: &'static str,
    /// The backend.
    pub backend: Backend,
    /// The size (socketpairs, timers or connections).
    pub size: u64,
}

impl Point {
    /// `pipes poll 1000 socketpairs`, for the progress lines and notes.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.series(), self.size, self.bench.size_unit())
    }

    /// `pipes poll`, `echo echo_event epoll`: the point without its size.
    pub fn series(&self) -> String {
        let variant = if self.variant == "-" {
            String::new()
        } else {
            format!(" {}", self.variant)
        };
        format!("{}{variant} {}", self.bench.name(), self.backend.name())
    }
}

/// What one step of the plan does.
#[derive(Clone, Debug)]
enum Task {
    /// One timed run of one side.
    Timed(Side),
    /// Syscalls and instructions per operation of one side.
    Counted(Side),
}

/// One step: a task at a point, in a round.
#[derive(Clone, Debug)]
struct Step {
    point: Point,
    task: Task,
    round: usize,
    /// Seconds it is expected to take, for the first estimate.
    guess: f64,
}

/// The measurements, by point, side and metric, before they become rows.
#[derive(Default)]
struct Samples {
    values: BTreeMap<(Point, &'static str, Metric), Vec<f64>>,
    notes: Vec<String>,
}

impl Samples {
    fn push(&mut self, point: &Point, side: &'static str, metric: Metric, value: f64) {
        self.values
            .entry((point.clone(), side, metric))
            .or_default()
            .push(value);
    }

    /// One row per point, side and metric: median, min, max of its samples; and for each
    /// timed metric, the ratio minievent / libevent of each round.
    fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .values
            .iter()
            .map(|((point, side, metric), v)| Row::new(point, side, *metric, v))
            .collect();
        for ((point, side, metric), mini) in &self.values {
            if *side != "minievent" || !metric.is_timed() {
                continue;
            }
            if let Some(lib) = self.values.get(&(point.clone(), "libevent", *metric)) {
                let ratios: Vec<f64> = mini.iter().zip(lib).map(|(m, l)| m / l).collect();
                rows.push(Row::new(point, "ratio", *metric, &ratios));
            }
        }
        rows.sort_by_key(Row::key);
        rows
    }
}

/// The steps of the whole measurement, and the notes on what is skipped.
fn plan(config: &BenchConfig) -> (Vec<Step>, Vec<String>) {
    let mut points = Vec::new();
    let mut skipped: Vec<(String, String, u64, &str)> = Vec::new();
    for &bench in &config.benches {
        for &variant in bench.variants() {
            for backend in config.backends(bench) {
                for size in config.sizes(bench) {
                    let point = Point {
                        bench,
                        variant,
                        backend,
                        size,
                    };
                    match skip(&point) {
                        Some(why) => skipped.push((point.series(), why, size, bench.size_unit())),
                        None => points.push(point),
                    }
                }
            }
        }
    }
    // One note per series and reason: `echo ... epoll at 1, 10 connections: skipped — ...`.
    let mut notes: Vec<String> = Vec::new();
    let mut i = 0;
    while i < skipped.len() {
        let (series, why, _, unit) = &skipped[i];
        let sizes: Vec<String> = skipped[i..]
            .iter()
            .take_while(|(s, w, _, _)| s == series && w == why)
            .map(|(_, _, size, _)| size.to_string())
            .collect();
        notes.push(format!(
            "{series} at {} {unit}: skipped — {why}",
            sizes.join(", ")
        ));
        i += sizes.len();
    }
    let mut steps = Vec::new();
    for round in 0..config.rounds {
        for point in &points {
            if point.bench == Bench::Rss && round > 0 {
                continue;
            }
            let order: Vec<Side> = Side::order(round)
                .into_iter()
                .filter(|s| sides(point).contains(s))
                .collect();
            for side in order {
                steps.push(Step {
                    point: point.clone(),
                    task: Task::Timed(side),
                    round,
                    guess: guess_timed(point, config),
                });
            }
        }
    }
    if config.counts {
        for point in points.iter().filter(|p| p.bench != Bench::Rss) {
            for side in sides(point) {
                steps.push(Step {
                    point: point.clone(),
                    task: Task::Counted(side),
                    round: 0,
                    guess: guess_counted(point, config),
                });
            }
        }
    }
    (steps, notes)
}

/// Why `point` cannot run here, if it cannot.
fn skip(point: &Point) -> Option<String> {
    let fds = fds_needed(point);
    let limit = open_files_hard_limit();
    if fds > limit {
        return Some(format!(
            "needs {fds} fds, and the hard limit on open files (`ulimit -Hn`) is {limit} here"
        ));
    }
    // Each socketpair takes two fds, after 0-2 and the backend's own.
    if point.bench == Bench::Cascade && point.backend != Backend::Epoll && point.size > 1000 {
        return Some(format!(
            "the byte takes {} passes of the loop, each handing all {} fds to the kernel: \
             quadratic, minutes per run",
            point.size, point.size
        ));
    }
    if point.backend == Backend::Select && point.size * 2 + 8 >= FD_SETSIZE {
        return Some(format!(
            "select's fd_set holds only fds below FD_SETSIZE ({FD_SETSIZE})"
        ));
    }
    let (server, flags) = echo::server_and_flags(point.variant);
    if let Some(flag) = flags.first()
        && !echo::accepts_flag(&Side::Minievent.program(server), flag)
    {
        return Some(format!(
            "{server} has no {flag} option in this build (`{server} --help` does not list it)"
        ));
    }
    None
}

/// The fds a process of `point` needs: two per socketpair (as bench.c asks for, plus 50), one
/// per connection.
fn fds_needed(point: &Point) -> u64 {
    match point.bench {
        Bench::Pipes | Bench::Cascade => point.size * 2 + 50,
        Bench::Timers => 0,
        Bench::Echo | Bench::Rss => point.size + 50,
    }
}

/// `getrlimit(RLIMIT_NOFILE)`'s hard limit: no process here can open more fds.
fn open_files_hard_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid rlimit to write into.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == -1 {
        return u64::MAX;
    }
    lim.rlim_max
}

/// select's limit: `FD_SETSIZE` of glibc.
const FD_SETSIZE: u64 = 1024;

/// The sides `point` runs on: a `--beyond` server exists only in minievent.
fn sides(point: &Point) -> Vec<Side> {
    if echo::server_and_flags(point.variant).1.is_empty() {
        vec![Side::Minievent, Side::Libevent]
    } else {
        vec![Side::Minievent]
    }
}

/// A first guess of a timed step's seconds, on an idle machine.
fn guess_timed(point: &Point, config: &BenchConfig) -> f64 {
    let (n, runs) = (point.size as f64, config.runs as f64);
    // poll and select hand every fd to the kernel on each pass: about 0.2 µs per fd.
    let scan = if point.backend == Backend::Epoll {
        0.0
    } else {
        2e-7 * n
    };
    0.05 + match point.bench {
        Bench::Echo => config.duration.as_secs_f64() + 0.2 + n * 0.002,
        Bench::Rss => 2.0 + n * 0.0005,
        Bench::Pipes => runs * programs::pipes_writes(point.size) as f64 * (8e-6 + scan),
        Bench::Cascade => runs * n * (1e-5 + scan),
        Bench::Timers => runs * n * programs::TIMERS_PASSES as f64 * 1e-7,
    }
}

/// A first guess of a counting step's seconds (strace twice, callgrind twice).
fn guess_counted(point: &Point, config: &BenchConfig) -> f64 {
    match point.bench {
        Bench::Echo => 1.0 + (point.size * config.counted as u64) as f64 * 3e-4,
        _ => 4.0 + point.size as f64 * 2e-4,
    }
}

/// Progress on stderr: the step, its round, and the time left (the first guesses, scaled by
/// how fast the done steps really went).
struct Progress {
    started: Instant,
    total_guess: f64,
    done_guess: f64,
    steps: usize,
    done: usize,
}

impl Progress {
    fn new(steps: &[Step]) -> Progress {
        Progress {
            started: Instant::now(),
            total_guess: steps.iter().map(|s| s.guess).sum(),
            done_guess: 0.0,
            steps: steps.len(),
            done: 0,
        }
    }

    fn left(&self) -> Duration {
        let remaining = self.total_guess - self.done_guess;
        let pace = if self.done_guess > 0.0 {
            self.started.elapsed().as_secs_f64() / self.done_guess
        } else {
            1.0
        };
        Duration::from_secs_f64((remaining * pace).max(0.0))
    }

    fn show(&self, step: &Step, rounds: usize) {
        let what = match step.task {
            Task::Timed(side) => format!("round {}/{rounds}, {}", step.round + 1, side.label()),
            Task::Counted(side) => format!("syscalls and instructions, {}", side.label()),
        };
        eprint!(
            "\r\x1b[K[{:>3}/{}] {} — {what} — about {} left",
            self.done + 1,
            self.steps,
            step.point.describe(),
            minutes(self.left())
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&mut self, step: &Step) {
        self.done += 1;
        self.done_guess += step.guess;
    }
}

/// `4 min 10 s`, `35 s`.
pub fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

/// The programs `config` needs that are not built, with the command that builds them.
fn missing_programs(config: &BenchConfig) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for bench in &config.benches {
        match bench {
            Bench::Pipes => names.push("bench_pipes"),
            Bench::Cascade => names.push("bench_cascade"),
            Bench::Timers => names.push("bench_timers"),
            Bench::Echo | Bench::Rss => {
                names.extend(bench.variants().iter().map(|v| echo::server_and_flags(v).0))
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    let mut missing = Vec::new();
    for name in names {
        for side in [Side::Minievent, Side::Libevent] {
            let program = side.program(name);
            if !program.is_file() {
                let build = match side {
                    Side::Minievent => "cargo build --release --bins",
                    Side::Libevent => "just _reference-bins",
                };
                missing.push(format!("{} (run `{build}`)", program.display()));
            }
        }
    }
    missing
}

/// How long the plan for `config` is expected to take, and its steps: for `--help`-like
/// estimates before anything runs.
pub fn estimate(config: &BenchConfig) -> (usize, Duration) {
    let (steps, _) = plan(config);
    let secs: f64 = steps.iter().map(|s| s.guess).sum();
    (steps.len(), Duration::from_secs_f64(secs))
}

/// Runs every step of the plan, then writes `results.csv`, the tables and the plots into
/// `config.out`; returns the paths written.
pub fn run(config: &BenchConfig) -> Result<Vec<PathBuf>, String> {
    let missing = missing_programs(config);
    if !missing.is_empty() {
        return Err(format!(
            "these programs are not built: {} — `just bench` builds them all",
            missing.join(", ")
        ));
    }
    let (steps, notes) = plan(config);
    let (n, secs) = estimate(config);
    eprintln!(
        "bench: {n} steps, about {} on an idle machine; results into {}",
        minutes(secs),
        config.out.display()
    );
    for note in &notes {
        eprintln!("note: {note}");
    }
    let mut samples = Samples {
        notes,
        ..Samples::default()
    };
    let mut progress = Progress::new(&steps);
    for step in &steps {
        progress.show(step, config.rounds);
        match step.task {
            Task::Timed(side) => timed(&step.point, side, config, &mut samples)?,
            Task::Counted(side) => counted(&step.point, side, config, &mut samples)?,
        }
        progress.finish(step);
    }
    eprintln!(
        "\r\x1b[Kbench: done in {}",
        minutes(progress.started.elapsed())
    );
    write_outputs(&samples.rows(), &samples.notes, config, &progress)
}

/// One timed step: its samples into `samples`.
fn timed(
    point: &Point,
    side: Side,
    config: &BenchConfig,
    samples: &mut Samples,
) -> Result<(), String> {
    let label = side.label();
    match point.bench {
        Bench::Pipes | Bench::Cascade | Bench::Timers => {
            let t = programs::timed(point, side, config.runs)?;
            samples.push(point, label, Metric::WallNsPerOp, t.wall_ns);
            samples.push(point, label, Metric::CpuNsPerOp, t.cpu_ns);
        }
        Bench::Echo => {
            let t = echo::timed(point, side, config.duration)?;
            samples.push(point, label, Metric::MessagesPerSec, t.rate);
            samples.push(point, label, Metric::CpuNsPerOp, t.cpu_ns);
        }
        Bench::Rss => {
            let bytes = echo::rss_per_connection(point, side)?;
            samples.push(point, label, Metric::RssBytesPerConn, bytes);
        }
    }
    Ok(())
}

/// One counting step: syscalls and (except for the echo servers) instructions per operation.
fn counted(
    point: &Point,
    side: Side,
    config: &BenchConfig,
    samples: &mut Samples,
) -> Result<(), String> {
    let label = side.label();
    match point.bench {
        Bench::Echo => {
            let per = echo::syscalls_per_message(point, side, config.counted)?;
            samples.push(point, label, Metric::SyscallsPerOp, per);
        }
        _ => {
            let (syscalls, instructions) = programs::counted(point, side)?;
            samples.push(point, label, Metric::SyscallsPerOp, syscalls);
            samples.push(point, label, Metric::InstructionsPerOp, instructions);
        }
    }
    Ok(())
}

/// Writes `results.csv` and `about.txt`, then renders the tables and plots from the CSV file
/// as read back; returns every path written.
fn write_outputs(
    rows: &[Row],
    notes: &[String],
    config: &BenchConfig,
    progress: &Progress,
) -> Result<Vec<PathBuf>, String> {
    let out = &config.out;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let csv = out.join("results.csv");
    write(&csv, &results::to_csv(rows))?;
    let about = results::about(config, progress.started.elapsed(), notes);
    let about_path = out.join("about.txt");
    write(&about_path, &about)?;
    let mut written = vec![csv, about_path];
    written.extend(render(out)?);
    Ok(written)
}

/// Renders the tables and plots of `out/results.csv` into `out`, measuring nothing (`bench
/// --replot`); returns the paths written.
pub fn render(out: &Path) -> Result<Vec<PathBuf>, String> {
    let csv = out.join("results.csv");
    let text = std::fs::read_to_string(&csv).map_err(|e| {
        format!(
            "cannot read {}: {e} (run the benchmark first: `just bench`)",
            csv.display()
        )
    })?;
    let rows = results::parse_csv(&text).map_err(|e| format!("{}: {e}", csv.display()))?;
    let mut written = Vec::new();
    for (name, table) in results::tables(&rows) {
        let path = out.join(format!("{name}.txt"));
        write(&path, &table)?;
        written.push(path);
    }
    written.extend(plot::all(&rows, out)?);
    Ok(written)
}

/// Writes `text` to `path`, or says which file could not be written.
fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The median, min and max of `values` (not empty).
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_min_max() {
        assert_eq!(spread(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(spread(&[4.0, 1.0]), (2.5, 1.0, 4.0));
    }

    #[test]
    fn sides_alternate_by_round() {
        assert_eq!(Side::order(0), [Side::Minievent, Side::Libevent]);
        assert_eq!(Side::order(1), [Side::Libevent, Side::Minievent]);
    }

    #[test]
    fn select_is_skipped_beyond_fd_setsize_only() {
        let at = |size| Point {
            bench: Bench::Pipes,
            variant: "-",
            backend: Backend::Select,
            size,
        };
        assert!(skip(&at(100)).is_none());
        assert!(skip(&at(600)).unwrap().contains("FD_SETSIZE"));
        let huge = Point {
            backend: Backend::Epoll,
            ..at(u64::MAX / 4)
        };
        assert!(skip(&huge).unwrap().contains("ulimit -Hn"));
    }

    #[test]
    fn every_name_parses_back() {
        for b in Bench::ALL {
            assert_eq!(Bench::from_name(b.name()), Some(b));
        }
        for b in Backend::ALL {
            assert_eq!(Backend::from_name(b.name()), Some(b));
        }
    }
}
