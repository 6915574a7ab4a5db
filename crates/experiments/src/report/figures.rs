//! Figures as SVG (drawn with plotters), and PNG copies rendered with resvg.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::analysis::{ExperimentStats, LevelStats};

/// Figure size in pixels.
const SIZE: (u32, u32) = (720, 400);

/// A drawn figure.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem, e.g. `exp1-accuracy`.
    pub name: String,
    /// What it shows (caption).
    pub caption: String,
    /// SVG text.
    pub svg: String,
}

type DrawResult<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Colours for levels, in order.
fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
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

/// Every run as a dot and the mean ± 95% CI, per level, of a per-level metric.
fn dots_and_means(
    title: &str,
    y_desc: &str,
    levels: &[LevelStats],
    values: impl Fn(&LevelStats) -> Vec<f64>,
    summary: impl Fn(&LevelStats) -> Option<crate::analysis::stats::Summary>,
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
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n).into_segmented(), lo..hi)
            .map_err(err)?;
        let labels: Vec<String> = levels.iter().map(|l| l.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        for (i, level) in levels.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(
                    values(level).into_iter().map(|v| {
                        Circle::new((SegmentValue::CenterOf(i), v), 4, c.mix(0.6).filled())
                    }),
                )
                .map_err(err)?;
            if let Some(s) = summary(level) {
                let (l, h) = s.ci.unwrap_or((s.mean, s.mean));
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        SegmentValue::CenterOf(i),
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
            l.curve
                .iter()
                .flat_map(|p| [p.train.mean, p.test.mean, p.test.ci.map_or(p.test.mean, |c| c.0)])
        });
        let (lo, hi) = range(values, true);
        let x_hi = if epochs == 1 { 1.5 } else { epochs as f64 };
        let x_lo = if epochs == 1 { 0.5 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: learning curves", exp.name), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_lo..x_hi, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy (test solid, train dashed)")
            .x_labels(epochs.min(12))
            .draw()
            .map_err(err)?;
        for (i, level) in exp.levels.iter().enumerate() {
            let c = color(i);
            let band: Vec<(f64, f64)> = level
                .curve
                .iter()
                .map(|p| (p.epoch as f64, p.test.ci.map_or(p.test.mean, |c| c.1)))
                .chain(
                    level
                        .curve
                        .iter()
                        .rev()
                        .map(|p| (p.epoch as f64, p.test.ci.map_or(p.test.mean, |c| c.0))),
                )
                .collect();
            if band.len() > 2 {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                    .map_err(err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    level.curve.iter().map(|p| (p.epoch as f64, p.test.mean)),
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
                .draw_series(
                    level
                        .curve
                        .iter()
                        .map(|p| Circle::new((p.epoch as f64, p.test.mean), 3, c.filled())),
                )
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

fn exp_label(exp: &ExperimentStats, level: &str) -> String {
    match exp.factors.as_slice() {
        [one] if one != "seed source" => format!("{} {level}", one.replace('_', " ")),
        _ => level.to_string(),
    }
}

/// Mean per-class test accuracy, levels × classes.
fn per_class_heatmap(exp: &ExperimentStats) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let classes = exp.levels.iter().map(|l| l.per_class.len()).max().unwrap_or(0).max(1);
        let n = exp.levels.len().max(1);
        let height = (140 + 40 * n as u32).min(700);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: test accuracy per class", exp.name), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(140)
            .build_cartesian_2d(0.0..classes as f64, 0.0..n as f64)
            .map_err(err)?;
        let labels: Vec<String> = exp.levels.iter().map(|l| exp_label(exp, &l.label)).collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(classes)
            .y_labels(n)
            .x_desc("class")
            .x_label_formatter(&|x| {
                if (x.fract() - 0.5).abs() < 1e-9 {
                    format!("{}", x.floor())
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| {
                let i = y.floor() as usize;
                if (y.fract() - 0.5).abs() < 1e-9 {
                    labels.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        for (li, level) in exp.levels.iter().enumerate() {
            for (c, &acc) in level.per_class.iter().enumerate() {
                let shade = (255.0 * (1.0 - acc.clamp(0.0, 1.0))) as u8;
                let fill = RGBColor(shade, (shade as u16 * 3 / 4 + 60).min(255) as u8, 255);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(c as f64, li as f64), (c as f64 + 1.0, li as f64 + 1.0)],
                        fill.filled(),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{:.0}", acc * 100.0),
                        (c as f64 + 0.35, li as f64 + 0.6),
                        ("sans-serif", 13).into_font().color(if acc > 0.6 {
                            &WHITE
                        } else {
                            &BLACK
                        }),
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
            .margin(12)
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
    }];
    figs.push(Figure {
        name: format!("{}-curves", exp.name),
        caption: format!("{}: mean test accuracy per epoch with its 95% band (solid) and mean training accuracy (dashed), by level", exp.name),
        svg: learning_curves(exp)?,
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
    });
    if !exp.sources.is_empty() {
        figs.push(Figure {
            name: format!("{}-seed-spread", exp.name),
            caption: format!(
                "{}: histogram of final test accuracy when only one source of randomness varies",
                exp.name
            ),
            svg: seed_spread(exp)?,
        });
    }
    figs.push(Figure {
        name: format!("{}-per-class", exp.name),
        caption: format!("{}: mean test accuracy (%) of each class, by level", exp.name),
        svg: per_class_heatmap(exp)?,
    });
    Ok(figs)
}

/// Renders an SVG to PNG bytes (system fonts for text).
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(err)?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("empty figure")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(err)
}

/// The ranking: each factor's effect (best minus worst level, points) with its 95%
/// interval, largest first, and the seed-noise band (±2 sd of a single run) drawn across.
pub fn ranking_figure(ranking: &crate::analysis::rank::Ranking) -> DrawResult<Option<Figure>> {
    if ranking.factors.is_empty() {
        return Ok(None);
    }
    let n = ranking.factors.len();
    let mut svg = String::new();
    {
        let height = (120 + 44 * n as u32).min(900);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let noise = ranking.noise_sd.unwrap_or(0.0) * 100.0;
        let hi = ranking
            .factors
            .iter()
            .map(|f| 100.0 * f.range_ci.map_or(f.range, |c| c.1).max(f.range))
            .fold(2.0 * noise, f64::max)
            * 1.1
            + 0.1;
        let labels: Vec<String> = ranking.factors.iter().map(|f| f.title.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption("Why does accuracy vary here? Effect of each factor", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..hi, 0.0..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                // Largest effect at the top.
                let i = y.floor() as usize;
                if (y.fract() - 0.5).abs() < 1e-9 {
                    labels.get(n - 1 - i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(
                "best − worst level, test accuracy points (bars: 95% CI; band: ±2 sd seed noise)",
            )
            .draw()
            .map_err(err)?;
        if noise > 0.0 {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, 0.0), (2.0 * noise, n as f64)],
                    RGBColor(200, 200, 200).mix(0.5).filled(),
                )))
                .map_err(err)?;
        }
        for (i, f) in ranking.factors.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = if f.distinguishable { color(0) } else { RGBColor(150, 150, 150) };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.25), (100.0 * f.range, y + 0.75)],
                    c.filled(),
                )))
                .map_err(err)?;
            if let Some((lo, hi)) = f.range_ci {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(100.0 * lo.max(0.0), y + 0.5), (100.0 * hi, y + 0.5)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(Some(Figure {
        name: "ranking".into(),
        caption: "Effect of each factor on test accuracy (best minus worst level, with its 95% Welch interval), largest first; grey band: ±2 standard deviations of seed noise; grey bars: not distinguishable from seed noise (ANOVA p ≥ 0.05)".into(),
        svg,
    }))
}
