//! The run as a PNG for docs/benchmarks.md: a typed line's round trip per
//! second (p50, p99) above, and memory below (all sandboxes' PSS and RSS,
//! the server's RSS on its own axis), with the faults marked. Text is
//! drawn with a TrueType font read at run time (DejaVu Sans by default),
//! so the build needs no system font library.

use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::tally::Second;
use crate::usage::Sample;

const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Registers the first font found as "sans-serif".
fn load_font(chosen: Option<&Path>) -> anyhow::Result<()> {
    let candidates: Vec<&Path> = match chosen {
        Some(path) => vec![path],
        None => FONTS.iter().map(Path::new).collect(),
    };
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow!("no font for the chart: none of {candidates:?} exists (pass --font <file.ttf>, or install fonts-dejavu-core)"))?;
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
        .map_err(|_| anyhow!("{} is not a font plotters can read", path.display()))
}

/// What the chart shows.
pub struct ChartData<'a> {
    pub title: String,
    pub latency: &'a [Second],
    pub samples: &'a [Sample],
    /// Moments to mark, in seconds since the start, with a label.
    pub marks: Vec<(f64, String)>,
}

fn gib(mib: f64) -> f64 {
    mib / 1024.0
}

pub fn draw(path: &Path, font: Option<&Path>, data: &ChartData) -> anyhow::Result<()> {
    load_font(font)?;
    let root = BitMapBackend::new(path, (1200, 860)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let root = root
        .titled(&data.title, ("sans-serif", 24))
        .map_err(|e| anyhow!("{e:?}"))?;
    let (top, bottom) = root.split_vertically(400);
    let end = data
        .samples
        .last()
        .map_or(1.0, |s| s.t_s)
        .max(data.latency.last().map_or(1.0, |s| s.t_s as f64 + 1.0));
    latency_panel(&top, end, data).map_err(|e| anyhow!("drawing the latency: {e:?}"))?;
    memory_panel(&bottom, end, data).map_err(|e| anyhow!("drawing the memory: {e:?}"))?;
    root.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

fn latency_panel(area: &Area, end: f64, data: &ChartData) -> Drawn {
    let ms = |us: u64| us as f64 / 1000.0;
    let top = data
        .latency
        .iter()
        .map(|s| ms(s.p99_us))
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .caption("typed line round trip, per second", ("sans-serif", 18))
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .y_desc("ms")
        .label_style(("sans-serif", 14))
        .draw()?;
    // One line per stretch of seconds with answers: no line is drawn
    // across a gap (the server down after its kill).
    let mut stretches: Vec<Vec<&Second>> = Vec::new();
    for s in data.latency {
        match stretches.last_mut() {
            Some(run) if run.last().is_some_and(|l| s.t_s <= l.t_s + 1) => run.push(s),
            _ => stretches.push(vec![s]),
        }
    }
    for (i, run) in stretches.iter().enumerate() {
        let p50 = run.iter().map(|s| (s.t_s as f64 + 0.5, ms(s.p50_us)));
        let p99 = run.iter().map(|s| (s.t_s as f64 + 0.5, ms(s.p99_us)));
        let p50 = chart.draw_series(LineSeries::new(p50, BLUE.stroke_width(2)))?;
        if i == 0 {
            p50.label("p50")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        }
        let p99 = chart.draw_series(LineSeries::new(p99, RED.stroke_width(2)))?;
        if i == 0 {
            p99.label("p99")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
        }
    }
    marks(&mut chart, top, data)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn marks<DB: DrawingBackend>(
    chart: &mut ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    top: f64,
    data: &ChartData,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (i, (at, label)) in data.marks.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            [(*at, 0.0), (*at, top)],
            BLACK.mix(0.6).stroke_width(1),
        ))?;
        // Staggered, so labels of moments close together do not overlap.
        let height = 0.95 - 0.07 * (i % 3) as f64;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*at, top * height),
            ("sans-serif", 14),
        )))?;
    }
    Ok(())
}

fn memory_panel(area: &Area, end: f64, data: &ChartData) -> Drawn {
    let s = data.samples;
    let top = s.iter().map(|x| gib(x.sandbox_rss_mib)).fold(0.1, f64::max) * 1.1;
    let server_top = s
        .iter()
        .filter_map(|x| x.server_rss_mib)
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .right_y_label_area_size(60)
        .caption("memory", ("sans-serif", 18))
        .build_cartesian_2d(0.0..end, 0.0..top)?
        .set_secondary_coord(0.0..end, 0.0..server_top);
    chart
        .configure_mesh()
        .x_desc("seconds since the start")
        .y_desc("all sandboxes, GiB")
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("server RSS, MiB")
        .label_style(("sans-serif", 14))
        .draw()?;
    let green = RGBColor(0, 140, 0);
    let rss = s.iter().map(|x| (x.t_s, gib(x.sandbox_rss_mib)));
    let pss = s.iter().map(|x| (x.t_s, gib(x.sandbox_pss_mib)));
    let server = s.iter().filter_map(|x| Some((x.t_s, x.server_rss_mib?)));
    chart
        .draw_series(LineSeries::new(rss, BLUE.stroke_width(2)))?
        .label("sandboxes RSS (GiB)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(pss, green.stroke_width(2)))?
        .label("sandboxes PSS (GiB)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], green.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(server, RED.stroke_width(2)))?
        .label("server RSS (MiB, right axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    for (at, _) in &data.marks {
        chart.draw_series(LineSeries::new(
            [(*at, 0.0), (*at, top)],
            BLACK.mix(0.6).stroke_width(1),
        ))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}
