//! The latency charts: round trips over time (the learner's commands and
//! the background probe), their histogram with p50/p95/p99, and N reads
//! three ways. Every number is the server's round trip to the sandbox
//! (network + Redis), not Redis's own execution time.

use super::bars::{self, Bar};
use super::plot::{err, LegendItem, Mark, Plot};
use crate::sim_state::{Comparison, LatencySample};
use plotters::prelude::*;

/// The value below which `p` percent of the sorted samples fall.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Round trips over the last minute.
pub fn draw_series(
    canvas: web_sys::HtmlCanvasElement,
    samples: &[LatencySample],
) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let end = samples.last().map_or(10.0, |s| s.t);
    let start = (end - 60.0).max(samples.first().map_or(0.0, |s| s.t));
    let shown: Vec<_> = samples.iter().filter(|s| s.t >= start).collect();
    let max_y = shown.iter().map(|s| s.micros).max().unwrap_or(1_000) as f64 * 1.15;
    let probe_color = plot.palette.series[1];
    let command_color = plot.palette.series[0];
    let area = plot.header(
        "Round trip from the server to your Redis (network + Redis)",
        &[
            LegendItem::new("probe (PING every 100 ms)", Mark::Line(probe_color)),
            LegendItem::new("your commands", Mark::Dot(command_color)),
        ],
    )?;
    let mut chart = plot.chart(
        &area,
        start..(end + 1.0).max(start + 10.0),
        0f64..max_y.max(100.0),
        "time (s)",
        "round trip (µs)",
    )?;
    chart
        .draw_series(LineSeries::new(
            shown
                .iter()
                .filter(|s| s.probe)
                .map(|s| (s.t, s.micros as f64)),
            plot.stroke(probe_color, 2.0),
        ))
        .map_err(err)?;
    let r = plot.px(4.0);
    chart
        .draw_series(
            shown
                .iter()
                .filter(|s| !s.probe)
                .map(|s| Circle::new((s.t, s.micros as f64), r, command_color.filled())),
        )
        .map_err(err)?;
    plot.present()
}

/// A histogram of all samples with the p50, p95 and p99 marked.
pub fn draw_histogram(
    canvas: web_sys::HtmlCanvasElement,
    samples: &[LatencySample],
) -> Result<(), String> {
    const BINS: usize = 30;
    let plot = Plot::prepare(canvas)?;
    let palette = &plot.palette;
    let mut sorted: Vec<u64> = samples.iter().map(|s| s.micros).collect();
    sorted.sort_unstable();
    let p99 = percentile(&sorted, 99.0).max(100);
    let top = (p99 as f64 * 1.3).max(200.0);
    let width = top / BINS as f64;
    let mut counts = [0u32; BINS];
    for us in &sorted {
        let bin = ((*us as f64 / width) as usize).min(BINS - 1);
        counts[bin] += 1;
    }
    let max_count = counts.iter().copied().max().unwrap_or(1).max(1);
    let marks = [
        ("p50", 50.0, palette.series[2]),
        ("p95", 95.0, palette.text),
        ("p99", 99.0, palette.series[0]),
    ];
    let legend: Vec<LegendItem> = marks
        .iter()
        .map(|(label, p, color)| {
            LegendItem::new(
                format!("{label} {} µs", percentile(&sorted, *p)),
                Mark::Line(*color),
            )
        })
        .collect();
    let title = format!("Round trips: histogram of {} samples", sorted.len());
    let area = plot.header(&title, &legend)?;
    let mut chart = plot.chart(
        &area,
        0f64..top,
        0f64..f64::from(max_count) * 1.15,
        "round trip (µs)",
        "samples",
    )?;
    let bar = palette.series[1];
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = i as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width * 0.9, f64::from(*c))],
                bar.mix(0.8).filled(),
            )
        }))
        .map_err(err)?;
    for (_, p, color) in marks {
        let x = percentile(&sorted, p) as f64;
        chart
            .draw_series(LineSeries::new(
                [(x, 0.0), (x, f64::from(max_count) * 1.1)],
                plot.stroke(color, 2.0),
            ))
            .map_err(err)?;
    }
    plot.present()
}

/// N reads three ways, side by side.
pub fn draw_comparison(
    canvas: web_sys::HtmlCanvasElement,
    comparison: &Comparison,
) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let series = plot.palette.series;
    let bars = [
        (format!("{} × HGET", comparison.n), comparison.sequential),
        ("1 pipeline".to_owned(), comparison.pipeline),
        ("1 × HMGET".to_owned(), comparison.hmget),
    ]
    .into_iter()
    .zip(series)
    .map(|((label, micros), color)| Bar {
        label,
        value: micros as f64,
        text: format!("{micros} µs"),
        color,
    })
    .collect::<Vec<_>>();
    let title = format!("Reading {} features, end to end", comparison.n);
    bars::draw(&plot, &title, "total time (µs)", &bars)
}
