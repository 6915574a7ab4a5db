//! The ranking figure, the report's first answer: each factor's effect on test accuracy
//! (the noise-corrected sd of its true level means, points) with its 95% interval,
//! largest first, each bar coloured by its claim's verdict, beside the seed noise.

use plotters::prelude::*;

use crate::figures::{
    DrawResult, Figure, MARGIN, SIZE, cell, cell_axis, color, err, label_width, short,
};
use cnnvar_analysis::claims::Verdict;
use cnnvar_analysis::rank::{FactorEffect, Ranking};

/// Supported: green; Contradicted: red; Not resolved: grey; no claim: the first
/// palette colour when the levels differ, light grey when not.
pub fn bar_colour(f: &FactorEffect) -> RGBColor {
    match f.claim.as_ref().map(|c| c.verdict) {
        Some(Verdict::Supported) => RGBColor(44, 160, 44),
        Some(Verdict::Contradicted) => RGBColor(214, 39, 40),
        Some(Verdict::NotResolved) => RGBColor(150, 150, 150),
        None if f.distinguishable => color(0),
        None => RGBColor(200, 200, 200),
    }
}

/// The ranking figure; `None` without factors.
pub fn ranking_figure(ranking: &Ranking) -> DrawResult<Option<Figure>> {
    if ranking.factors.is_empty() {
        return Ok(None);
    }
    let n = ranking.factors.len();
    let noise = ranking.noise_sd.unwrap_or(0.0);
    let top = |f: &FactorEffect| f.effect_ci.map_or(0.0, |c| c.1).max(f.effect_sd.unwrap_or(0.0));
    let hi = ranking.factors.iter().map(top).fold(noise, f64::max) * 1.1 + 0.1;
    let labels: Vec<String> = ranking.factors.iter().map(|f| short(&f.title)).collect();
    let mut svg = String::new();
    {
        let height = (120 + 44 * n as u32).min(900);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Effect of each factor (claim: green supported, red contradicted, grey not resolved)", ("sans-serif", 15))
            .margin(MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(label_width(&labels, 120, 320))
            .build_cartesian_2d(0.0..hi, cell_axis(n))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_max_light_lines(1)
            .y_label_formatter(&|y| {
                n.checked_sub(1 + cell(*y)).and_then(|i| labels.get(i)).cloned().unwrap_or_default()
            })
            .x_desc("sd of the levels' true means, accuracy points (bar: 95% CI; grey band: seed noise)")
            .draw()
            .map_err(err)?;
        noise_band(&mut chart, ranking, n)?;
        for (i, f) in ranking.factors.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let sd = f.effect_sd.unwrap_or(0.0);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.25), (sd, y + 0.75)],
                    bar_colour(f).filled(),
                )))
                .map_err(err)?;
            if let Some((lo, hi)) = f.effect_ci {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(lo.max(0.0), y + 0.5), (hi, y + 0.5)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(Some(Figure {
        name: "ranking".into(),
        caption: "Effect of each factor on test accuracy: the standard deviation of its levels' true \
                  mean accuracies (corrected for seed noise, so it does not grow with the number of \
                  levels), with its 95% interval, largest first. Colour: its claim's verdict (green \
                  Supported, red Contradicted, grey Not resolved). Grey band: one standard deviation \
                  of seed noise (one run within its level), its dark part what the test set alone \
                  produces."
            .into(),
        svg,
        png: None,
    }))
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, crate::figures::Cells>,
>;

/// The seed-noise band: one sd, the test-set part dark.
fn noise_band(chart: &mut Chart<'_, '_>, ranking: &Ranking, n: usize) -> DrawResult<()> {
    let noise = ranking.noise_sd.unwrap_or(0.0);
    if noise <= 0.0 {
        return Ok(());
    }
    let floor = ranking.floor_sd.unwrap_or(0.0).min(noise);
    for (to, shade) in [(noise, 200), (floor, 150)] {
        if to > 0.0 {
            let c = RGBColor(shade, shade, shade).mix(0.5).filled();
            chart
                .draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (to, n as f64)], c)))
                .map_err(err)?;
        }
    }
    Ok(())
}
