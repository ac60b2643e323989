//! Plots with plotters: SVG text for the HTML report, PNG files on request.
//!
//! Every chart has a title, axis labels with units, the target band and limits drawn, and
//! the same colours for pass ([`PASS`]) and fail ([`FAIL`]) everywhere. Each plot is a value
//! implementing [`Plot`]; [`to_svg`] and [`to_png`] render it on either backend.

use std::path::Path;

use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::config::Config;
use crate::report::agents::{AgentSummary, TrendPoint};
use crate::report::fonts;
use crate::report::model::CallReport;

/// A passed rule, the target band and in-band values.
pub const PASS: RGBColor = RGBColor(46, 125, 50);
/// A failed rule, limits and values outside the band.
pub const FAIL: RGBColor = RGBColor(198, 40, 40);
/// Values that are neither pass nor fail.
pub const NEUTRAL: RGBColor = RGBColor(120, 144, 156);
/// The agent's speech.
pub const AGENT: RGBColor = RGBColor(21, 101, 192);
/// The customer's speech.
pub const CUSTOMER: RGBColor = RGBColor(123, 31, 162);
/// Overtalk spans.
pub const OVERTALK: RGBColor = RGBColor(239, 108, 0);
/// Short-term loudness.
pub const LOUDNESS: RGBColor = RGBColor(0, 131, 143);

const FONT: &str = "sans-serif";
const GRID: RGBColor = RGBColor(230, 230, 230);

/// A chart that can be drawn on any plotters backend.
pub trait Plot {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart; `png` is set when the glyphs are drawn by us (not a browser).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        png: bool,
    ) -> Result<(), String>;
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn no_font() -> Option<String> {
    fonts::status()
        .family
        .is_none()
        .then(|| fonts::status().note.clone().unwrap_or_default())
}

