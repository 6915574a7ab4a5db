//! The figures of a variance-sources experiment beyond the per-level ones: every
//! source's sd with its interval on one axis, and the butterfly curve (how often a
//! nudged run's predictions differ from its un-nudged twin's, against the epoch of the
//! nudge).

use plotters::prelude::*;

use crate::figures::{
    DrawResult, Figure, MARGIN, SIZE, VALUE_AXIS_WIDTH, cell, cell_axis, color, err, short,
};
use cnnvar_analysis::ExperimentStats;
use cnnvar_analysis::sources::{ALL, chaos};

/// A source's label, its sd in points and that sd's interval.
type SourceSd = (String, f64, Option<(f64, f64)>);

/// The sd of test accuracy of every source of `exp` (points) with its 95% chi-square
/// interval, one axis for all; `None` when no source has an sd.
pub fn source_sds(exp: &ExperimentStats) -> DrawResult<Option<Figure>> {
    let sds: Vec<SourceSd> = exp
        .sources
        .iter()
        .filter_map(|s| {
            Some((
                s.source.clone(),
                100.0 * s.sd?,
                s.sd_ci.map(|(lo, hi)| (100.0 * lo, 100.0 * hi)),
            ))
        })
        .collect();
    if sds.is_empty() {
        return Ok(None);
    }
    let top = sds.iter().map(|(_, sd, ci)| ci.map_or(*sd, |c| c.1).max(*sd)).fold(0.0, f64::max);
    let hi = (top * 1.15).max(0.05);
    let labels: Vec<String> = sds.iter().map(|(l, _, _)| short(l)).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{}: sd of test accuracy by source", exp.name), ("sans-serif", 18))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(VALUE_AXIS_WIDTH)
            .build_cartesian_2d(cell_axis(sds.len()), 0.0..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| labels.get(cell(*x)).cloned().unwrap_or_default())
            .y_desc("sd of test accuracy (points)")
            .draw()
            .map_err(err)?;
        for (i, (_, sd, ci)) in sds.iter().enumerate() {
            let x = i as f64 + 0.5;
            let col = color(i);
            if let Some((lo, up)) = ci {
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        x,
                        *lo,
                        *sd,
                        *up,
                        col.stroke_width(2),
                        12,
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new((x, *sd), 5, col.filled())))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(Some(Figure {
        name: format!("{}-source-sds", exp.name),
        caption: format!(
            "{}: the sd of test accuracy when only the named source varies (all: every seed; \
             rerun: none; threads: the thread count; split: the test set, resampled; backend: the \
             backend, same initial weights; nudge: one \
             weight moved by one ulp), with \
             its 95% chi-square interval",
            exp.name
        ),
        svg,
        png: None,
    }))
}

/// The floor of the butterfly curve's log axis, in percent: a disagreement of 0 is drawn
/// here (one test image in 100 000).
const LOG_FLOOR: f64 = 1e-3;

/// One point of the butterfly curve: the epoch of the nudge and the disagreement with
/// the un-nudged twins (mean, least, most), as percentages.
type Point = (u32, f64, f64, f64);

