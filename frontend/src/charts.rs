//! Drawing live charts on a canvas with plotters, in the page's theme
//! colours (read from the CSS tokens, so both themes and a projector work).

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use protocol::{Algorithm, ChartFrame};

/// The current theme's colours.
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub series: [RGBColor; 3],
    /// A fourth series colour (the learner's own limiter).
    pub extra: RGBColor,
}

fn css_color(name: &str, fallback: RGBColor) -> RGBColor {
    let value = web_sys::window()
        .and_then(|w| {
            let root = w.document()?.document_element()?;
            w.get_computed_style(&root).ok().flatten()
        })
        .and_then(|style| style.get_property_value(name).ok())
        .unwrap_or_default();
    let hex = value.trim().trim_start_matches('#');
    if hex.len() != 6 {
        return fallback;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    match (byte(0), byte(2), byte(4)) {
        (Some(r), Some(g), Some(b)) => RGBColor(r, g, b),
        _ => fallback,
    }
}

impl Palette {
    pub fn current() -> Palette {
        Palette {
            background: css_color("--code-bg", RGBColor(18, 21, 27)),
            text: css_color("--text", RGBColor(230, 232, 238)),
            grid: css_color("--border", RGBColor(38, 43, 54)),
            series: [
                css_color("--error", RGBColor(255, 107, 107)),
                css_color("--link", RGBColor(125, 183, 255)),
                css_color("--ok", RGBColor(76, 195, 138)),
            ],
            extra: css_color("--warn", RGBColor(242, 184, 75)),
        }
    }
}

type Area = DrawingArea<CanvasBackend, plotters::coord::Shift>;
type Chart<'a> = ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The canvas as a drawing area cleared to the theme's background.
fn canvas_area(canvas: web_sys::HtmlCanvasElement) -> Result<(Area, Palette), String> {
    let palette = Palette::current();
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(|e| e.to_string())?;
    Ok((root, palette))
}

/// Axes, grid and axis labels in the theme's colours, sized for a projector.
fn draw_mesh(
    chart: &mut Chart<'_>,
    palette: &Palette,
    x_desc: &str,
    y_desc: &str,
) -> Result<(), String> {
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_style(palette.grid)
        .bold_line_style(palette.grid.mix(0.6))
        .light_line_style(palette.grid.mix(0.25))
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()
        .map_err(|e| e.to_string())
}

/// The legend box in the theme's colours.
fn draw_legend(
    chart: &mut Chart<'_>,
    palette: &Palette,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(palette.background.mix(0.85))
        .border_style(palette.grid)
        .label_font(("sans-serif", 13).into_font().color(&palette.text))
        .draw()
        .map_err(|e| e.to_string())
}

fn series_color(palette: &Palette, algorithm: Algorithm) -> RGBColor {
    match algorithm {
        Algorithm::FixedWindow => palette.series[0],
        Algorithm::SlidingWindow => palette.series[1],
        Algorithm::TokenBucket => palette.series[2],
        Algorithm::Custom => palette.extra,
    }
}

/// Allowed requests per second for each limiter over time, with the
/// configured limit as a reference line.
pub fn draw_rate_limit(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
    limit_per_sec: f64,
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;

    let mut series: Vec<(Algorithm, Vec<(f64, f64)>)> = Vec::new();
    let mut max_t: f64 = 10.0;
    let mut max_y: f64 = limit_per_sec * 2.0;
    for frame in frames {
        let ChartFrame::RateLimit {
            t_ms,
            bucket_ms,
            counts,
        } = frame
        else {
            continue;
        };
        let t = *t_ms as f64 / 1000.0;
        max_t = max_t.max(t + 1.0);
        for count in counts {
            let per_sec = f64::from(count.allowed) * 1000.0 / (*bucket_ms).max(1) as f64;
            max_y = max_y.max(per_sec * 1.15);
            match series.iter_mut().find(|(a, _)| *a == count.algorithm) {
                Some((_, points)) => points.push((t, per_sec)),
                None => series.push((count.algorithm, vec![(t, per_sec)])),
            }
        }
    }

    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption("Allowed requests per second", text(18))
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_t, 0f64..max_y.max(1.0))
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "time (s)", "allowed requests / s")?;
    let reference = palette.text.mix(0.5);
    chart
        .draw_series(LineSeries::new(
            [(0.0, limit_per_sec), (max_t, limit_per_sec)],
            reference.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("the limit, averaged")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], reference.stroke_width(1)));
    for (algorithm, points) in series {
        let color = series_color(&palette, algorithm);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(3)))
            .map_err(|e| e.to_string())?
            .label(algorithm.label())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    draw_legend(&mut chart, &palette, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(|e| e.to_string())
}

