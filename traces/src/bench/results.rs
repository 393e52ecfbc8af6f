//! The results as a CSV file, one row per point, side and metric, and the Markdown made from
//! it: one table per benchmark (`pipes.txt`, ...) and `about.txt` (how the file was made). The book includes these
//! files; its numbers are never typed.
//!
//! ```text
//! bench,variant,backend,size,side,metric,median,min,max,samples
//! pipes,-,epoll,1000,minievent,cpu_ns_per_op,2012.5,1980.1,2100.7,3
//! pipes,-,epoll,1000,ratio,cpu_ns_per_op,1.04,1.01,1.09,3
//! ```
//!
//! `side` is `minievent`, `libevent`, or `ratio` (minievent / libevent, round by round).

use std::time::Duration;

use super::{BenchConfig, Point, minutes, spread};

/// What a row measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Wall-clock ns per operation.
    WallNsPerOp,
    /// CPU ns per operation (the echo servers: the server's, per message).
    CpuNsPerOp,
    /// Messages per second.
    MessagesPerSec,
    /// Syscalls per operation.
    SyscallsPerOp,
    /// User-space instructions per operation.
    InstructionsPerOp,
    /// Resident bytes per idle connection.
    RssBytesPerConn,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 6] = [
        Metric::MessagesPerSec,
        Metric::WallNsPerOp,
        Metric::CpuNsPerOp,
        Metric::SyscallsPerOp,
        Metric::InstructionsPerOp,
        Metric::RssBytesPerConn,
    ];

    /// Its name in the CSV file.
    pub fn name(self) -> &'static str {
        match self {
            Metric::WallNsPerOp => "wall_ns_per_op",
            Metric::CpuNsPerOp => "cpu_ns_per_op",
            Metric::MessagesPerSec => "messages_per_s",
            Metric::SyscallsPerOp => "syscalls_per_op",
            Metric::InstructionsPerOp => "instructions_per_op",
            Metric::RssBytesPerConn => "rss_bytes_per_conn",
        }
    }

    /// Its column heading.
    fn heading(self) -> &'static str {
        match self {
            Metric::WallNsPerOp => "wall ns/op",
            Metric::CpuNsPerOp => "CPU ns/op",
            Metric::MessagesPerSec => "messages/s",
            Metric::SyscallsPerOp => "syscalls/op",
            Metric::InstructionsPerOp => "instructions/op",
            Metric::RssBytesPerConn => "bytes per idle connection",
        }
    }

    /// A time (which drifts with the machine), as opposed to a count.
    pub fn is_timed(self) -> bool {
        matches!(
            self,
            Metric::WallNsPerOp | Metric::CpuNsPerOp | Metric::MessagesPerSec
        )
    }
}

/// One line of the CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Benchmark name.
    pub bench: String,
    /// Variant (`-` when it has none).
    pub variant: String,
    /// Backend name.
    pub backend: String,
    /// Size (socketpairs, timers, connections).
    pub size: u64,
    /// `minievent`, `libevent` or `ratio`.
    pub side: String,
    /// What is measured.
    pub metric: Metric,
    /// Median of the samples.
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// How many samples (rounds).
    pub samples: usize,
}

const HEADER: &str = "bench,variant,backend,size,side,metric,median,min,max,samples";

impl Row {
    /// The row of `values` (not empty) measured at `point`.
    pub fn new(point: &Point, side: &str, metric: Metric, values: &[f64]) -> Row {
        let (median, min, max) = spread(values);
        Row {
            bench: point.bench.name().into(),
            variant: point.variant.into(),
            backend: point.backend.name().into(),
            size: point.size,
            side: side.into(),
            metric,
            median,
            min,
            max,
            samples: values.len(),
        }
    }

    /// The order of rows in the file.
    pub fn key(&self) -> (String, String, String, u64, Metric, String) {
        (
            self.bench.clone(),
            self.variant.clone(),
            self.backend.clone(),
            self.size,
            self.metric,
            self.side.clone(),
        )
    }
}