/// Renders a plot as SVG text (an `<svg>` element).
pub fn to_svg<P: Plot>(plot: &P) -> Result<String, String> {
    if let Some(note) = no_font() {
        return Err(note);
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, plot.size()).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        plot.draw(&root, false)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Renders a plot to a PNG file, atomically (a temporary file, then a rename), with an
/// optional footnote in its lower left corner.
pub fn to_png<P: Plot>(plot: &P, path: &Path, note: Option<&str>) -> Result<(), String> {
    if let Some(note) = no_font() {
        return Err(note);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("plot");
    let tmp = dir.join(format!(".{name}.tmp{}.png", std::process::id()));
    {
        let (w, h) = plot.size();
        let extra = if note.is_some() { 20 } else { 0 };
        let root = BitMapBackend::new(&tmp, (w, h + extra)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(h);
        plot.draw(&top, true)?;
        if let Some(note) = note {
            bottom
                .draw(&Text::new(
                    note.to_string(),
                    (6, 3),
                    (FONT, 12).into_font().color(&RGBColor(90, 90, 90)),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

fn title_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens a range by a share of its span, with room on top for the legend.
fn padded(lo: f64, hi: f64, legend_room: f64) -> (f64, f64) {
    let span = (hi - lo).abs().max(1e-6);
    (lo - 0.05 * span, hi + (0.05 + legend_room) * span)
}

/// Decimals for tick labels over a range of `span`.
fn digits(span: f64) -> usize {
    if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    }
}

fn pass_color(pass: Option<bool>) -> RGBColor {
    match pass {
        Some(true) => PASS,
        Some(false) => FAIL,
        None => NEUTRAL,
    }
}

/// Writes labels right-aligned left of the plot at data rows `y` (the mesh has no y labels).
fn row_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: impl Fn(f64) -> (i32, i32),
    rows: &[(f64, String)],
) -> Result<(), String> {
    let (bx, by) = area.get_base_pixel();
    let style = (FONT, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (y, name) in rows {
        let (x, py) = at(*y);
        area.draw(&Text::new(
            name.clone(),
            (x - bx - 6, py - by),
            style.clone(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// One value per call (oldest first) against a band, a target and/or a limit.
#[derive(Debug, Clone)]
pub struct PerCall {
    /// Chart title.
    pub title: String,
    /// The y axis label, with its unit.
    pub y_label: String,
    /// Values per call (missing ones are skipped).
    pub values: Vec<Option<f64>>,
    /// Pass/fail per call (colours the marks).
    pub pass: Vec<Option<bool>>,
    /// The band that passes, drawn shaded.
    pub band: Option<(f64, f64)>,
    /// The target, drawn as a line.
    pub target: Option<f64>,
    /// A maximum, drawn as a red line.
    pub limit: Option<f64>,
    /// Bars from zero instead of points.
    pub bars: bool,
    /// Legend text of the band or limit, e.g. `target band 100-140 /min`.
    pub rule_label: String,
}

impl Plot for PerCall {
    fn size(&self) -> (u32, u32) {
        (560, 320)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _png: bool,
    ) -> Result<(), String> {
        let n = self.values.len().max(1) as f64;
        let mut extra: Vec<f64> = self.values.iter().flatten().copied().collect();
        if let Some((a, b)) = self.band {
            extra.extend([a, b]);
        }
        extra.extend(self.target);
        extra.extend(self.limit);
        if self.bars {
            extra.push(0.0);
        }
        let (lo, hi) = finite_range(extra.into_iter()).unwrap_or((0.0, 1.0));
        let (mut lo, hi) = padded(lo, hi, 0.7);
        if self.bars {
            lo = lo.max(0.0);
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style(17))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.5..n + 0.5, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_desc("call (oldest first)")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-6 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| format!("{y:.d$}", d = digits(hi - lo)))
            .x_labels(8)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(err)?;
        if let Some((a, b)) = self.band {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.5, a), (n + 0.5, b)],
                    PASS.mix(0.12).filled(),
                )))
                .map_err(err)?
                .label(self.rule_label.as_str())
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], PASS.mix(0.25).filled())
                });
        }
        if let Some(t) = self.target {
            chart
                .draw_series(LineSeries::new(
                    [(0.5, t), (n + 0.5, t)],
                    PASS.stroke_width(1),
                ))
                .map_err(err)?
                .label(format!("target {t}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], PASS.stroke_width(1)));
        }
        if let Some(l) = self.limit {
            chart
                .draw_series(LineSeries::new(
                    [(0.5, l), (n + 0.5, l)],
                    FAIL.stroke_width(2),
                ))
                .map_err(err)?
                .label(self.rule_label.as_str())
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], FAIL.stroke_width(2)));
        }
        let marks = self
            .values
            .iter()
            .zip(self.pass.iter().chain(std::iter::repeat(&None)))
            .enumerate()
            .filter_map(|(i, (v, p))| v.map(|v| ((i + 1) as f64, v, *p)));
        let radius = if self.values.len() > 200 { 2 } else { 4 };
        let width = 0.38;
        for (pass, label) in [(Some(true), "pass"), (Some(false), "fail")] {
            let color = pass_color(pass);
            let these: Vec<(f64, f64)> = marks
                .clone()
                .filter(|(_, _, p)| *p == pass)
                .map(|(x, v, _)| (x, v))
                .collect();
            let series = if self.bars {
                chart.draw_series(these.iter().map(|&(x, v)| {
                    Rectangle::new([(x - width, lo.max(0.0)), (x + width, v)], color.filled())
                }))
            } else {
                chart.draw_series(
                    these
                        .iter()
                        .map(|&(x, v)| Circle::new((x, v), radius, color.filled())),
                )
            }
            .map_err(err)?;
            if self.bars {
                series.label(label).legend(move |(x, y)| {
                    Rectangle::new([(x + 2, y - 6), (x + 12, y + 6)], color.filled())
                });
            } else {
                series
                    .label(label)
                    .legend(move |(x, y)| Circle::new((x + 7, y), 4, color.filled()));
            }
        }
        let unjudged: Vec<(f64, f64)> = marks
            .filter(|(_, _, p)| p.is_none())
            .map(|(x, v, _)| (x, v))
            .collect();
        chart
            .draw_series(
                unjudged
                    .iter()
                    .map(|&(x, v)| Circle::new((x, v), radius, NEUTRAL.filled())),
            )
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// Gap lengths counted in 10 ms steps (the histogram's bins are multiples of them), so an
/// agent's gaps take at most 12 KB however many calls they have. Lengths outside 0 to 30 s
/// (the widest axis drawn) are kept exactly, for the percentile that sets the axis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GapCounts {
    /// `bins[k]`: gaps from `k * 10` ms to `(k + 1) * 10` ms.
    bins: Vec<u32>,
    /// Lengths below 0 or from 30 s on, seconds.
    outside_s: Vec<f64>,
    /// Gaps counted.
    count: u64,
}

/// Steps of [`GapCounts`] per second.
const GAP_STEPS_PER_S: f64 = 100.0;
/// Steps of [`GapCounts`] below 30 s.
const GAP_STEPS: usize = 3000;

impl GapCounts {
    /// Counts one gap of `gap_s` seconds (not-finite lengths are ignored).
    pub fn add(&mut self, gap_s: f64) {
        if !gap_s.is_finite() {
            return;
        }
        self.count += 1;
        if (0.0..GAP_STEPS as f64 / GAP_STEPS_PER_S).contains(&gap_s) {
            let k = ((gap_s * GAP_STEPS_PER_S).floor() as usize).min(GAP_STEPS - 1);
            if k >= self.bins.len() {
                self.bins.resize(k + 1, 0);
            }
            self.bins[k] = self.bins[k].saturating_add(1);
        } else {
            self.outside_s.push(gap_s);
        }
    }

    /// Gaps counted.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when no gap was counted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `rank`-th smallest length (0-based), gaps under 30 s at the start of their 10 ms
    /// step.
    fn nth(&self, rank: u64) -> f64 {
        let mut sorted = self.outside_s.clone();
        sorted.sort_by(f64::total_cmp);
        let below = sorted.iter().take_while(|g| **g < 0.0).count();
        if rank < below as u64 {
            return sorted[rank as usize];
        }
        let mut seen = below as u64;
        for (k, &c) in self.bins.iter().enumerate() {
            seen += u64::from(c);
            if rank < seen {
                return k as f64 / GAP_STEPS_PER_S;
            }
        }
        let i = (below as u64 + rank - seen) as usize;
        sorted.get(i).copied().unwrap_or(0.0)
    }

    /// The `q` quantile (0..1), interpolating linearly as [`crate::report::agents::quantile`];
    /// `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let pos = q.clamp(0.0, 1.0) * (self.count - 1) as f64;
        let (lo, hi) = (pos.floor(), pos.ceil());
        let (a, b) = (self.nth(lo as u64), self.nth(hi as u64));
        Some(a + (b - a) * (pos - lo))
    }

    /// Counts per bin of `width_s` (a multiple of 10 ms), `bins` of them, lengths past the
    /// last bin in the last one; negative lengths are left out.
    fn histogram(&self, width_s: f64, bins: usize) -> Vec<usize> {
        let mut counts = vec![0usize; bins.max(1)];
        let last = counts.len() - 1;
        let per = ((width_s * GAP_STEPS_PER_S).round() as usize).max(1);
        for (k, &c) in self.bins.iter().enumerate() {
            counts[(k / per).min(last)] += c as usize;
        }
        for g in self.outside_s.iter().filter(|g| **g >= 0.0) {
            let i = ((g / width_s).floor() as usize).min(last);
            counts[i] += 1;
        }
        counts
    }
}

/// Histogram of gap lengths with the dead-air limit.
#[derive(Debug, Clone)]
pub struct GapHistogram {
    /// Chart title.
    pub title: String,
    /// Every gap's length, counted.
    pub gaps: GapCounts,
    /// The dead-air limit, seconds.
    pub limit_s: f64,
}

impl Plot for GapHistogram {
    fn size(&self) -> (u32, u32) {
        (560, 320)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _png: bool,
    ) -> Result<(), String> {
        let p99 = self.gaps.quantile(0.99).unwrap_or(0.0);
        let x_max = (p99.max(self.limit_s * 2.0) + 0.5).min(30.0).ceil();
        let width = if x_max > 12.0 { 0.5 } else { 0.25 };
        let bins = (x_max / width).round() as usize;
        let counts = self.gaps.histogram(width, bins);
        let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title_style(17))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..x_max, 0.0..top * 1.3)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_desc(format!(
                "gap length (s; last bar: {:.0} s and longer)",
                x_max - width
            ))
            .y_desc("gaps (count)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(err)?;
        for (long, label, color) in [
            (false, "pause (shorter than the limit)", NEUTRAL),
            (true, "dead air", FAIL),
        ] {
            chart
                .draw_series(counts.iter().enumerate().filter_map(|(i, &c)| {
                    let x0 = i as f64 * width;
                    let is_long = x0 + 1e-9 >= self.limit_s;
                    (c > 0 && is_long == long).then(|| {
                        Rectangle::new(
                            [(x0 + 0.02, 0.0), (x0 + width - 0.02, c as f64)],
                            color.filled(),
                        )
                    })
                }))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
        }
        chart
            .draw_series(LineSeries::new(
                [(self.limit_s, 0.0), (self.limit_s, top * 1.3)],
                FAIL.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("dead-air limit {} s", self.limit_s))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], FAIL.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// An agent's figures per date: four small panels.
#[derive(Debug, Clone)]
pub struct Trend {
    /// Chart title.
    pub title: String,
    /// One point per date, oldest first.
    pub points: Vec<TrendPoint>,
    /// Speaking-rate band, syllables per minute.
    pub rate_band: (f64, f64),
    /// Loudness band, dBov.
    pub loudness_band: (f64, f64),
}

type Series = Vec<(f64, f64, Option<bool>)>;

/// A trend value with its pass/fail.
type Judged = Option<(f64, Option<bool>)>;

fn trend_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    dates: &[String],
    series: &Series,
    band: Option<(f64, f64)>,
    fixed: Option<(f64, f64)>,
) -> Result<(), String> {
    let n = dates.len().max(1);
    let mut ys: Vec<f64> = series.iter().map(|p| p.1).collect();
    if let Some((a, b)) = band {
        ys.extend([a, b]);
    }
    let (lo, hi) = match fixed {
        Some(r) => r,
        None => {
            let (lo, hi) = finite_range(ys.into_iter()).unwrap_or((0.0, 1.0));
            padded(lo, hi, 0.1)
        }
    };
    let x_range = -0.5..(n as f64 - 0.5);
    let mut chart = ChartBuilder::on(area)
        .caption(title, title_style(15))
        .margin(6)
        .x_label_area_size(30)
        .y_label_area_size(48)
        .build_cartesian_2d(x_range.clone(), lo..hi)
        .map_err(err)?;
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < dates.len() {
            dates[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_label_formatter(&label)
        .y_label_formatter(&|y| format!("{y:.d$}", d = digits(hi - lo)))
        .x_labels(n.min(6))
        .y_desc(y_label)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 12))
        .draw()
        .map_err(err)?;
    if let Some((a, b)) = band {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x_range.start, a), (x_range.end, b)],
                PASS.mix(0.12).filled(),
            )))
            .map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(
            series.iter().map(|p| (p.0, p.1)),
            NEUTRAL.stroke_width(1),
        ))
        .map_err(err)?;
    chart
        .draw_series(
            series
                .iter()
                .map(|p| Circle::new((p.0, p.1), 4, pass_color(p.2).filled())),
        )
        .map_err(err)?;
    Ok(())
}