/// The value below which `p` percent of the sorted samples fall.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Latency over time: probe pings and the learner's commands.
pub fn draw_latency_series(
    canvas: web_sys::HtmlCanvasElement,
    samples: &[crate::console::LatencySample],
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    let end = samples.last().map_or(10.0, |s| s.t);
    let start = (end - 60.0).max(samples.first().map_or(0.0, |s| s.t));
    let shown: Vec<_> = samples.iter().filter(|s| s.t >= start).collect();
    let max_y = shown.iter().map(|s| s.micros).max().unwrap_or(1_000) as f64 * 1.15;
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption("Server-side latency", text(18))
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(start..(end + 1.0).max(start + 10.0), 0f64..max_y.max(100.0))
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "time (s)", "latency (µs)")?;
    let probe_color = palette.series[1];
    let command_color = palette.series[0];
    chart
        .draw_series(LineSeries::new(
            shown
                .iter()
                .filter(|s| s.probe)
                .map(|s| (s.t, s.micros as f64)),
            probe_color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("probe (PING every 100 ms)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], probe_color.stroke_width(2)));
    chart
        .draw_series(
            shown
                .iter()
                .filter(|s| !s.probe)
                .map(|s| Circle::new((s.t, s.micros as f64), 4, command_color.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("your commands")
        .legend(move |(x, y)| Circle::new((x + 9, y), 4, command_color.filled()));
    draw_legend(&mut chart, &palette, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(|e| e.to_string())
}

/// A histogram of all samples with the p50, p95 and p99 marked.
pub fn draw_latency_histogram(
    canvas: web_sys::HtmlCanvasElement,
    samples: &[crate::console::LatencySample],
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    let mut sorted: Vec<u64> = samples.iter().map(|s| s.micros).collect();
    sorted.sort_unstable();
    let p99 = percentile(&sorted, 99.0).max(100);
    let top = (p99 as f64 * 1.3).max(200.0);
    const BINS: usize = 30;
    let width = top / BINS as f64;
    let mut counts = [0u32; BINS];
    for us in &sorted {
        let bin = ((*us as f64 / width) as usize).min(BINS - 1);
        counts[bin] += 1;
    }
    let max_count = counts.iter().copied().max().unwrap_or(1).max(1);
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let caption = format!(
        "Latency histogram: p50 {} µs · p95 {} µs · p99 {} µs ({} samples)",
        percentile(&sorted, 50.0),
        percentile(&sorted, 95.0),
        percentile(&sorted, 99.0),
        sorted.len()
    );
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption(caption, text(16))
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..top, 0f64..f64::from(max_count) * 1.15)
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "latency (µs)", "samples")?;
    let bar = palette.series[1];
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x0 = i as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width * 0.9, f64::from(*c))],
                bar.mix(0.8).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    for (label, p, color) in [
        ("p50", 50.0, palette.series[2]),
        ("p95", 95.0, palette.text),
        ("p99", 99.0, palette.series[0]),
    ] {
        let x = percentile(&sorted, p) as f64;
        chart
            .draw_series(LineSeries::new(
                [(x, 0.0), (x, f64::from(max_count) * 1.1)],
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(lx, ly)| {
                PathElement::new([(lx, ly), (lx + 18, ly)], color.stroke_width(2))
            });
    }
    draw_legend(&mut chart, &palette, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(|e| e.to_string())
}

/// N reads three ways, side by side.
pub fn draw_comparison(
    canvas: web_sys::HtmlCanvasElement,
    comparison: &crate::console::Comparison,
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    let bars = [
        (
            format!("{} × HGET", comparison.n),
            comparison.sequential,
            palette.series[0],
        ),
        (
            "1 pipeline".to_owned(),
            comparison.pipeline,
            palette.series[1],
        ),
        ("1 × HMGET".to_owned(), comparison.hmget, palette.series[2]),
    ];
    let max_y = bars.iter().map(|b| b.1).max().unwrap_or(1) as f64 * 1.2;
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption(
            format!("Reading {} features, end to end", comparison.n),
            text(18),
        )
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..3.0, 0f64..max_y.max(1.0))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("total time (µs)")
        .axis_style(palette.grid)
        .bold_line_style(palette.grid.mix(0.6))
        .light_line_style(palette.grid.mix(0.25))
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (label, micros, color)) in bars.iter().enumerate() {
        let x0 = i as f64 + 0.15;
        let value = *micros as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x0 + 0.7, value)],
                color.filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{label}: {micros} µs"),
                (x0, value + max_y * 0.04),
                text(14),
            )))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// The metric, the stable script's mean ± 3σ band and its flags, and the