/// The CSV text of `rows`, header first.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.bench,
            r.variant,
            r.backend,
            r.size,
            r.side,
            r.metric.name(),
            r.median,
            r.min,
            r.max,
            r.samples
        ));
    }
    out
}

/// The rows of a CSV file written by [`to_csv`]; an error names the line that is wrong.
pub fn parse_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, HEADER)) => {}
        other => {
            return Err(format!(
                "line 1 is {:?}, not the header {HEADER:?}",
                other.map(|(_, l)| l).unwrap_or("")
            ));
        }
    }
    lines
        .map(|(i, line)| {
            let wrong = |what: &str| format!("line {}: {what} in {line:?}", i + 1);
            let f: Vec<&str> = line.split(',').collect();
            let [
                bench,
                variant,
                backend,
                size,
                side,
                metric,
                median,
                min,
                max,
                samples,
            ] = f[..]
            else {
                return Err(wrong("not 10 fields"));
            };
            let number = |s: &str| s.parse::<f64>().map_err(|_| wrong("a bad number"));
            Ok(Row {
                bench: bench.into(),
                variant: variant.into(),
                backend: backend.into(),
                size: size.parse().map_err(|_| wrong("a bad size"))?,
                side: side.into(),
                metric: Metric::ALL
                    .into_iter()
                    .find(|m| m.name() == metric)
                    .ok_or_else(|| wrong("an unknown metric"))?,
                median: number(median)?,
                min: number(min)?,
                max: number(max)?,
                samples: samples.parse().map_err(|_| wrong("a bad sample count"))?,
            })
        })
        .collect()
}

/// A whole number, thousands apart: `12 345` (with a thin space).
pub fn whole(n: u64) -> String {
    group(&n.to_string())
}

/// Digits grouped by three from the right with thin spaces; a sign or fraction stays as it is.
fn group(int: &str) -> String {
    let digits: Vec<char> = int.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            grouped.push('\u{2009}');
        }
        grouped.push(*c);
    }
    grouped
}

