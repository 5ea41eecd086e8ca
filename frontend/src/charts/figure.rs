//! A grading report's figure (a measured series, such as latency by
//! batch size) as a small bar chart, one colour per figure so two side by
//! side are not mistaken for one series.

use protocol::Figure;

use super::bars::{self, Bar};
use super::plot::{tick, Plot};

pub fn draw(
    canvas: web_sys::HtmlCanvasElement,
    figure: &Figure,
    index: usize,
) -> Result<(), String> {
    let plot = Plot::prepare(canvas)?;
    let color = plot.palette.series[(index + 1) % 3];
    let bars: Vec<Bar> = figure
        .points
        .iter()
        .map(|(label, value)| Bar {
            label: label.clone(),
            value: *value,
            text: format!("{} {}", tick(value), figure.unit),
            color,
        })
        .collect();
    bars::draw(&plot, &figure.title, &figure.unit, &bars)
}