/// tutorial script's (truncated) mean and flags, side by side.
pub fn draw_anomaly(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    let points: Vec<(f64, f64, &protocol::AnomalyStats, &protocol::AnomalyStats)> = frames
        .iter()
        .filter_map(|f| match f {
            ChartFrame::Anomaly {
                t_ms,
                value,
                tutorial,
                stable,
            } => Some((*t_ms as f64 / 1000.0, *value, tutorial, stable)),
            _ => None,
        })
        .collect();
    let end = points.last().map_or(10.0, |p| p.0).max(10.0);
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (_, v, _, s) in &points {
        lo = lo.min(*v);
        hi = hi.max(*v);
        if let (Some(m), Some(sd)) = (s.mean, s.std) {
            lo = lo.min(m - 3.0 * sd);
            hi = hi.max(m + 3.0 * sd);
        }
    }
    if lo > hi {
        (lo, hi) = (0.0, 100.0);
    }
    let pad = ((hi - lo) * 0.1).max(1.0);
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption(
            "Metric with mean ± 3σ: stable script vs the tutorial's",
            text(17),
        )
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..end + 0.5, (lo - pad)..(hi + pad))
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "time (s)", "latency (ms)")?;
    let band_color = palette.series[2];
    let band: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|(t, _, _, s)| Some((*t, s.mean? + 3.0 * s.std?)))
        .chain(
            points
                .iter()
                .rev()
                .filter_map(|(t, _, _, s)| Some((*t, s.mean? - 3.0 * s.std?))),
        )
        .collect();
    if band.len() > 2 {
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                band_color.mix(0.18).filled(),
            )))
            .map_err(|e| e.to_string())?
            .label("stable: mean ± 3σ")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], band_color.mix(0.4).filled())
            });
    }
    let value_color = palette.text;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.1)),
            value_color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("the metric")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], value_color.stroke_width(2)));
    let tutorial_color = palette.series[1];
    chart
        .draw_series(LineSeries::new(
            points
                .iter()
                .filter_map(|(t, _, tu, _)| Some((*t, tu.mean?))),
            tutorial_color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("tutorial: mean (truncated to an integer)")
        .legend(move |(x, y)| {
            PathElement::new([(x, y), (x + 18, y)], tutorial_color.stroke_width(2))
        });
    let flag_color = palette.series[0];
    chart
        .draw_series(
            points
                .iter()
                .filter(|(_, _, _, s)| s.flagged)
                .map(|(t, v, _, _)| Circle::new((*t, *v), 7, flag_color.stroke_width(3))),
        )
        .map_err(|e| e.to_string())?
        .label("flagged by the stable script")
        .legend(move |(x, y)| Circle::new((x + 9, y), 5, flag_color.stroke_width(2)));
    chart
        .draw_series(
            points
                .iter()
                .filter(|(_, _, tu, _)| tu.flagged)
                .map(|(t, v, _, _)| TriangleMarker::new((*t, *v), 6, tutorial_color.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("flagged by the tutorial's script")
        .legend(move |(x, y)| TriangleMarker::new((x + 9, y), 5, tutorial_color.filled()));
    draw_legend(&mut chart, &palette, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(|e| e.to_string())
}

/// Stream length, the group's pending entries and lag over time, and each
/// consumer's pending entries.
pub fn draw_streams(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    // (seconds, the group's pending, consumers)
    let points: Vec<(f64, u64, &[protocol::ConsumerView])> = frames
        .iter()
        .filter_map(|f| match f {
            ChartFrame::Stream {
                t_ms,
                pending,
                consumers,
                ..
            } => Some((*t_ms as f64 / 1000.0, *pending, consumers.as_slice())),
            _ => None,
        })
        .collect();
    let end = points.last().map_or(10.0, |p| p.0).max(10.0);
    let max_pending = points.iter().map(|p| p.1).max().unwrap_or(10).max(10) as f64;
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption("Pending entries per consumer (XINFO CONSUMERS)", text(17))
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..end + 0.5, 0f64..max_pending * 1.2)
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "time (s)", "pending entries")?;
    let total_color = palette.text;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.1 as f64)),
            total_color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("group: pending")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], total_color.stroke_width(2)));
    for (i, color) in palette.series.iter().enumerate() {
        let color = *color;
        let name = points
            .last()
            .and_then(|p| p.2.get(i))
            .map(|c| format!("{}{}", c.name, if c.alive { "" } else { " (killed)" }))
            .unwrap_or_default();
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .filter_map(|p| Some((p.0, p.2.get(i)?.pending as f64))),
                color.stroke_width(3),
            ))
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    draw_legend(&mut chart, &palette, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(|e| e.to_string())
}