impl Plot for Trend {
    fn size(&self) -> (u32, u32) {
        (1120, 480)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _png: bool,
    ) -> Result<(), String> {
        let root = root.titled(&self.title, title_style(17)).map_err(err)?;
        let panels = root.split_evenly((2, 2));
        let dates: Vec<String> = self.points.iter().map(|p| p.date.clone()).collect();
        let collect = |f: &dyn Fn(&TrendPoint) -> Judged| -> Series {
            self.points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| f(p).map(|(v, pass)| (i as f64, v, pass)))
                .collect()
        };
        let inside = |v: f64, (a, b): (f64, f64)| Some(v >= a && v <= b);
        let rate = collect(&|p| p.rate_median_spm.map(|v| (v, inside(v, self.rate_band))));
        let level = collect(&|p| {
            p.loudness_median_dbov
                .map(|v| (v, inside(v, self.loudness_band)))
        });
        let greet = collect(&|p| p.greeting_pass_share.map(|v| (100.0 * v, Some(v >= 0.999))));
        let dead = collect(&|p| p.dead_air_per_call.map(|v| (v, Some(v == 0.0))));
        trend_panel(
            &panels[0],
            "Median speaking rate (band shaded)",
            "syllables / min",
            &dates,
            &rate,
            Some(self.rate_band),
            None,
        )?;
        trend_panel(
            &panels[1],
            "Median speech level (band shaded)",
            "active speech level (dBov)",
            &dates,
            &level,
            Some(self.loudness_band),
            None,
        )?;
        trend_panel(
            &panels[2],
            "Calls greeted in time",
            "% of calls",
            &dates,
            &greet,
            None,
            Some((0.0, 105.0)),
        )?;
        let dead_max = dead.iter().map(|p| p.1).fold(1.0, f64::max);
        trend_panel(
            &panels[3],
            "Dead-air gaps per call",
            "gaps per call",
            &dates,
            &dead,
            None,
            Some((0.0, dead_max * 1.15)),
        )?;
        Ok(())
    }
}