/// The butterfly curve of `exp`: per nudge level with twins, the share of test images
/// its runs predict differently from their un-nudged twins (mean, with the range over
/// replicates) against the epoch after which the weight moved, and the all-seeds level's
/// mean pairwise disagreement as the line fully new seeds reach; `None` without twins.
pub fn butterfly(exp: &ExperimentStats) -> DrawResult<Option<Figure>> {
    let mut points: Vec<Point> = chaos(&exp.levels)
        .iter()
        .filter_map(|c| {
            let d = c.twin_disagreement.as_ref()?;
            Some((c.nudge_epoch?, 100.0 * d.mean, 100.0 * d.min, 100.0 * d.max))
        })
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    points.sort_by_key(|p| p.0);
    let new_seeds = exp
        .levels
        .iter()
        .find(|l| l.label == ALL)
        .and_then(|l| l.test_set_noise.as_ref())
        .map(|n| 100.0 * n.disagreement.mean);
    let last = points.iter().map(|p| p.0).max().unwrap_or(0);
    let top = points.iter().map(|p| p.3).fold(new_seeds.unwrap_or(0.0), f64::max);
    // A log axis (headroom above for the legend): a nudge's disagreement is often a
    // hundredth of new seeds'. Zero is drawn at the axis floor.
    let hi = (top * 30.0).max(10.0 * LOG_FLOOR);
    let points: Vec<Point> = points
        .iter()
        .map(|p| (p.0, p.1.max(LOG_FLOOR), p.2.max(LOG_FLOOR), p.3.max(LOG_FLOOR)))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: a one-ulp nudge, and when it happens", exp.name),
                ("sans-serif", 18),
            )
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(VALUE_AXIS_WIDTH)
            .build_cartesian_2d(-0.5..last as f64 + 0.5, (LOG_FLOOR..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(last as usize + 2)
            .x_label_formatter(&|x| {
                let e = x.round();
                if (x - e).abs() < 1e-9 && e >= 0.0 { format!("{e:.0}") } else { String::new() }
            })
            .x_desc("epochs trained before the nudge (0: before training)")
            .y_desc("test predictions unlike the twin's (%, log)")
            .draw()
            .map_err(err)?;
        if let Some(level) = new_seeds {
            let grey = RGBColor(120, 120, 120);
            chart
                .draw_series(DashedLineSeries::new(
                    [(-0.5, level), (last as f64 + 0.5, level)],
                    6,
                    4,
                    grey.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("new seeds (all): {level:.2}%"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], grey.stroke_width(2))
                });
        }
        let col = color(0);
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0 as f64, p.1)),
                col.stroke_width(2),
            ))
            .map_err(err)?
            .label("nudged run against its twin: mean, and range over seeds")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], col.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|p| {
                ErrorBar::new_vertical(p.0 as f64, p.2, p.1, p.3, col.stroke_width(1), 10)
            }))
            .map_err(err)?;
        chart
            .draw_series(points.iter().map(|p| Circle::new((p.0 as f64, p.1), 4, col.filled())))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Some(Figure {
        name: format!("{}-butterfly", exp.name),
        caption: format!(
            "{}: the butterfly curve. The share of test images a run with one weight moved by \
             one ulp predicts differently from its un-nudged twin (the rerun of the same seeds), \
             mean and range over seeds (log scale; none at all is drawn at its floor), against \
             the epoch after which the weight moved; dashed, how often two runs of fully new \
             seeds disagree",
            exp.name
        ),
        svg,
        png: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnnvar_analysis::SourceStats;
    use cnnvar_analysis::noise::Disagreement;

    /// The butterfly curve has a point per nudge with twins, drawn in epoch order, and
    /// none without; the source figure one marker per source with an sd.
    #[test]
    fn figures_of_the_sources_and_the_butterfly() {
        let mut exp = crate::figures::tests::experiment(&["nudge@5", "nudge", "nudge@1"]);
        exp.name = "v".into();
        for (level, mean) in exp.levels.iter_mut().zip([0.01, 0.08, 0.05]) {
            level.twin_disagreement = Some(Disagreement { mean, min: mean / 2.0, max: mean * 2.0 });
        }
        let source = |name: &str, sd: Option<f64>| SourceStats {
            source: name.into(),
            n: 10,
            sd,
            sd_ci: sd.map(|s| (0.7 * s, 1.8 * s)),
            sd_ci_bootstrap: None,
            ratio_to_all: None,
            ratio_to_all_ci: None,
            ignored: false,
        };
        exp.sources = vec![source("init", Some(0.003)), source("rerun", None)];
        let fig = butterfly(&exp).unwrap().expect("three points");
        assert_eq!(fig.name, "v-butterfly");
        // One filled marker per nudge (the line's own markers are hollow).
        let filled = |svg: &str| {
            svg.lines().filter(|l| l.starts_with("<circle") && !l.contains("fill=\"none\"")).count()
        };
        assert_eq!(filled(&fig.svg), 3, "{}", fig.svg);
        assert!(fig.svg.contains("epochs trained before the nudge"));
        assert!(crate::figures::png(&fig.svg).is_ok());
        let mut plain = exp.clone();
        plain.levels.iter_mut().for_each(|l| l.twin_disagreement = None);
        assert!(butterfly(&plain).unwrap().is_none());
        let sds = source_sds(&exp).unwrap().expect("one sd");
        assert_eq!(filled(&sds.svg), 1, "{}", sds.svg);
        exp.sources.clear();
        assert!(source_sds(&exp).unwrap().is_none());
    }
}
