//! Figures as SVG (drawn with plotters), and PNG copies rendered with resvg.

use std::sync::{Arc, OnceLock};

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::usvg::fontdb;

use cnnvar_analysis::{ExperimentStats, LevelStats};

/// Figure size in pixels.
pub(crate) const SIZE: (u32, u32) = (720, 400);

/// Space around every chart, in pixels.
pub(crate) const MARGIN: u32 = 12;

/// Width of the value axis (tick labels and description) left of a per-level chart.
pub(crate) const VALUE_AXIS_WIDTH: u32 = 60;

/// Labels longer than this many characters are shortened with `…`.
const MAX_LABEL_CHARS: usize = 40;

/// Width of one character of an axis label, in pixels (generous for DejaVu Sans).
const LABEL_CHAR_WIDTH: u32 = 6;

/// The font every PNG is drawn with: DejaVu Sans (Bitstream Vera licence, see
/// `assets/LICENSE-DejaVu.txt`), compiled in so that the figures carry the same text on
/// every machine, whatever fonts it has.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name inside [`FONT`].
const FONT_FAMILY: &str = "DejaVu Sans";

/// A drawn figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem, e.g. `exp1-accuracy`.
    pub name: String,
    /// What it shows (caption).
    pub caption: String,
    /// SVG text.
    pub svg: String,
    /// The PNG, when it is not the SVG as [`png`] renders it (a figure with raster
    /// images, which that renderer does not draw).
    pub png: Option<Vec<u8>>,
}

impl Figure {
    /// The figure's PNG: its own, or its SVG rendered.
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        match &self.png {
            Some(png) => Ok(png.clone()),
            None => png(&self.svg),
        }
    }
}

pub(crate) type DrawResult<T> = Result<T, String>;

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Colours for levels, in order: matplotlib's tab10, so an experiment's first ten levels
/// (the size experiment has nine) each get their own.
pub(crate) fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// Axis range covering `values` with a margin, in [0, 1] for accuracies.
fn range(values: impl Iterator<Item = f64>, clamp01: bool) -> (f64, f64) {
    let (mut lo, mut hi) =
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(0.005);
    lo -= pad;
    hi += pad;
    if clamp01 {
        lo = lo.max(0.0);
        hi = hi.min(1.0);
    }
    (lo, hi)
}

/// A continuous axis over `0..n` whose ticks are the centres of its `n` unit cells, so
/// that a label formatter can name each cell (see [`cell`]).
pub(crate) struct Cells {
    /// The axis `0..n`.
    axis: RangedCoordf64,
    /// `n`.
    cells: usize,
}

impl Ranged for Cells {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.axis.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            (0..self.cells).map(|i| i as f64 + 0.5).collect()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.axis.range()
    }
}

/// [`Cells`] over `0..n`.
pub(crate) fn cell_axis(n: usize) -> Cells {
    Cells { axis: (0.0..n as f64).into(), cells: n }
}

/// The index of the cell of [`cell_axis`] a tick belongs to.
pub(crate) fn cell(tick: f64) -> usize {
    tick.max(0.0).floor() as usize
}

/// `label`, shortened with `…` to [`MAX_LABEL_CHARS`] characters.
pub(crate) fn short(label: &str) -> String {
    shorten(label, MAX_LABEL_CHARS)
}

/// `label`, shortened with `…` to `max` characters (at least 1).
pub(super) fn shorten(label: &str, max: usize) -> String {
    let max = max.max(1);
    if label.chars().count() <= max {
        return label.to_string();
    }
    let mut s: String = label.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// Pixels needed by the longest of `labels`, within `min..=max`.
pub(crate) fn label_width(labels: &[String], min: u32, max: u32) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    (longest * LABEL_CHAR_WIDTH + 16).clamp(min, max)
}