/// The timeline of one call: who speaks, levels and the rolling speaking rate.
#[derive(Debug, Clone)]
pub struct Timeline<'a> {
    /// Chart title.
    pub title: String,
    /// The call.
    pub call: &'a CallReport,
    /// The targets drawn.
    pub config: &'a Config,
}

fn mmss(t: f64) -> String {
    let t = t.max(0.0).round() as u64;
    format!("{}:{:02}", t / 60, t % 60)
}

/// Runs of consecutive values (a `None` breaks the line).
fn runs(points: impl Iterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (t, v) in points {
        match v.filter(|v| v.is_finite()) {
            Some(v) => out.last_mut().map(|r| r.push((t, v))).unwrap_or(()),
            None => {
                if out.last().is_some_and(|r| !r.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Room on the right of timeline panels for their legends, pixels.
const LEGEND_W: u32 = 250;

/// A legend entry's mark.
#[derive(Debug, Clone, Copy)]
enum Mark {
    Fill(RGBAColor),
    Line(RGBAColor, u32),
    Tick(RGBColor),
}

/// Draws a legend in the right margin of a timeline panel (outside the data).
fn side_legend<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    items: &[(String, Mark)],
) -> Result<(), String> {
    let plot = chart.plotting_area();
    let (w, _) = plot.dim_in_pixel();
    let (px, py) = plot.get_base_pixel();
    let (ax, ay) = area.get_base_pixel();
    let x = px - ax + w as i32 + 14;
    let style = (FONT, 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, mark)) in items.iter().enumerate() {
        let y = py - ay + 8 + 18 * i as i32;
        match *mark {
            Mark::Fill(c) => area.draw(&Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.filled())),
            Mark::Line(c, width) => area.draw(&PathElement::new(
                [(x, y), (x + 16, y)],
                c.stroke_width(width),
            )),
            Mark::Tick(c) => area.draw(&PathElement::new(
                [(x + 8, y - 7), (x + 8, y + 7)],
                c.stroke_width(2),
            )),
        }
        .map_err(err)?;
        area.draw(&Text::new(label.clone(), (x + 22, y), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

impl Timeline<'_> {
    fn duration_s(&self) -> f64 {
        let c = self.call;
        let ends = [
            c.duration_s,
            c.speech.as_ref().and_then(|s| s.last_offset_s),
        ];
        ends.iter().flatten().copied().fold(1.0, f64::max)
    }

    fn speech_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let c = self.call;
        let d = self.duration_s();
        let mixed = c.layout.as_deref() == Some("mixed_mono");
        let customer = c.customer.as_ref();
        let rows = if customer.is_some() { 2.0 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption("Who speaks: speech, dead air and overtalk", title_style(15))
            .margin(6)
            .margin_right(LEGEND_W)
            .x_label_area_size(22)
            .y_label_area_size(86)
            .build_cartesian_2d(0.0..d, -0.5..rows - 0.5)
            .map_err(err)?;
        let has_customer = customer.is_some();
        let row_names: Vec<(f64, String)> = match (has_customer, mixed) {
            (true, _) => vec![(0.0, "customer".into()), (1.0, "agent".into())],
            (false, true) => vec![(0.0, "speech (mixed)".into())],
            (false, false) => vec![(0.0, "agent".into())],
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_label_formatter(&|t| mmss(*t))
            .y_labels(0)
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        row_labels(area, |y| chart.backend_coord(&(0.0, y)), &row_names)?;
        let mut items: Vec<(String, Mark)> = Vec::new();
        let full = |s: &[f64; 2], color: RGBAColor| {
            Rectangle::new([(s[0], -0.5), (s[1], rows - 0.5)], color.filled())
        };
        let long_gaps = c
            .silence
            .as_ref()
            .map(|s| s.long_gaps.clone())
            .unwrap_or_default();
        chart
            .draw_series(long_gaps.iter().map(|g| full(g, FAIL.mix(0.25))))
            .map_err(err)?;
        items.push((
            format!(
                "dead air: nobody speaks {} s or more",
                self.config.silence.gap_limit_s
            ),
            Mark::Fill(FAIL.mix(0.35)),
        ));
        if has_customer {
            let overtalk = c
                .interaction
                .as_ref()
                .map(|i| i.overtalk.clone())
                .unwrap_or_default();
            chart
                .draw_series(overtalk.iter().map(|g| full(g, OVERTALK.mix(0.45))))
                .map_err(err)?;
            items.push(("overtalk: both speak".into(), Mark::Fill(OVERTALK.mix(0.6))));
        }
        let agent_row = if has_customer { 1.0 } else { 0.0 };
        let bar = |s: &[f64; 2], row: f64, color: RGBColor| {
            Rectangle::new([(s[0], row - 0.3), (s[1], row + 0.3)], color.filled())
        };
        let agent_segments = c
            .speech
            .as_ref()
            .map(|s| s.segments.clone())
            .unwrap_or_default();
        chart
            .draw_series(agent_segments.iter().map(|s| bar(s, agent_row, AGENT)))
            .map_err(err)?;
        items.push((
            if mixed {
                "speech (both parties)"
            } else {
                "agent speech"
            }
            .into(),
            Mark::Fill(AGENT.to_rgba()),
        ));
        if let Some(cu) = customer {
            chart
                .draw_series(cu.speech.segments.iter().map(|s| bar(s, 0.0, CUSTOMER)))
                .map_err(err)?;
            items.push(("customer speech".into(), Mark::Fill(CUSTOMER.to_rgba())));
        }
        if let Some(g) = c.silence.as_ref().and_then(|s| s.greeting_latency_s) {
            let late = g > self.config.silence.greeting_limit_s;
            let color = if late { FAIL } else { PASS };
            chart
                .draw_series(LineSeries::new(
                    [(g, -0.5), (g, rows - 0.5)],
                    color.stroke_width(2),
                ))
                .map_err(err)?;
            items.push((
                format!(
                    "first word at {g:.1} s ({})",
                    if late {
                        "late greeting"
                    } else {
                        "greeting in time"
                    }
                ),
                Mark::Tick(color),
            ));
        }
        side_legend(area, &chart, &items)
    }

    fn level_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let c = self.call;
        let d = self.duration_s();
        let Some(tl) = c.timeline.as_ref() else {
            area.draw(&Text::new(
                "no level timeline stored for this call (analysed by an older version)",
                (90, 40),
                (FONT, 13),
            ))
            .map_err(err)?;
            return Ok(());
        };
        let step = if tl.step_s > 0.0 { tl.step_s } else { 1.0 };
        let mut parties = vec![("agent", &tl.agent, AGENT)];
        if let Some(cu) = &tl.customer {
            parties.push(("customer", cu, CUSTOMER));
        }
        let all = parties.iter().flat_map(|(_, p, _)| {
            p.level_dbfs
                .iter()
                .chain(p.short_term_lufs.iter())
                .flatten()
                .copied()
        });
        let (lo, hi) = finite_range(all).unwrap_or((-60.0, 0.0));
        let (lo, hi) = padded(lo.max(-90.0), hi.min(0.0).max(lo.max(-90.0) + 10.0), 0.05);
        let mut chart = ChartBuilder::on(area)
            .caption(
                "Level: RMS per second and short-term loudness (3 s)",
                title_style(15),
            )
            .margin(6)
            .margin_right(LEGEND_W)
            .x_label_area_size(22)
            .y_label_area_size(86)
            .build_cartesian_2d(0.0..d, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_label_formatter(&|t| mmss(*t))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc("dBFS / LUFS")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(err)?;
        let mixed = c.layout.as_deref() == Some("mixed_mono");
        let mut items: Vec<(String, Mark)> = Vec::new();
        for (name, p, color) in parties {
            let who = if mixed { "mix" } else { name };
            let thin = color.mix(0.45);
            for r in runs(
                p.level_dbfs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i as f64 + 0.5) * step, *v)),
            ) {
                chart
                    .draw_series(LineSeries::new(r, thin.stroke_width(1)))
                    .map_err(err)?;
            }
            items.push((format!("{who} level (dBFS, 1 s RMS)"), Mark::Line(thin, 1)));
            let bold = if name == "agent" { LOUDNESS } else { color };
            for r in runs(
                p.short_term_lufs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i as f64 + 1.0) * step, *v)),
            ) {
                chart
                    .draw_series(LineSeries::new(r, bold.stroke_width(2)))
                    .map_err(err)?;
            }
            items.push((
                format!("{who} short-term loudness (LUFS)"),
                Mark::Line(bold.to_rgba(), 2),
            ));
        }
        side_legend(area, &chart, &items)
    }

    fn rate_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let c = self.call;
        let d = self.duration_s();
        let cfg = &self.config.rate;
        let tl: Vec<(f64, Option<f64>)> = c
            .rate
            .as_ref()
            .map(|r| r.timeline.clone())
            .unwrap_or_default();
        let top = tl
            .iter()
            .filter_map(|p| p.1)
            .fold(cfg.max_spm * 1.5, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "Rolling speaking rate (last {:.0} s of speech)",
                    cfg.timeline_window_s
                ),
                title_style(15),
            )
            .margin(6)
            .margin_right(LEGEND_W)
            .x_label_area_size(36)
            .y_label_area_size(86)
            .build_cartesian_2d(0.0..d, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_label_formatter(&|t| mmss(*t))
            .x_desc("time from the start of the call (min:s)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc("syllables / min")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, cfg.min_spm), (d, cfg.max_spm)],
                PASS.mix(0.15).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, cfg.target_spm), (d, cfg.target_spm)],
                PASS.stroke_width(1),
            ))
            .map_err(err)?;
        for r in runs(tl.iter().copied()) {
            chart
                .draw_series(LineSeries::new(r, AGENT.stroke_width(2)))
                .map_err(err)?;
        }
        let mut items = vec![
            (
                format!("target band {:.0}-{:.0} /min", cfg.min_spm, cfg.max_spm),
                Mark::Fill(PASS.mix(0.3)),
            ),
            (
                format!("target {:.0} /min", cfg.target_spm),
                Mark::Line(PASS.to_rgba(), 1),
            ),
            ("speaking rate".to_string(), Mark::Line(AGENT.to_rgba(), 2)),
        ];
        if tl.iter().all(|p| p.1.is_none()) {
            items.push((
                "(too little speech for a rate)".into(),
                Mark::Fill(WHITE.to_rgba()),
            ));
        }
        side_legend(area, &chart, &items)
    }
}

