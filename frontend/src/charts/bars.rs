//! A bar chart of named values: each bar's value written above it and its
//! name below the axis, so no label sits on a bar. Used by the latency
//! comparison and by the figures of a grading report.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot::{err, Plot};

/// One bar.
pub struct Bar {
    /// The name under the axis.
    pub label: String,
    pub value: f64,
    /// The value as written above the bar (with its unit).
    pub text: String,
    pub color: RGBColor,
}

/// Draws `bars` under `title`, with `y_desc` over the value axis.
pub fn draw(plot: &Plot, title: &str, y_desc: &str, bars: &[Bar]) -> Result<(), String> {
    let max_y = bars.iter().map(|b| b.value).fold(0.0, f64::max) * 1.25;
    let area = plot.header(title, &[])?;
    let slots = bars.len().max(1) as f64;
    let mut chart = plot.axes(
        &area,
        0f64..slots,
        0f64..if max_y > 0.0 { max_y } else { 1.0 },
        y_desc,
    )?;
    plot.mesh(&mut chart, "", false)?;
    // Labels shrink a little when many bars share a narrow canvas, rather
    // than running into each other.
    let size = if bars.len() > 6 { 11.0 } else { 13.0 };
    let above = plot.font(size).pos(Pos::new(HPos::Center, VPos::Bottom));
    let below = plot.font(size).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, bar) in bars.iter().enumerate() {
        let x0 = i as f64 + 0.2;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x0 + 0.6, bar.value.max(0.0))],
                bar.color.filled(),
            )))
            .map_err(err)?;
        let (cx, top) = chart.backend_coord(&(x0 + 0.3, bar.value.max(0.0)));
        let (_, base) = chart.backend_coord(&(x0 + 0.3, 0.0));
        // Backend coordinates are the whole canvas's, so draw on the root.
        plot.root
            .draw_text(&bar.text, &above, (cx, top - plot.px(4.0)))
            .map_err(err)?;
        plot.root
            .draw_text(&bar.label, &below, (cx, base + plot.px(6.0)))
            .map_err(err)?;
    }
    plot.present()
}
