//! The streams chart: the group's pending entries over time and each
//! consumer's. A killed consumer is drawn dashed and last, on top, so its
//! line stays visible even where a live one runs along the same values.

use plotters::prelude::*;
use protocol::{ChartFrame, ConsumerView};

use super::plot::{err, LegendItem, Mark, Plot};

pub fn draw(canvas: web_sys::HtmlCanvasElement, frames: &[ChartFrame]) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let palette = &plot.palette;
    // (seconds, the group's pending, consumers)
    let points: Vec<(f64, u64, &[ConsumerView])> = frames
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
    let latest = points.last().map(|p| p.2).unwrap_or_default();
    let alive = |i: usize| latest.get(i).is_none_or(|c| c.alive);
    let total_color = palette.text;
    let mut legend = vec![LegendItem::new("group: pending", Mark::Line(total_color))];
    for (i, consumer) in latest.iter().enumerate().take(palette.series.len()) {
        let color = palette.series[i];
        legend.push(if consumer.alive {
            LegendItem::new(consumer.name.clone(), Mark::Line(color))
        } else {
            LegendItem::new(format!("{} (killed)", consumer.name), Mark::Dashed(color))
        });
    }
    let area = plot.header("Pending entries per consumer (XINFO CONSUMERS)", &legend)?;
    let mut chart = plot.chart(
        &area,
        0f64..end + 0.5,
        0f64..max_pending * 1.2,
        "time (s)",
        "pending entries",
    )?;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.1 as f64)),
            plot.stroke(total_color, 2.0),
        ))
        .map_err(err)?;
    // Live consumers first, killed ones on top.
    let mut order: Vec<usize> = (0..palette.series.len()).collect();
    order.sort_by_key(|i| !alive(*i));
    for i in order {
        let color = palette.series[i];
        let line: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|p| Some((p.0, p.2.get(i)?.pending as f64)))
            .collect();
        if alive(i) {
            chart
                .draw_series(LineSeries::new(line, plot.stroke(color, 2.5)))
                .map_err(err)?;
        } else {
            chart
                .draw_series(DashedLineSeries::new(
                    line,
                    plot.px(9.0),
                    plot.px(5.0),
                    plot.stroke(color, 3.5),
                ))
                .map_err(err)?;
        }
    }
    plot.present()
}