impl Plot for Timeline<'_> {
    fn size(&self) -> (u32, u32) {
        (1120, 640)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _png: bool,
    ) -> Result<(), String> {
        let root = root.titled(&self.title, title_style(17)).map_err(err)?;
        let (speech, rest) = root.split_vertically(180);
        let (level, rate) = rest.split_vertically(205);
        self.speech_panel(&speech)?;
        self.level_panel(&level)?;
        self.rate_panel(&rate)
    }
}

/// All agents side by side: rate and loudness (median with 10th-90th percentile), and the
/// shares of calls greeted in time and free of dead air.
#[derive(Debug, Clone)]
pub struct Overview<'a> {
    /// The agents.
    pub summaries: &'a [AgentSummary],
    /// The targets drawn.
    pub config: &'a Config,
    /// Each agent's row number in the team table (names a PNG cannot draw become `agent N`).
    pub numbers: Vec<usize>,
}

impl Overview<'_> {
    fn names(&self, png: bool) -> Vec<String> {
        self.summaries
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if png {
                    let n = self.numbers.get(i).copied().unwrap_or(i + 1);
                    fonts::png_text(&s.agent, &format!("agent {n}"))
                } else {
                    s.agent.clone()
                }
            })
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn whisker_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    names: Option<&[String]>,
    rows: &[(Option<f64>, Option<f64>, Option<f64>)],
    band: (f64, f64),
) -> Result<(), String> {
    let n = rows.len();
    let values = rows
        .iter()
        .flat_map(|r| [r.0, r.1, r.2])
        .flatten()
        .chain([band.0, band.1]);
    let (lo, hi) = finite_range(values).unwrap_or((0.0, 1.0));
    let (lo, hi) = padded(lo, hi, 0.05);
    let y_range = -0.6..n as f64 - 0.4;
    let mut chart = ChartBuilder::on(area)
        .caption(title, title_style(15))
        .margin(6)
        .x_label_area_size(36)
        .y_label_area_size(if names.is_some() { 130 } else { 8 })
        .build_cartesian_2d(lo..hi, y_range)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_desc(x_label)
        .x_label_formatter(&|x| format!("{x:.d$}", d = digits(hi - lo)))
        .x_labels(6)
        .y_labels(0)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 12))
        .draw()
        .map_err(err)?;
    if let Some(ns) = names {
        let rows: Vec<(f64, String)> = ns
            .iter()
            .enumerate()
            .map(|(i, name)| ((n - 1 - i) as f64, name.clone()))
            .collect();
        row_labels(area, |y| chart.backend_coord(&(lo, y)), &rows)?;
    }
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(band.0, -0.6), (band.1, n as f64 - 0.4)],
            PASS.mix(0.12).filled(),
        )))
        .map_err(err)?;
    for (i, (median, p10, p90)) in rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        if let (Some(a), Some(b)) = (p10, p90) {
            chart
                .draw_series(LineSeries::new(
                    [(*a, y), (*b, y)],
                    BLACK.mix(0.6).stroke_width(2),
                ))
                .map_err(err)?;
        }
        if let Some(m) = median {
            let color = pass_color(Some(*m >= band.0 && *m <= band.1));
            chart
                .draw_series(std::iter::once(Circle::new((*m, y), 5, color.filled())))
                .map_err(err)?;
        }
    }
    Ok(())
}