/// Every run as a dot and the mean ± 95% CI, per level, of a per-level metric.
fn dots_and_means(
    title: &str,
    y_desc: &str,
    levels: &[LevelStats],
    values: impl Fn(&LevelStats) -> Vec<f64>,
    summary: impl Fn(&LevelStats) -> Option<cnnvar_analysis::stats::Summary>,
    clamp01: bool,
) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let all: Vec<f64> = levels.iter().flat_map(&values).collect();
        let (lo, hi) = range(all.iter().copied(), clamp01);
        let n = levels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(VALUE_AXIS_WIDTH)
            .build_cartesian_2d(cell_axis(n), lo..hi)
            .map_err(err)?;
        let labels: Vec<String> = levels.iter().map(|l| short(&l.label)).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| labels.get(cell(*x)).cloned().unwrap_or_default())
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        for (i, level) in levels.iter().enumerate() {
            let c = color(i);
            let x = i as f64 + 0.5;
            chart
                .draw_series(
                    values(level).into_iter().map(|v| Circle::new((x, v), 4, c.mix(0.6).filled())),
                )
                .map_err(err)?;
            if let Some(s) = summary(level) {
                let (l, h) = s.ci.unwrap_or((s.mean, s.mean));
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        x,
                        l,
                        s.mean,
                        h,
                        BLACK.stroke_width(2),
                        16,
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Mean test (solid, with a 95% band) and train (dashed) accuracy per epoch, per level.
fn learning_curves(exp: &ExperimentStats) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let epochs = exp.levels.iter().map(|l| l.curve.len()).max().unwrap_or(1).max(1);
        let values = exp.levels.iter().flat_map(|l| {
            l.curve.iter().flat_map(|p| {
                let test = p.test.as_ref();
                [p.train.mean]
                    .into_iter()
                    .chain(test.map(|t| t.mean))
                    .chain(test.map(|t| t.ci.map_or(t.mean, |c| c.0)))
            })
        });
        let (lo, hi) = range(values, true);
        let x_hi = if epochs == 1 { 1.5 } else { epochs as f64 };
        let x_lo = if epochs == 1 { 0.5 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: learning curves", exp.name), ("sans-serif", 18))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_lo..x_hi, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(if exp.levels.iter().flat_map(|l| &l.curve).any(|p| p.test.is_some()) {
                "accuracy (test solid, train dashed)"
            } else {
                "training accuracy (dashed; no test accuracy per epoch)"
            })
            .x_labels(epochs.min(12))
            .draw()
            .map_err(err)?;
        for (i, level) in exp.levels.iter().enumerate() {
            let c = color(i);
            // The epochs with a test accuracy (a script's runs may report none).
            let tested: Vec<(f64, &cnnvar_analysis::stats::Summary)> = level
                .curve
                .iter()
                .filter_map(|p| Some((p.epoch as f64, p.test.as_ref()?)))
                .collect();
            let band: Vec<(f64, f64)> = tested
                .iter()
                .map(|(x, t)| (*x, t.ci.map_or(t.mean, |c| c.1)))
                .chain(tested.iter().rev().map(|(x, t)| (*x, t.ci.map_or(t.mean, |c| c.0))))
                .collect();
            if band.len() > 2 {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                    .map_err(err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    tested.iter().map(|(x, t)| (*x, t.mean)),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(exp_label(exp, &level.label))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart
                .draw_series(DashedLineSeries::new(
                    level.curve.iter().map(|p| (p.epoch as f64, p.train.mean)),
                    6,
                    4,
                    c.stroke_width(1),
                ))
                .map_err(err)?;
            chart
                .draw_series(tested.iter().map(|(x, t)| Circle::new((*x, t.mean), 3, c.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A level's label as figures show it: `train size 1000` for an experiment of one
/// factor, the level's label otherwise.
pub(super) fn exp_label(exp: &ExperimentStats, level: &str) -> String {
    match exp.factors.as_slice() {
        [one] if one != "seed source" => format!("{} {level}", one.replace('_', " ")),
        _ => level.to_string(),
    }
}

/// Mean per-class test accuracy, levels (rows, first on top) × classes (columns,
/// named by the data set's class names).
fn per_class_heatmap(exp: &ExperimentStats) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let classes = exp.levels.iter().map(|l| l.per_class.len()).max().unwrap_or(0).max(1);
        let n = exp.levels.len().max(1);
        let class_labels: Vec<String> = (0..classes)
            .map(|c| exp.class_names.get(c).map_or_else(|| c.to_string(), |name| short(name)))
            .collect();
        let level_labels: Vec<String> =
            exp.levels.iter().map(|l| short(&exp_label(exp, &l.label))).collect();
        let level_area = label_width(&level_labels, 80, 300);
        let column = label_width(&class_labels, 48, 120);
        let width = (2 * MARGIN + level_area + column * classes as u32).max(SIZE.0);
        let height = (140 + 40 * n as u32).min(700);
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: test accuracy per class", exp.name), ("sans-serif", 18))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(level_area)
            .build_cartesian_2d(cell_axis(classes), cell_axis(n))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("class")
            .x_label_formatter(&|x| class_labels.get(cell(*x)).cloned().unwrap_or_default())
            .y_label_formatter(&|y| {
                n.checked_sub(1 + cell(*y))
                    .and_then(|i| level_labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .draw()
            .map_err(err)?;
        for (li, level) in exp.levels.iter().enumerate() {
            let y = (n - 1 - li) as f64;
            for (c, &acc) in level.per_class.iter().enumerate() {
                let shade = (255.0 * (1.0 - acc.clamp(0.0, 1.0))) as u8;
                let fill = RGBColor(shade, (shade as u16 * 3 / 4 + 60).min(255) as u8, 255);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(c as f64, y), (c as f64 + 1.0, y + 1.0)],
                        fill.filled(),
                    )))
                    .map_err(err)?;
                let ink = if acc > 0.6 { &WHITE } else { &BLACK };
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{:.0}", acc * 100.0),
                        (c as f64 + 0.5, y + 0.5),
                        ("sans-serif", 13)
                            .into_font()
                            .color(ink)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Histogram of test accuracy for each seed source.
fn seed_spread(exp: &ExperimentStats) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let all: Vec<f64> = exp.levels.iter().flat_map(|l| l.accuracies.iter().copied()).collect();
        let (lo, hi) = range(all.iter().copied(), true);
        let bins = 12usize;
        let width = (hi - lo) / bins as f64;
        let counts: Vec<Vec<usize>> = exp
            .levels
            .iter()
            .map(|l| {
                let mut c = vec![0usize; bins];
                for &v in &l.accuracies {
                    let b = (((v - lo) / width) as usize).min(bins - 1);
                    c[b] += 1;
                }
                c
            })
            .collect();
        let max = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: spread of test accuracy by seed source", exp.name),
                ("sans-serif", 18),
            )
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, 0.0..max as f64 + 0.5)
            .map_err(err)?;
        chart.configure_mesh().x_desc("test accuracy").y_desc("runs").draw().map_err(err)?;
        let k = exp.levels.len().max(1) as f64;
        for (i, (level, c)) in exp.levels.iter().zip(&counts).enumerate() {
            let col = color(i);
            chart
                .draw_series(c.iter().enumerate().filter(|(_, n)| **n > 0).map(|(b, &n)| {
                    let x0 = lo + b as f64 * width + i as f64 * width / k;
                    Rectangle::new([(x0, 0.0), (x0 + width / k, n as f64)], col.mix(0.8).filled())
                }))
                .map_err(err)?
                .label(format!(
                    "{} (sd {:.2} pts)",
                    level.label,
                    100.0 * level.test_accuracy.as_ref().and_then(|s| s.sd).unwrap_or(0.0)
                ))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Per level, the observed sd of test accuracy between seeds (dark), the floor a test
/// set of that size alone produces with its 95% bootstrap interval (light, with a
/// whisker), and the excess from training (hatched colour); `None` when no level has
/// test-set noise.
fn test_set_noise(exp: &ExperimentStats) -> DrawResult<Option<String>> {
    if exp.levels.iter().all(|l| l.test_set_noise.is_none()) {
        return Ok(None);
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = exp
            .levels
            .iter()
            .filter_map(|l| l.test_set_noise.as_ref())
            .flat_map(|n| [n.observed_sd, n.floor_sd, n.floor_ci.map_or(0.0, |c| c.1), n.excess_sd])
            .fold(0.0f64, f64::max);
        // Headroom for the legend.
        let hi = (100.0 * top * 1.45).max(0.05);
        let n = exp.levels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: seed noise against the test set's own", exp.name),
                ("sans-serif", 18),
            )
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(VALUE_AXIS_WIDTH)
            .build_cartesian_2d(cell_axis(n), 0.0..hi)
            .map_err(err)?;
        let labels: Vec<String> = exp.levels.iter().map(|l| short(&l.label)).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| labels.get(cell(*x)).cloned().unwrap_or_default())
            .y_desc("sd of test accuracy (points)")
            .draw()
            .map_err(err)?;
        let bars = [
            ("observed sd", RGBColor(31, 119, 180), 0usize),
            ("floor: the test set alone (95% CI)", RGBColor(160, 160, 160), 1),
            ("excess: training", RGBColor(255, 127, 14), 2),
        ];
        for (name, colour, k) in bars {
            let heights: Vec<(f64, f64)> = exp
                .levels
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let n = l.test_set_noise.as_ref()?;
                    let v = [n.observed_sd, n.floor_sd, n.excess_sd][k];
                    Some((i as f64 + 0.14 + 0.24 * k as f64, 100.0 * v))
                })
                .collect();
            chart
                .draw_series(
                    heights
                        .iter()
                        .map(|&(x, v)| Rectangle::new([(x, 0.0), (x + 0.24, v)], colour.filled())),
                )
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        for (i, l) in exp.levels.iter().enumerate() {
            let Some(n) = l.test_set_noise.as_ref() else { continue };
            let Some((lo, hi)) = n.floor_ci else { continue };
            // On the floor's bar, marking the floor itself.
            let x = i as f64 + 0.14 + 0.24 + 0.12;
            chart
                .draw_series(std::iter::once(ErrorBar::new_vertical(
                    x,
                    100.0 * lo,
                    100.0 * n.floor_sd,
                    100.0 * hi,
                    BLACK.stroke_width(1),
                    8,
                )))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Some(svg))
}

/// Every figure of one experiment.
pub fn experiment_figures(exp: &ExperimentStats) -> DrawResult<Vec<Figure>> {
    let mut figs = vec![Figure {
        name: format!("{}-accuracy", exp.name),
        caption: format!(
            "{}: final test accuracy of every run (dots) and the mean with its 95% confidence interval (bars), by level",
            exp.name
        ),
        svg: dots_and_means(
            &format!("{}: test accuracy by {}", exp.name, exp.factors.join(", ").replace('_', " ")),
            "test accuracy",
            &exp.levels,
            |l| l.accuracies.clone(),
            |l| l.test_accuracy.clone(),
            true,
        )?,
        png: None,
    }];
    figs.push(Figure {
        name: format!("{}-curves", exp.name),
        caption: format!("{}: mean test accuracy per epoch with its 95% band (solid) and mean training accuracy (dashed), by level", exp.name),
        svg: learning_curves(exp)?,
        png: None,
    });
    figs.push(Figure {
        name: format!("{}-gap", exp.name),
        caption: format!("{}: generalisation gap (train minus test accuracy) of every run and the mean with its 95% CI, by level", exp.name),
        svg: dots_and_means(
            &format!("{}: generalisation gap", exp.name),
            "train − test accuracy",
            &exp.levels,
            |l| l.gaps.clone(),
            |l| l.gap.clone(),
            false,
        )?,
        png: None,
    });
    if !exp.sources.is_empty() {
        figs.push(Figure {
            name: format!("{}-seed-spread", exp.name),
            caption: format!(
                "{}: histogram of final test accuracy when only one source of randomness varies",
                exp.name
            ),
            svg: seed_spread(exp)?,
            png: None,
        });
    }
    figs.extend(crate::sources_figures::source_sds(exp)?);
    figs.extend(crate::sources_figures::butterfly(exp)?);
    if let Some(svg) = test_set_noise(exp)? {
        figs.push(Figure {
            name: format!("{}-test-set-noise", exp.name),
            caption: format!(
                "{}: per level, the sd of test accuracy between seeds (blue), the floor that a test set of that size alone produces through independent errors on its examples, with its 95% bootstrap interval (grey), and the excess from training (orange); observed² ≈ floor² + excess²",
                exp.name
            ),
            svg,
            png: None,
        });
    }
    figs.push(Figure {
        name: format!("{}-per-class", exp.name),
        caption: format!("{}: mean test accuracy (%) of each class, by level", exp.name),
        svg: per_class_heatmap(exp)?,
        png: None,
    });
    Ok(figs)
}

/// The fonts PNGs are drawn with: only [`FONT`], standing in for every generic family.
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            db.set_sans_serif_family(FONT_FAMILY);
            db.set_serif_family(FONT_FAMILY);
            db.set_monospace_family(FONT_FAMILY);
            db.set_cursive_family(FONT_FAMILY);
            db.set_fantasy_family(FONT_FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// Renders an SVG to PNG bytes, its text in the embedded font (the same on every machine).
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    render(svg)?.encode_png().map_err(err)
}

/// Renders an SVG on white, its text in the embedded font (raster images are not
/// drawn: resvg is built without their decoders).
pub(super) fn render(svg: &str) -> Result<resvg::tiny_skia::Pixmap, String> {
    let opt = resvg::usvg::Options {
        fontdb: fonts(),
        font_family: FONT_FAMILY.into(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(err)?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("empty figure")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok(pixmap)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ranking_figure::ranking_figure;
    use cnnvar_analysis::rank::{FactorEffect, Ranking};
    use cnnvar_analysis::stats::summarize;
    use cnnvar_core::study::ExperimentKind;

    /// The text of every `<text>` element of an SVG, unescaped.
    pub(crate) fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..t.find("</text>")?];
                Some(body.trim().replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
            })
            .collect()
    }

    /// The size experiment has nine levels: none of them may share a colour.
    #[test]
    fn ten_levels_get_ten_colours() {
        let colours: std::collections::HashSet<_> = (0..10)
            .map(|i| {
                let c = color(i);
                (c.0, c.1, c.2)
            })
            .collect();
        assert_eq!(colours.len(), 10);
    }

    /// A factor whose levels' means spread by `sd` points.
    pub(crate) fn factor(title: &str, sd: f64) -> FactorEffect {
        FactorEffect {
            experiment: title.to_lowercase(),
            title: title.into(),
            levels: 2,
            runs: 10,
            design: Some(cnnvar_analysis::factor::FactorDesign::Blocked),
            blocks: 5,
            dropped_blocks: 0,
            effect_sd: Some(sd),
            effect_ci: Some((sd / 2.0, sd * 1.5)),
            noise_ratio: Some(sd / 0.5),
            noise_ratio_ci: Some((sd / 1.0, sd * 3.0)),
            noise_sd: Some(0.5),
            floor_sd: Some(0.4),
            excess_sd: Some(0.3),
            best: "a".into(),
            worst: "b".into(),
            best_minus_worst: Some(2.0 * sd),
            best_worst_ci: Some((sd, 3.0 * sd)),
            p: Some(0.01),
            p_holm: Some(0.02),
            rank_test: "friedman".into(),
            rank_p: Some(0.03),
            distinguishable: true,
            diverged: vec![],
            divergence_p: None,
            claim: None,
            sequential: None,
        }
    }

    pub(crate) fn ranking(titles: &[&str]) -> Ranking {
        Ranking {
            factors: titles
                .iter()
                .enumerate()
                .map(|(i, t)| factor(t, 10.0 / (i + 1) as f64))
                .collect(),
            noise_sd: Some(0.5),
            all_seeds_sd: None,
            floor_sd: Some(0.4),
            excess_sd: Some(0.3),
        }
    }

    fn level(label: &str, accs: &[f64], per_class: Vec<f64>) -> LevelStats {
        LevelStats {
            label: label.into(),
            planned: accs.len(),
            complete: accs.len(),
            accuracies: accs.to_vec(),
            scored_accuracies: accs.to_vec(),
            scored_replicates: (0..accs.len()).collect(),
            test_accuracy: summarize(accs),
            gap: summarize(&[0.01, 0.02, 0.03]),
            gaps: vec![0.01, 0.02, 0.03],
            per_class,
            ..Default::default()
        }
    }

    /// An experiment of `train_size` levels, three runs each.
    pub(crate) fn experiment(labels: &[&str]) -> ExperimentStats {
        let levels = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let m = 0.8 + 0.02 * i as f64;
                level(l, &[m - 0.01, m, m + 0.01], (0..10).map(|c| 0.5 + 0.04 * c as f64).collect())
            })
            .collect();
        ExperimentStats {
            name: "exp1".into(),
            title: "Training-set size".into(),
            claim: None,
            expect_best: None,
            kind: ExperimentKind::Factor,
            factors: vec!["train_size".into()],
            levels,
            pairs: vec![],
            paired_seeds: true,
            ordered_factor: None,
            trend: None,
            sources: vec![],
            learning_curve: None,
            cross_validation: None,
            class_names: vec![],
            factor: None,
            divergence: cnnvar_analysis::factor::divergence_test(&[]),
            claim_result: None,
        }
    }

    #[test]
    fn every_ranking_bar_carries_its_factor_title() {
        for titles in [
            &["Training-set size"][..],
            &["Training-set size", "Learning rate", "Batch size"],
            &["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"],
        ] {
            let fig = ranking_figure(&ranking(titles)).unwrap().unwrap();
            let texts = texts(&fig.svg);
            for t in titles {
                assert_eq!(
                    texts.iter().filter(|x| x.as_str() == *t).count(),
                    1,
                    "{t} in {texts:?}"
                );
            }
        }
    }

    /// The x of every dot (run) of a dots-and-means figure, grouped by level.
    fn dot_columns(svg: &str) -> Vec<f64> {
        let mut xs: Vec<f64> = svg
            .split("<circle")
            .skip(1)
            .filter_map(|c| {
                let v = &c[c.find("cx=\"")? + 4..];
                v[..v.find('"')?].parse().ok()
            })
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs
    }

    #[test]
    fn dot_plots_have_one_category_per_level_and_no_empty_slot() {
        for labels in [&["1000"][..], &["1000", "10000"], &["1000", "5000", "10000", "60000"]] {
            let figs = experiment_figures(&experiment(labels)).unwrap();
            let fig = figs.iter().find(|f| f.name == "exp1-accuracy").unwrap();
            let texts = texts(&fig.svg);
            for l in labels {
                assert!(texts.iter().any(|t| t == l), "{l} in {texts:?}");
            }
            let xs = dot_columns(&fig.svg);
            assert_eq!(xs.len(), labels.len(), "{xs:?}");
            // The plot spans [left, right]; each level's column sits in the middle of
            // its slot, so the slots left of the first and right of the last are equal.
            let left = (MARGIN + VALUE_AXIS_WIDTH) as f64;
            let right = (SIZE.0 - MARGIN) as f64;
            let slot = (right - left) / labels.len() as f64;
            let (first, last) = (xs[0], xs[xs.len() - 1]);
            assert!((first - left - slot / 2.0).abs() <= 2.0, "{first} {left} {slot}");
            assert!((right - last - slot / 2.0).abs() <= 2.0, "{last} {right} {slot}");
        }
    }

    #[test]
    fn heatmap_names_every_class_and_level() {
        let mut exp = experiment(&["1000", "10000", "60000"]);
        exp.class_names = cnnvar_core::DatasetName::FashionMnist
            .class_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let figs = experiment_figures(&exp).unwrap();
        let fig = figs.iter().find(|f| f.name == "exp1-per-class").unwrap();
        let labels = texts(&fig.svg);
        for class in &exp.class_names {
            assert_eq!(labels.iter().filter(|t| *t == class).count(), 1, "{class} in {labels:?}");
        }
        for level in ["train size 1000", "train size 10000", "train size 60000"] {
            assert_eq!(labels.iter().filter(|t| *t == level).count(), 1, "{level} in {labels:?}");
        }
        // Without class names (levels on different data sets), classes are numbered.
        exp.class_names.clear();
        let figs = experiment_figures(&exp).unwrap();
        let fig = figs.iter().find(|f| f.name == "exp1-per-class").unwrap();
        let numbers = texts(&fig.svg);
        for c in 0..10 {
            assert!(numbers.contains(&c.to_string()), "{c} in {numbers:?}");
        }
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(short("Training-set size"), "Training-set size");
        let long = "x".repeat(100);
        assert_eq!(short(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(short(&long).ends_with('…'));
    }

    /// Dark pixels in rows `rows` of a rendered figure.
    fn dark_pixels(pixmap: &resvg::tiny_skia::Pixmap, rows: std::ops::Range<u32>) -> usize {
        rows.flat_map(|y| (0..pixmap.width()).map(move |x| (x, y)))
            .filter_map(|(x, y)| pixmap.pixel(x, y))
            .filter(|p| p.red() < 128 && p.green() < 128 && p.blue() < 128)
            .count()
    }

    #[test]
    fn png_titles_are_drawn_with_the_embedded_font() {
        let fig = ranking_figure(&ranking(&["Training-set size"])).unwrap().unwrap();
        let bytes = png(&fig.svg).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        // The caption is drawn in the top 40 rows, above the plot.
        let title = dark_pixels(&pixmap, 0..40);
        assert!(title > 200, "only {title} dark pixels in the title region");
        // The factor's name is drawn left of its bar, below the caption.
        let label_rows = 40..pixmap.height() - 40;
        let label: usize = label_rows
            .flat_map(|y| (0..150).map(move |x| (x, y)))
            .filter_map(|(x, y)| pixmap.pixel(x, y))
            .filter(|p| p.red() < 128 && p.green() < 128 && p.blue() < 128)
            .count();
        assert!(label > 100, "only {label} dark pixels where the factor name goes");
    }
}
