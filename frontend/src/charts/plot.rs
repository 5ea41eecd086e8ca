//! What every chart shares: the canvas sized to what is shown, at the
//! screen's pixel density; the theme's colours (read from the CSS tokens,
//! so both themes and a projector work); a title and a legend drawn above
//! the plot, where they can never cover data; and axes whose titles sit
//! apart from their tick labels.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;

pub type Area = DrawingArea<CanvasBackend, Shift>;
pub type Chart<'a> = ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The current theme's colours.
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub muted: RGBColor,
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
            muted: css_color("--text-muted", RGBColor(154, 163, 181)),
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

/// How a series is shown in the legend.
#[derive(Clone, Copy)]
pub enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    Dot(RGBColor),
    Ring(RGBColor),
    Triangle(RGBColor),
    Band(RGBColor),
}

pub struct LegendItem {
    pub label: String,
    pub mark: Mark,
}

impl LegendItem {
    pub fn new(label: impl Into<String>, mark: Mark) -> LegendItem {
        LegendItem {
            label: label.into(),
            mark,
        }
    }
}

/// A tick label without a pointless `.0`, and at most two decimals.
pub fn tick(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-6 {
        format!("{:.0}", value.round())
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// One canvas, ready to draw on.
pub struct Plot {
    pub root: Area,
    pub palette: Palette,
    /// Canvas pixels per CSS pixel.
    scale: f64,
}

impl Plot {
    /// Sizes the canvas's backing store to its displayed size times the
    /// device pixel ratio (so it is sharp and never shrunk), then clears it.
    pub fn prepare(canvas: web_sys::HtmlCanvasElement) -> Result<Plot, String> {
        let scale = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
        let (width, height) = (canvas.client_width(), canvas.client_height());
        if width > 0 && height > 0 {
            let backing = |css: i32| (f64::from(css) * scale).round() as u32;
            if canvas.width() != backing(width) || canvas.height() != backing(height) {
                canvas.set_width(backing(width));
                canvas.set_height(backing(height));
            }
        }
        let palette = Palette::current();
        let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D canvas")?;
        let root = backend.into_drawing_area();
        root.fill(&palette.background).map_err(|e| e.to_string())?;
        Ok(Plot {
            root,
            palette,
            scale,
        })
    }

    /// `css` CSS pixels in canvas pixels.
    pub fn px(&self, css: f64) -> i32 {
        (css * self.scale).round() as i32
    }

    fn upx(&self, css: f64) -> u32 {
        self.px(css).max(1) as u32
    }

    pub fn font(&self, css_size: f64) -> TextStyle<'static> {
        ("sans-serif", css_size * self.scale)
            .into_font()
            .color(&self.palette.text)
    }

    pub fn stroke(&self, color: RGBColor, css_width: f64) -> ShapeStyle {
        color.stroke_width(self.upx(css_width))
    }

    /// The title and a legend that wraps onto as many rows as it needs,
    /// both above the plot; returns the area left for the plot.
    pub fn header(&self, title: &str, legend: &[LegendItem]) -> Result<Area, String> {
        let pad = self.px(10.0);
        let row = self.px(20.0);
        let (width, _) = self.root.dim_in_pixel();
        let label_font = self.font(13.0);
        let title_font = self.font(16.0);
        // The title wraps on a narrow canvas instead of running off it.
        let title_lines = self.wrap(title, &title_font, width as i32 - 2 * pad)?;
        for (i, line) in title_lines.iter().enumerate() {
            self.root
                .draw_text(line, &title_font, (pad, pad + i as i32 * self.px(21.0)))
                .map_err(|e| e.to_string())?;
        }
        // Lay the legend out first to know how tall the header is.
        let mut placed = Vec::new();
        let (mut x, mut y) = (
            pad,
            pad + title_lines.len() as i32 * self.px(21.0) + self.px(5.0),
        );
        for item in legend {
            let (text_w, _) = self
                .root
                .estimate_text_size(&item.label, &label_font)
                .map_err(|e| e.to_string())?;
            let item_w = self.px(26.0) + text_w as i32;
            if x > pad && x + item_w > width as i32 - pad {
                x = pad;
                y += row;
            }
            placed.push((x, y, item));
            x += item_w + self.px(16.0);
        }
        let height = if legend.is_empty() { y } else { y + row };
        let centre = Pos::new(HPos::Left, VPos::Center);
        for (x, y, item) in placed {
            let mid = y + row / 2;
            self.draw_mark(item.mark, x, mid)?;
            self.root
                .draw_text(
                    &item.label,
                    &label_font.pos(centre),
                    (x + self.px(24.0), mid),
                )
                .map_err(|e| e.to_string())?;
        }
        let (_, plot) = self.root.split_vertically(height);
        Ok(plot)
    }

    /// Splits `text` into lines no wider than `max` pixels, at spaces.
    fn wrap(&self, text: &str, font: &TextStyle<'_>, max: i32) -> Result<Vec<String>, String> {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split(' ') {
            let candidate = match lines.last() {
                Some(last) => format!("{last} {word}"),
                None => word.to_owned(),
            };
            let (w, _) = self
                .root
                .estimate_text_size(&candidate, font)
                .map_err(|e| e.to_string())?;
            match lines.last_mut() {
                Some(last) if w as i32 <= max => *last = candidate,
                Some(_) => lines.push(word.to_owned()),
                None => lines.push(candidate),
            }
        }
        Ok(lines)
    }

    fn draw_mark(&self, mark: Mark, x: i32, y: i32) -> Result<(), String> {
        let (w, r) = (self.px(18.0), self.px(5.0));
        let line = |color, dashed: bool| -> Result<(), String> {
            let style = self.stroke(color, 3.0);
            if dashed {
                let dash = w / 3;
                for i in [0, 2] {
                    self.root
                        .draw(&PathElement::new(
                            [(x + i * dash, y), (x + (i + 1) * dash, y)],
                            style,
                        ))
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            } else {
                self.root
                    .draw(&PathElement::new([(x, y), (x + w, y)], style))
                    .map_err(|e| e.to_string())
            }
        };
        match mark {
            Mark::Line(c) => line(c, false),
            Mark::Dashed(c) => line(c, true),
            Mark::Dot(c) => self
                .root
                .draw(&Circle::new((x + w / 2, y), r, c.filled()))
                .map_err(|e| e.to_string()),
            Mark::Ring(c) => self
                .root
                .draw(&Circle::new((x + w / 2, y), r, self.stroke(c, 2.0)))
                .map_err(|e| e.to_string()),
            Mark::Triangle(c) => self
                .root
                .draw(&TriangleMarker::new((x + w / 2, y), r, c.filled()))
                .map_err(|e| e.to_string()),
            Mark::Band(c) => self
                .root
                .draw(&Rectangle::new(
                    [(x, y - r), (x + w, y + r)],
                    c.mix(0.4).filled(),
                ))
                .map_err(|e| e.to_string()),
        }
    }

    /// Axes and grid over `x` × `y` in `area`. The y title is written
    /// level above the tick labels and the x title below them, so neither
    /// can overlap a label.
    pub fn chart<'a>(
        &self,
        area: &'a Area,
        x: Range<f64>,
        y: Range<f64>,
        x_desc: &str,
        y_desc: &str,
    ) -> Result<Chart<'a>, String> {
        let mut chart = self.axes(area, x, y, y_desc)?;
        self.mesh(&mut chart, x_desc, true)?;
        Ok(chart)
    }

    /// The coordinate system alone (for charts that label x themselves).
    pub fn axes<'a>(
        &self,
        area: &'a Area,
        x: Range<f64>,
        y: Range<f64>,
        y_desc: &str,
    ) -> Result<Chart<'a>, String> {
        let pad = self.px(10.0);
        area.draw_text(
            y_desc,
            &self.font(12.0).color(&self.palette.muted),
            (pad, 0),
        )
        .map_err(|e| e.to_string())?;
        // Room for the widest y label, estimated from the largest value.
        let widest = tick(&y.end).len().max(tick(&y.start).len()) as f64;
        ChartBuilder::on(area)
            .margin_left(pad)
            .margin_right(self.px(16.0))
            .margin_top(self.px(22.0))
            .margin_bottom(self.px(4.0))
            .x_label_area_size(self.px(44.0))
            .y_label_area_size(self.px(14.0 + widest * 8.0))
            .build_cartesian_2d(x, y)
            .map_err(|e| e.to_string())
    }

    /// Grid and tick labels; `x_labels` false hides the x axis labels.
    pub fn mesh(&self, chart: &mut Chart<'_>, x_desc: &str, x_labels: bool) -> Result<(), String> {
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_desc)
            .axis_style(self.palette.grid)
            .bold_line_style(self.palette.grid.mix(0.6))
            .light_line_style(self.palette.grid.mix(0.25))
            .label_style(self.font(12.0))
            .axis_desc_style(self.font(12.0).color(&self.palette.muted))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_labels(if x_labels { 8 } else { 0 })
            .y_labels(6);
        if !x_labels {
            mesh.disable_x_mesh();
        }
        mesh.draw().map_err(|e| e.to_string())
    }

    pub fn present(&self) -> Result<(), String> {
        self.root.present().map_err(|e| e.to_string())
    }
}

/// A plotters error as text.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