fn share_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    shares: &[Option<f64>],
) -> Result<(), String> {
    let n = shares.len();
    let mut chart = ChartBuilder::on(area)
        .caption(title, title_style(15))
        .margin(6)
        .x_label_area_size(36)
        .y_label_area_size(8)
        .build_cartesian_2d(0.0..100.0, -0.6..n as f64 - 0.4)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_desc("% of calls (green pass, red fail)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_labels(5)
        .y_labels(0)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 12))
        .draw()
        .map_err(err)?;
    for (i, share) in shares.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        if let Some(s) = share {
            let p = 100.0 * s;
            chart
                .draw_series([
                    Rectangle::new([(0.0, y - 0.32), (p, y + 0.32)], PASS.filled()),
                    Rectangle::new([(p, y - 0.32), (100.0, y + 0.32)], FAIL.filled()),
                ])
                .map_err(err)?;
        }
    }
    Ok(())
}

impl Plot for Overview<'_> {
    fn size(&self) -> (u32, u32) {
        (1120, 110 + 30 * self.summaries.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        png: bool,
    ) -> Result<(), String> {
        let root = root
            .titled(
                "Team overview: each agent against the standard",
                title_style(17),
            )
            .map_err(err)?;
        let names = self.names(png);
        let (w, _) = root.dim_in_pixel();
        let areas =
            root.split_by_breakpoints([w * 37 / 100, w * 58 / 100, w * 79 / 100], [] as [u32; 0]);
        let s = self.summaries;
        let rate: Vec<_> = s
            .iter()
            .map(|a| (a.rate_median_spm, a.rate_p10_spm, a.rate_p90_spm))
            .collect();
        let level: Vec<_> = s
            .iter()
            .map(|a| {
                let half = a.loudness_spread_db.map(|x| x / 2.0);
                (
                    a.loudness_median_dbov,
                    a.loudness_median_dbov.zip(half).map(|(m, h)| m - h),
                    a.loudness_median_dbov.zip(half).map(|(m, h)| m + h),
                )
            })
            .collect();
        let c = &self.config;
        whisker_panel(
            &areas[0],
            "Speaking rate (median, p10-p90)",
            "syllables / min",
            Some(&names),
            &rate,
            (c.rate.min_spm, c.rate.max_spm),
        )?;
        whisker_panel(
            &areas[1],
            "Speech level (median, spread)",
            "dBov",
            None,
            &level,
            (c.loudness.min_dbov, c.loudness.max_dbov),
        )?;
        let greet: Vec<_> = s.iter().map(|a| a.greeting_pass_share).collect();
        share_panel(&areas[2], "Greeted in time", &greet)?;
        let dead: Vec<_> = s.iter().map(|a| a.dead_air_pass_share).collect();
        share_panel(&areas[3], "Calls without dead air", &dead)?;
        Ok(())
    }
}