/// A number with three significant digits or so: `0.021`, `3.00`, `41.7`, `1 234`, `12 345`.
pub fn number(x: f64) -> String {
    let a = x.abs();
    let text = if a == 0.0 {
        "0".to_string()
    } else if a < 0.1 {
        format!("{x:.3}")
    } else if a < 10.0 {
        format!("{x:.2}")
    } else if a < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let grouped = group(int);
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

/// One Markdown table per benchmark, named by it: a row per variant, backend and size, a
/// column per metric and side (with the ratio and its range for timed metrics).
pub fn tables(rows: &[Row]) -> Vec<(String, String)> {
    let mut benches: Vec<&str> = rows.iter().map(|r| r.bench.as_str()).collect();
    benches.dedup();
    benches
        .into_iter()
        .map(|bench| {
            let of: Vec<&Row> = rows.iter().filter(|r| r.bench == bench).collect();
            (bench.to_string(), table(&of))
        })
        .collect()
}

fn table(rows: &[&Row]) -> String {
    let metrics: Vec<Metric> = Metric::ALL
        .into_iter()
        .filter(|m| rows.iter().any(|r| r.metric == *m))
        .collect();
    let unit = super::Bench::from_name(&rows[0].bench)
        .map(|b| b.size_unit())
        .unwrap_or("size");
    // A column that is the same on every row (no variant; epoll only) says nothing.
    let varies = |f: fn(&Row) -> &str| rows.iter().any(|r| f(r) != f(rows[0]));
    let (by_variant, by_backend) = (varies(|r| &r.variant), varies(|r| &r.backend));
    let mut head = Vec::new();
    if by_variant {
        head.push("variant".to_string());
    }
    if by_backend {
        head.push("backend".to_string());
    }
    head.push(unit.to_string());
    for m in &metrics {
        head.push(format!("{} minievent", m.heading()));
        head.push(format!("{} libevent", m.heading()));
        if m.is_timed() {
            head.push(format!("{} ratio (rounds)", m.heading()));
        }
    }
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    let mut points: Vec<(&str, &str, u64)> = rows
        .iter()
        .map(|r| (r.variant.as_str(), r.backend.as_str(), r.size))
        .collect();
    points.dedup();
    let mut seen = Vec::new();
    for p in points {
        if seen.contains(&p) {
            continue;
        }
        seen.push(p);
        let cell = |m: Metric, side: &str| {
            rows.iter()
                .find(|r| {
                    (r.variant.as_str(), r.backend.as_str(), r.size) == p
                        && r.metric == m
                        && r.side == side
                })
                .map(|r| match side {
                    "ratio" => format!("×{:.2} ({:.2}–{:.2})", r.median, r.min, r.max),
                    _ => number(r.median),
                })
                .unwrap_or_else(|| "—".into())
        };
        let mut cells = Vec::new();
        if by_variant {
            cells.push(format!("`{}`", p.0));
        }
        if by_backend {
            cells.push(p.1.to_string());
        }
        cells.push(whole(p.2));
        for m in &metrics {
            cells.push(cell(*m, "minievent"));
            cells.push(cell(*m, "libevent"));
            if m.is_timed() {
                cells.push(cell(*m, "ratio"));
            }
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// `about.txt`: how the results were made (the settings, the machine, how long it took) and
/// what was skipped.
pub fn about(config: &BenchConfig, took: Duration, notes: &[String]) -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut out = format!(
        "Made by `bench` with {} timed round(s) (the order of the two sides alternating), {} \
         runs per process for the programs, {} s per echo run and {} counted messages per \
         connection, on a machine with {cpus} CPU(s); the whole measurement took {}.\n",
        config.rounds,
        config.runs,
        config.duration.as_secs_f64(),
        config.counted,
        minutes(took),
    );
    if config.quick {
        out.push_str("\n**A `--quick` run: a check that everything runs, not a measurement.**\n");
    }
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Backend, Bench};

    fn point() -> Point {
        Point {
            bench: Bench::Timers,
            variant: "common",
            backend: Backend::Epoll,
            size: 1000,
        }
    }

    #[test]
    fn csv_reads_back_what_it_wrote() {
        let rows = vec![
            Row::new(&point(), "minievent", Metric::CpuNsPerOp, &[3.5, 1.25, 2.0]),
            Row::new(&point(), "ratio", Metric::CpuNsPerOp, &[1.5]),
        ];
        assert_eq!(rows[0].median, 2.0);
        assert_eq!((rows[0].min, rows[0].max, rows[0].samples), (1.25, 3.5, 3));
        assert_eq!(parse_csv(&to_csv(&rows)).unwrap(), rows);
    }

    #[test]
    fn bad_csv_names_the_line() {
        let e = parse_csv(&format!(
            "{HEADER}\ntimers,common,epoll,10,libevent,x,1,1,1,1\n"
        ));
        assert!(e.unwrap_err().starts_with("line 2: an unknown metric"));
        assert!(parse_csv("bench\n").unwrap_err().contains("not the header"));
    }

    #[test]
    fn numbers_keep_three_digits() {
        assert_eq!(number(0.0213), "0.021");
        assert_eq!(number(3.0), "3.00");
        assert_eq!(number(41.72), "41.7");
        assert_eq!(number(12345.0), "12\u{2009}345");
    }

    #[test]
    fn a_table_has_a_ratio_column_for_times_only() {
        let rows = vec![
            Row::new(&point(), "minievent", Metric::CpuNsPerOp, &[20.0]),
            Row::new(&point(), "libevent", Metric::CpuNsPerOp, &[10.0]),
            Row::new(&point(), "ratio", Metric::CpuNsPerOp, &[2.0]),
            Row::new(&point(), "minievent", Metric::SyscallsPerOp, &[0.0]),
        ];
        let t = &tables(&rows)[0];
        assert_eq!(t.0, "timers");
        // One variant and one backend: no column for either.
        assert!(
            t.1.starts_with("| timers | CPU ns/op minievent |"),
            "{}",
            t.1
        );
        assert!(
            t.1.contains("| 1\u{2009}000 | 20.0 | 10.0 | ×2.00 (2.00–2.00) | 0 | — |"),
            "{}",
            t.1
        );
        assert!(!t.1.contains("syscalls/op ratio"));
    }
}
