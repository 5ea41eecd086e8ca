//! The memory chart: MEMORY USAGE as each collection grows, with every
//! encoding change marked and named.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use protocol::{ChartFrame, MemoryKind};

use super::plot::{err, LegendItem, Mark, Plot};

fn kind_label(kind: MemoryKind) -> &'static str {
    match kind {
        MemoryKind::Hash => "hash",
        MemoryKind::Set => "set of integers",
        MemoryKind::SortedSet => "sorted set",
    }
}

pub fn draw(canvas: web_sys::HtmlCanvasElement, curves: &[ChartFrame]) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let palette = &plot.palette;
    let mut max_n = 10u32;
    let mut max_bytes = 1_000u64;
    let mut legend = Vec::new();
    for (i, curve) in curves.iter().enumerate() {
        if let ChartFrame::Memory { kind, points } = curve {
            max_n = max_n.max(points.last().map_or(0, |p| p.n));
            max_bytes = max_bytes.max(points.iter().map(|p| p.bytes).max().unwrap_or(0));
            legend.push(LegendItem::new(
                kind_label(*kind),
                Mark::Line(palette.series[i % 3]),
            ));
        }
    }
    let area = plot.header("MEMORY USAGE as a collection grows", &legend)?;
    let mut chart = plot.chart(
        &area,
        0f64..f64::from(max_n) * 1.05,
        0f64..max_bytes as f64 * 1.2,
        "elements",
        "bytes",
    )?;
    // Names of encoding changes sit above their point, on the side with
    // more room, so they stay inside the plot.
    let (canvas_width, _) = plot.root.dim_in_pixel();
    let dot = plot.px(5.0);
    for (i, curve) in curves.iter().enumerate() {
        let ChartFrame::Memory { points, .. } = curve else {
            continue;
        };
        let color = palette.series[i % 3];
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (f64::from(p.n), p.bytes as f64)),
                plot.stroke(color, 2.5),
            ))
            .map_err(err)?;
        for pair in points.windows(2) {
            if pair[0].encoding != pair[1].encoding {
                let p = &pair[1];
                let at = (f64::from(p.n), p.bytes as f64);
                chart
                    .draw_series(std::iter::once(Circle::new(at, dot, color.filled())))
                    .map_err(err)?;
                let (x, y) = chart.backend_coord(&at);
                let (side, dx) = if x < canvas_width as i32 / 2 {
                    (HPos::Left, plot.px(6.0))
                } else {
                    (HPos::Right, -plot.px(6.0))
                };
                let note = plot.font(12.0).pos(Pos::new(side, VPos::Bottom));
                plot.root
                    .draw_text(
                        &format!("{} → {} at {}", pair[0].encoding, p.encoding, p.n),
                        &note,
                        (x + dx, y - plot.px(6.0)),
                    )
                    .map_err(err)?;
            }
        }
    }
    plot.present()
}