/// The per-call values of one rule for an agent's calls (oldest first); a call that was not
/// analysed keeps its place with no value, so plots and tables number calls alike.
pub fn per_call_values(
    calls: &[&CallReport],
    rule: &str,
    value: impl Fn(&CallReport) -> Option<f64>,
) -> (Vec<Option<f64>>, Vec<Option<bool>>) {
    calls
        .iter()
        .map(|c| match c.error {
            None => (value(c), crate::report::agents::pass_of(c, rule)),
            Some(_) => (None, None),
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_missing_values() {
        let r = runs(
            [
                (0.0, Some(1.0)),
                (1.0, None),
                (2.0, Some(2.0)),
                (3.0, Some(3.0)),
            ]
            .into_iter(),
        );
        assert_eq!(r, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
        assert!(runs([(0.0, None)].into_iter()).is_empty());
    }

    #[test]
    fn gap_counts_match_the_exact_lengths() {
        // Lengths on 10 ms steps (as the gaps of calls.jsonl, rounded to 1 ms, mostly are
        // not: 0.005 lands in the 0 step), one negative and two past 30 s.
        let gaps = [
            0.3, 2.5, 0.005, 1.27, 2.5, 45.0, 31.5, 12.34, -0.2, 0.3, 7.0, 2.0, 29.99,
        ];
        let mut counts = GapCounts::default();
        for g in gaps {
            counts.add(g);
        }
        counts.add(f64::NAN);
        assert_eq!(counts.len(), gaps.len() as u64);
        let steps: Vec<f64> = gaps
            .iter()
            .map(|&g| {
                if (0.0..30.0).contains(&g) {
                    (g * 100.0).floor() / 100.0
                } else {
                    g
                }
            })
            .collect();
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            let want = crate::report::agents::quantile(&steps, q).unwrap();
            let got = counts.quantile(q).unwrap();
            assert!((got - want).abs() < 1e-12, "q {q}: {got} vs {want}");
        }
        // Bins of 0.5 s up to 10 s: the straightforward count over the lengths.
        let hist = counts.histogram(0.5, 20);
        let mut want = vec![0usize; 20];
        for g in gaps.iter().filter(|g| **g >= 0.0) {
            want[((g / 0.5).floor() as usize).min(19)] += 1;
        }
        assert_eq!(hist, want);
        assert_eq!(GapCounts::default().quantile(0.5), None);
    }

    #[test]
    fn time_labels_are_minutes_and_seconds() {
        assert_eq!(mmss(0.0), "0:00");
        assert_eq!(mmss(65.4), "1:05");
        assert_eq!(mmss(600.0), "10:00");
    }

    #[test]
    fn per_call_svg_has_title_band_and_marks() {
        if fonts::status().family.is_none() {
            return;
        }
        let plot = PerCall {
            title: "Speaking rate per call: 张伟".into(),
            y_label: "syllables / min".into(),
            values: vec![Some(110.0), Some(180.0), None],
            pass: vec![Some(true), Some(false), None],
            band: Some((100.0, 140.0)),
            target: Some(120.0),
            limit: None,
            bars: false,
            rule_label: "target band 100-140 /min".into(),
        };
        let svg = to_svg(&plot).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("张伟"));
        assert!(svg.contains("syllables / min"));
        // One pass and one fail mark, in their colours.
        assert!(
            svg.contains("#2E7D32") || svg.contains("rgb(46,125,50)"),
            "no pass colour"
        );
        assert!(
            svg.contains("#C62828") || svg.contains("rgb(198,40,40)"),
            "no fail colour"
        );
    }
}
