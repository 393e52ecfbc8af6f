//! The SVG plots, drawn from the rows of the CSV file with `plotters` (its SVG backend only: no
//! font library is needed, text is laid out with plotters' own estimate of glyph widths).
//! minievent's lines are solid, libevent's dashed, in the same colour.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::results::{Metric, Row};

/// One plot: which rows, which axis, which lines.
struct Plot {
    file: &'static str,
    title: &'static str,
    bench: &'static str,
    metric: Metric,
    x: &'static str,
    y: &'static str,
    /// The label of a row's line (its side is added).
    line: fn(&Row) -> String,
}

const PLOTS: [Plot; 4] = [
    Plot {
        file: "throughput.svg",
        title: "Echo throughput vs connections (lock-step, 1 KiB)",
        bench: "echo",
        metric: Metric::MessagesPerSec,
        x: "connections",
        y: "messages/s",
        line: |r| r.variant.clone(),
    },
    Plot {
        file: "scaling.svg",
        title: "bench.c: CPU per active event vs watched fds",
        bench: "pipes",
        metric: Metric::CpuNsPerOp,
        x: "socketpairs watched (one active)",
        y: "CPU ns per callback",
        line: |r| r.backend.clone(),
    },
    Plot {
        file: "syscalls.svg",
        title: "Syscalls per message: faithful vs beyond",
        bench: "echo",
        metric: Metric::SyscallsPerOp,
        x: "connections",
        y: "syscalls per message",
        line: |r| r.variant.clone(),
    },
    Plot {
        file: "timers.svg",
        title: "Re-adding a timeout: min-heap vs common timeout",
        bench: "timers",
        metric: Metric::InstructionsPerOp,
        x: "pending timers",
        y: "instructions per event_add",
        line: |r| r.variant.clone(),
    },
];

/// Draws every plot that has rows; returns the files written.
pub fn all(rows: &[Row], out: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for plot in &PLOTS {
        let path = out.join(plot.file);
        if draw(plot, rows, &path).map_err(|e| format!("drawing {}: {e}", path.display()))? {
            written.push(path);
        }
    }
    Ok(written)
}

/// The lines of `plot`: label, minievent's side or not, points sorted by x.
type Line = (String, bool, Vec<(f64, f64)>);

fn lines(plot: &Plot, rows: &[Row]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.bench == plot.bench && r.metric == plot.metric && r.side != "ratio")
    {
        let mini = r.side == "minievent";
        let label = format!("{} — {}", (plot.line)(r), r.side);
        match lines.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, _, points)) => points.push((r.size as f64, r.median)),
            None => lines.push((label, mini, vec![(r.size as f64, r.median)])),
        }
    }
    for (_, _, points) in &mut lines {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines
}

/// Draws `plot` into `path`; `false` (and no file) when no row is for it.
fn draw(plot: &Plot, rows: &[Row], path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let lines = lines(plot, rows);
    let all: Vec<(f64, f64)> = lines.iter().flat_map(|(_, _, p)| p.clone()).collect();
    if all.is_empty() {
        return Ok(false);
    }
    let x_min = all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_max = all.iter().map(|p| p.0).fold(0.0, f64::max).max(x_min * 2.0);
    let y_max = all.iter().map(|p| p.1).fold(0.0, f64::max) * 1.1 + f64::EPSILON;
    let root = SVGBackend::new(path, (860, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(plot.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc(plot.x)
        .y_desc(plot.y)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    let mut colours: Vec<String> = Vec::new();
    for (label, mini, points) in lines {
        // The same colour for a line's two sides.
        let key = label.split(" — ").next().unwrap_or(&label).to_string();
        let index = colours.iter().position(|c| *c == key).unwrap_or_else(|| {
            colours.push(key);
            colours.len() - 1
        });
        let colour = Palette99::pick(index).to_rgba();
        let style = colour.stroke_width(if mini { 3 } else { 2 });
        let legend_style = style;
        let series = if mini {
            chart.draw_series(LineSeries::new(points, style).point_size(3))?
        } else {
            chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
        };
        series
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], legend_style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(true)
}
