//! The anomaly chart: the metric, the stable script's mean ± 3σ band and
//! its flags, and the tutorial script's (truncated) mean and flags.

use plotters::prelude::*;
use protocol::{AnomalyStats, ChartFrame};

use super::plot::{err, LegendItem, Mark, Plot};

pub fn draw(canvas: web_sys::HtmlCanvasElement, frames: &[ChartFrame]) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let palette = &plot.palette;
    let points: Vec<(f64, f64, &AnomalyStats, &AnomalyStats)> = frames
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
    let band_color = palette.series[2];
    let value_color = palette.text;
    let tutorial_color = palette.series[1];
    let flag_color = palette.series[0];
    let area = plot.header(
        "The metric with mean ± 3σ: the stable script vs the tutorial's",
        &[
            LegendItem::new("the metric", Mark::Line(value_color)),
            LegendItem::new("stable: mean ± 3σ", Mark::Band(band_color)),
            LegendItem::new("tutorial: mean (truncated)", Mark::Dashed(tutorial_color)),
            LegendItem::new("flagged by the stable script", Mark::Ring(flag_color)),
            LegendItem::new("flagged by the tutorial's", Mark::Triangle(tutorial_color)),
        ],
    )?;
    let mut chart = plot.chart(
        &area,
        0f64..end + 0.5,
        (lo - pad)..(hi + pad),
        "time (s)",
        "latency (ms)",
    )?;
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
            .map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.0, p.1)),
            plot.stroke(value_color, 2.0),
        ))
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            points
                .iter()
                .filter_map(|(t, _, tu, _)| Some((*t, tu.mean?)))
                .collect::<Vec<_>>(),
            plot.px(8.0),
            plot.px(5.0),
            plot.stroke(tutorial_color, 2.0),
        ))
        .map_err(err)?;
    let ring = plot.px(7.0);
    chart
        .draw_series(
            points
                .iter()
                .filter(|(_, _, _, s)| s.flagged)
                .map(|(t, v, _, _)| Circle::new((*t, *v), ring, plot.stroke(flag_color, 3.0))),
        )
        .map_err(err)?;
    let triangle = plot.px(6.0);
    chart
        .draw_series(
            points
                .iter()
                .filter(|(_, _, tu, _)| tu.flagged)
                .map(|(t, v, _, _)| {
                    TriangleMarker::new((*t, *v), triangle, tutorial_color.filled())
                }),
        )
        .map_err(err)?;
    plot.present()
}