/// MEMORY USAGE as each collection grows, with the encoding change marked.
pub fn draw_memory(
    canvas: web_sys::HtmlCanvasElement,
    curves: &[ChartFrame],
) -> Result<(), String> {
    let (root, palette) = canvas_area(canvas)?;
    let mut max_n = 10u32;
    let mut max_bytes = 1_000u64;
    for curve in curves {
        if let ChartFrame::Memory { points, .. } = curve {
            max_n = max_n.max(points.last().map_or(0, |p| p.n));
            max_bytes = max_bytes.max(points.iter().map(|p| p.bytes).max().unwrap_or(0));
        }
    }
    let text = |size: u32| ("sans-serif", size).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption("MEMORY USAGE as a collection grows", text(17))
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..f64::from(max_n) * 1.05, 0f64..max_bytes as f64 * 1.15)
        .map_err(|e| e.to_string())?;
    draw_mesh(&mut chart, &palette, "elements", "bytes")?;
    for (i, curve) in curves.iter().enumerate() {
        let ChartFrame::Memory { kind, points } = curve else {
            continue;
        };
        let color = palette.series[i % 3];
        let label = match kind {
            protocol::MemoryKind::Hash => "hash",
            protocol::MemoryKind::Set => "set of integers",
            protocol::MemoryKind::SortedSet => "sorted set",
        };
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (f64::from(p.n), p.bytes as f64)),
                color.stroke_width(3),
            ))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
        // Mark and name each encoding change.
        for pair in points.windows(2) {
            if pair[0].encoding != pair[1].encoding {
                let p = &pair[1];
                chart
                    .draw_series([
                        Circle::new((f64::from(p.n), p.bytes as f64), 6, color.filled()).into_dyn(),
                        Text::new(
                            format!("{} → {} at {}", pair[0].encoding, p.encoding, p.n),
                            (f64::from(p.n), p.bytes as f64 + max_bytes as f64 * 0.05),
                            text(13),
                        )
                        .into_dyn(),
                    ])
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    draw_legend(&mut chart, &palette, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(|e| e.to_string())
}
