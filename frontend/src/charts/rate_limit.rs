//! Allowed requests per second for each rate limiter over time, with the
//! configured limit as a reference line.

use plotters::prelude::*;
use protocol::{Algorithm, ChartFrame};

use super::plot::{err, LegendItem, Mark, Palette, Plot};

pub fn series_color(palette: &Palette, algorithm: Algorithm) -> RGBColor {
    match algorithm {
        Algorithm::FixedWindow => palette.series[0],
        Algorithm::SlidingWindow => palette.series[1],
        Algorithm::TokenBucket => palette.series[2],
        Algorithm::Custom => palette.extra,
    }
}

pub fn draw(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
    limit_per_sec: f64,
) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let palette = &plot.palette;

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

    let reference = palette.muted;
    let mut legend = vec![LegendItem::new(
        "the limit, averaged",
        Mark::Dashed(reference),
    )];
    legend.extend(series.iter().map(|(algorithm, _)| {
        LegendItem::new(
            algorithm.label(),
            Mark::Line(series_color(palette, *algorithm)),
        )
    }));
    let area = plot.header("Allowed requests per second, per limiter", &legend)?;
    let mut chart = plot.chart(
        &area,
        0f64..max_t,
        0f64..max_y.max(1.0),
        "time (s)",
        "allowed requests / s",
    )?;
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, limit_per_sec), (max_t, limit_per_sec)],
            plot.px(6.0),
            plot.px(5.0),
            plot.stroke(reference, 1.5),
        ))
        .map_err(err)?;
    for (algorithm, points) in series {
        let color = series_color(palette, algorithm);
        chart
            .draw_series(LineSeries::new(points, plot.stroke(color, 2.5)))
            .map_err(err)?;
    }
    plot.present()
}
