//! Drawing live charts on a canvas with plotters, in the page's theme
//! colours (read from the CSS tokens, so both themes and a projector work).

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use protocol::{Algorithm, ChartFrame};

/// The current theme's colours.
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub series: [RGBColor; 3],
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
        }
    }
}

fn series_color(palette: &Palette, algorithm: Algorithm) -> RGBColor {
    match algorithm {
        Algorithm::FixedWindow => palette.series[0],
        Algorithm::SlidingWindow => palette.series[1],
        Algorithm::TokenBucket => palette.series[2],
    }
}

/// Allowed requests per second for each limiter over time, with the
/// configured limit as a reference line.
pub fn draw_rate_limit(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
    limit_per_sec: f64,
) -> Result<(), String> {
    let palette = Palette::current();
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(|e| e.to_string())?;

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
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("allowed requests / s")
        .axis_style(palette.grid)
        .bold_line_style(palette.grid.mix(0.6))
        .light_line_style(palette.grid.mix(0.25))
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()
        .map_err(|e| e.to_string())?;
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(palette.background.mix(0.85))
        .border_style(palette.grid)
        .label_font(text(13))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
