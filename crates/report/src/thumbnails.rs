//! The figure "the test images the seeds fight over": per level a row of its most
//! contested test examples ([`super::contested`]), each scaled up by nearest neighbour
//! and captioned with its true class and how many runs predicted each class.
//!
//! Text and frames are drawn with plotters; the images are PNGs inside the SVG
//! (`<image>`, pixelated), and the figure's PNG is the SVG rendered as every figure is
//! ([`super::figures::render`]) with the same pixels laid over it, since resvg is built
//! without its raster-image decoders.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::tiny_skia::Pixmap;

use super::contested::{ExperimentImages, Image};
use super::figures::{Figure, exp_label, render, shorten};
use cnnvar_analysis::ExperimentStats;
use cnnvar_analysis::noise::ContestedExample;

/// A thumbnail's longer side in pixels: smaller images are scaled up by the whole
/// factor that comes closest (28×28 by 4), larger ones down to it.
const TARGET: usize = 112;

/// Width of one thumbnail's cell, caption included (at least; wider for wider images).
const CELL_WIDTH: u32 = 150;

/// Characters of a caption line.
const CAPTION_CHARS: usize = 26;

/// Lines of votes under a thumbnail, at most.
const VOTE_LINES: usize = 2;

/// Height of one caption line.
const LINE: u32 = 14;

/// Height of the figure's title.
const TITLE: u32 = 36;

/// Height of a level's heading above its row.
const HEADING: u32 = 22;

/// Space between a thumbnail and its caption.
const CAPTION_GAP: u32 = 6;

/// Space below a row.
const ROW_GAP: u32 = 12;

/// Space around the figure.
const MARGIN: u32 = 12;

/// A thumbnail placed in the figure: top-left corner, size, and RGB pixels row-major.
struct Placed {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

/// The figure of `exp`'s contested `images`, named `{exp}-contested`, with its PNG;
/// `None` when no level has any.
pub fn contested_figure(
    exp: &ExperimentStats,
    images: &ExperimentImages,
) -> Result<Option<Figure>, String> {
    let rows: Vec<_> = images.levels.iter().filter(|l| !l.images.is_empty()).collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let sizes: Vec<(usize, usize)> =
        rows.iter().flat_map(|l| l.images.iter().map(|c| thumb_size(&c.image))).collect();
    let widest = sizes.iter().map(|s| s.1).max().unwrap_or(TARGET) as u32;
    let cell = CELL_WIDTH.max(widest + 10);
    let columns = rows.iter().map(|l| l.images.len()).max().unwrap_or(1) as u32;
    let width = (2 * MARGIN + columns * cell).max(400);
    let mut y = MARGIN + TITLE;
    let mut texts: Vec<(String, (u32, u32), u32, HPos)> = vec![(
        format!("{}: the test images the seeds fight over", exp.name),
        (MARGIN, MARGIN),
        18,
        HPos::Left,
    )];
    let mut placed = Vec::new();
    for level in &rows {
        let heading = format!(
            "{} · {} runs · most contested first",
            exp_label(exp, &level.level),
            level.runs
        );
        texts.push((heading, (MARGIN, y + 2), 13, HPos::Left));
        y += HEADING;
        let tallest = level.images.iter().map(|c| thumb_size(&c.image).0).max().unwrap_or(0);
        let mut lines = 0;
        for (i, c) in level.images.iter().enumerate() {
            let (h, w) = thumb_size(&c.image);
            let left = MARGIN + i as u32 * cell;
            let x = left + (cell - w as u32) / 2;
            placed.push(Placed {
                x,
                y,
                width: w as u32,
                height: h as u32,
                rgb: scaled_rgb(&c.image, h, w),
            });
            let caption = caption(&c.example, &exp.class_names);
            let top = y + tallest as u32 + CAPTION_GAP;
            for (k, line) in caption.iter().enumerate() {
                texts.push((
                    line.clone(),
                    (left + cell / 2, top + k as u32 * LINE),
                    11,
                    HPos::Center,
                ));
            }
            lines = lines.max(caption.len() as u32);
        }
        y += tallest as u32 + CAPTION_GAP + lines * LINE + ROW_GAP;
    }
    let height = y + MARGIN;
    let svg = draw(width, height, &texts, &placed)?;
    let png = overlay(&svg, &placed)?;
    Ok(Some(Figure {
        name: format!("{}-contested", exp.name),
        caption: format!(
            "{}: the test images the seeds fight over: per level, the up to {} test images its \
             runs disagree on most (fewest runs on the majority class first), scaled up by \
             nearest neighbour, each with its true class and how many runs predicted each class",
            exp.name,
            super::contested::PER_LEVEL
        ),
        svg,
        png: Some(png),
    }))
}

/// The size of `image`'s thumbnail, (height, width): its longer side [`TARGET`] or
/// the nearest whole multiple of it below.
fn thumb_size(image: &Image) -> (usize, usize) {
    let (h, w) = (image.shape.height.max(1), image.shape.width.max(1));
    let side = h.max(w);
    if side <= TARGET {
        let k = TARGET / side;
        (h * k, w * k)
    } else {
        ((h * TARGET / side).max(1), (w * TARGET / side).max(1))
    }
}

/// `image` scaled to `h × w` by nearest neighbour, as RGB pixels row after row: grey
/// for one channel, the first three channels as colour otherwise.
fn scaled_rgb(image: &Image, h: usize, w: usize) -> Vec<[u8; 3]> {
    let shape = image.shape;
    let (height, width) = (shape.height.max(1), shape.width.max(1));
    let plane = height * width;
    let at = |c: usize, y: usize, x: usize| {
        image.pixels.get(c * plane + y * width + x).copied().unwrap_or(0)
    };
    let mut rgb = Vec::with_capacity(h * w);
    for y in 0..h {
        for x in 0..w {
            let (sy, sx) = (y * height / h, x * width / w);
            rgb.push(if shape.channels >= 3 {
                [at(0, sy, sx), at(1, sy, sx), at(2, sy, sx)]
            } else {
                [at(0, sy, sx); 3]
            });
        }
    }
    rgb
}

/// A thumbnail's caption: `true: Shirt`, then the classes predicted with their votes,
/// most first (`Shirt 3 · T-shirt/top 2`), on at most [`VOTE_LINES`] lines.
pub(super) fn caption(e: &ContestedExample, class_names: &[String]) -> Vec<String> {
    let name = |c: usize| class_names.get(c).map_or_else(|| c.to_string(), |n| shorten(n, 18));
    let mut votes: Vec<(usize, usize)> =
        e.votes.iter().copied().enumerate().filter(|&(_, v)| v > 0).collect();
    votes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let items: Vec<String> = votes.iter().map(|&(c, v)| format!("{} {v}", name(c))).collect();
    let mut lines = vec![format!("true: {}", name(usize::from(e.label)))];
    lines.extend(wrap(&items, CAPTION_CHARS, VOTE_LINES));
    lines
}

/// `items` joined by ` · ` into lines of at most `width` characters (an item longer
/// than that has a line of its own), at most `max_lines` of them, the last ending in
/// ` …` when some did not fit.
fn wrap(items: &[String], width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for item in items {
        if line.is_empty() {
            line = item.clone();
        } else if line.chars().count() + 3 + item.chars().count() <= width {
            line = format!("{line} · {item}");
        } else {
            lines.push(std::mem::replace(&mut line, item.clone()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            last.push_str(" …");
        }
    }
    lines
}

/// The SVG: white, the texts (text, top-left or top-centre, size, anchor), a frame
/// round each thumbnail, and the thumbnails as pixelated PNG images.
fn draw(
    width: u32,
    height: u32,
    texts: &[(String, (u32, u32), u32, HPos)],
    placed: &[Placed],
) -> Result<String, String> {
    let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        for (text, (x, y), size, anchor) in texts {
            let style =
                ("sans-serif", *size).into_font().color(&BLACK).pos(Pos::new(*anchor, VPos::Top));
            root.draw(&Text::new(text.clone(), (*x as i32, *y as i32), style))
                .map_err(|e| err(&e))?;
        }
        for p in placed {
            let (x, y) = (p.x as i32, p.y as i32);
            let corners = [(x - 1, y - 1), (x + p.width as i32, y + p.height as i32)];
            root.draw(&Rectangle::new(corners, RGBColor(150, 150, 150).stroke_width(1)))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    let images: String = placed.iter().map(image_element).collect::<Result<_, String>>()?;
    let end = svg.rfind("</svg>").ok_or("the SVG has no end")?;
    svg.insert_str(end, &images);
    Ok(svg)
}

/// An SVG `<image>` of a placed thumbnail, its pixels a PNG in a data URL.
fn image_element(p: &Placed) -> Result<String, String> {
    let mut pixmap = Pixmap::new(p.width, p.height).ok_or("an empty thumbnail")?;
    paint(&mut pixmap, p, 0, 0);
    let png = pixmap.encode_png().map_err(|e| format!("{e:?}"))?;
    Ok(format!(
        "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" style=\"image-rendering:pixelated\" \
         href=\"data:image/png;base64,{}\"/>\n",
        p.x,
        p.y,
        p.width,
        p.height,
        base64(&png)
    ))
}

/// The figure's PNG: `svg` rendered, the thumbnails' pixels laid over it.
fn overlay(svg: &str, placed: &[Placed]) -> Result<Vec<u8>, String> {
    let mut pixmap = render(svg)?;
    for p in placed {
        paint(&mut pixmap, p, p.x, p.y);
    }
    pixmap.encode_png().map_err(|e| format!("{e:?}"))
}

/// Paints thumbnail `p` into `pixmap` with its top-left corner at `(x0, y0)` (opaque,
/// clipped to the pixmap).
fn paint(pixmap: &mut Pixmap, p: &Placed, x0: u32, y0: u32) {
    let (pw, ph) = (pixmap.width() as usize, pixmap.height() as usize);
    let data = pixmap.data_mut();
    for (i, rgb) in p.rgb.iter().enumerate() {
        let (x, y) = (x0 as usize + i % p.width as usize, y0 as usize + i / p.width as usize);
        if x < pw && y < ph {
            let at = 4 * (y * pw + x);
            data[at..at + 4].copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::contested::{ContestedImage, LevelImages};
    use super::super::figures::tests::texts;
    use super::*;
    use cnnvar_core::{DatasetName, ImageShape};

    fn example(index: usize, label: u8, votes: &[usize]) -> ContestedExample {
        let majority_votes = votes.iter().copied().max().unwrap_or(0);
        ContestedExample {
            index,
            label,
            correct: votes.get(usize::from(label)).copied().unwrap_or(0),
            majority: votes.iter().position(|&v| v == majority_votes).unwrap_or(0) as u8,
            majority_votes,
            votes: votes.to_vec(),
        }
    }

    /// A 28×28 grey image, black but for a white top-left pixel and `value` in the last.
    fn image(value: u8) -> Image {
        let mut pixels = vec![0u8; 28 * 28];
        pixels[0] = 255;
        pixels[28 * 28 - 1] = value;
        Image { shape: ImageShape::MNIST, pixels }
    }

    fn experiment() -> ExperimentStats {
        let mut exp = super::super::figures::tests::experiment(&["1000", "60000"]);
        exp.class_names =
            DatasetName::FashionMnist.class_names().iter().map(|c| c.to_string()).collect();
        exp
    }

    /// Two levels, 3 and 2 contested examples of a tiny synthetic data set.
    fn images() -> ExperimentImages {
        let level = |label: &str, examples: Vec<ContestedExample>| LevelImages {
            level: label.into(),
            runs: 5,
            images: examples
                .into_iter()
                .enumerate()
                .map(|(i, example)| ContestedImage { example, image: image(10 * i as u8) })
                .collect(),
        };
        // Shirt (6) voted Shirt 3, T-shirt/top (0) 2.
        let shirt = example(17, 6, &[2, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
        ExperimentImages {
            levels: vec![
                level(
                    "1000",
                    vec![
                        shirt,
                        example(3, 0, &[2, 1, 1, 0, 1]),
                        example(4, 9, &[0, 0, 0, 0, 0, 0, 0, 3, 0, 2]),
                    ],
                ),
                level(
                    "60000",
                    vec![example(5, 2, &[0, 0, 3, 0, 2]), example(8, 4, &[0, 0, 2, 0, 3])],
                ),
            ],
            notes: vec![],
        }
    }

    /// One image per contested example, captioned with the true class and the votes;
    /// the PNG is as wide as its columns, with every image scaled 4× by nearest
    /// neighbour where the SVG places it.
    #[test]
    fn the_figure_draws_each_contested_image_with_its_votes() {
        let exp = experiment();
        let fig = contested_figure(&exp, &images()).expect("drawn").expect("a figure");
        assert_eq!(fig.name, "exp1-contested");
        assert_eq!(fig.svg.matches("<image ").count(), 5);
        assert_eq!(fig.svg.matches("width=\"112\" height=\"112\"").count(), 5);
        let t = texts(&fig.svg);
        for want in [
            "exp1: the test images the seeds fight over",
            "train size 1000 · 5 runs · most contested first",
            "true: Shirt",
            "Shirt 3 · T-shirt/top 2",
            "true: T-shirt/top",
            "T-shirt/top 2 · Trouser 1",
            "Pullover 1 · Coat 1",
            "true: Ankle boot",
            "Sneaker 3 · Ankle boot 2",
        ] {
            assert_eq!(t.iter().filter(|x| *x == want).count(), 1, "{want} in {t:?}");
        }
        let png = fig.png.as_ref().expect("its own PNG");
        let pixmap = Pixmap::decode_png(png).expect("a PNG");
        // Three columns; each row: heading, image, caption lines (3, then 2), gap.
        let row = HEADING + 112 + CAPTION_GAP + 3 * LINE + ROW_GAP;
        assert_eq!(pixmap.width(), 2 * MARGIN + 3 * CELL_WIDTH);
        assert_eq!(pixmap.height(), MARGIN + TITLE + row + (row - LINE) + MARGIN);
        // The first image: its white pixel a 4×4 block at its top left, black beside.
        let (x0, y0) = (MARGIN + (CELL_WIDTH - 112) / 2, MARGIN + TITLE + HEADING);
        assert!(fig.svg.contains(&format!("<image x=\"{x0}\" y=\"{y0}\" ")), "{}", fig.svg);
        let grey = |x: u32, y: u32| pixmap.pixel(x, y).map(|p| (p.red(), p.green(), p.blue()));
        for (dx, dy) in [(0, 0), (3, 3), (0, 3)] {
            assert_eq!(grey(x0 + dx, y0 + dy), Some((255, 255, 255)), "({dx}, {dy})");
        }
        assert_eq!(grey(x0 + 4, y0), Some((0, 0, 0)));
        assert_eq!(grey(x0, y0 + 4), Some((0, 0, 0)));
        // The second row's second image: 10 in its last pixel, a 4×4 block.
        let (x1, y1) = (x0 + CELL_WIDTH + 111, y0 + row + 111);
        assert_eq!(grey(x1, y1), Some((10, 10, 10)));
        assert_eq!(grey(x1 - 3, y1 - 3), Some((10, 10, 10)));
        assert_eq!(grey(x1 - 4, y1), Some((0, 0, 0)));
        // No level with images: no figure.
        let none = ExperimentImages { levels: vec![], notes: vec!["why".into()] };
        assert!(contested_figure(&exp, &none).expect("nothing to draw").is_none());
    }

    /// Nearest-neighbour sizes: small images up by a whole factor, large ones down.
    #[test]
    fn thumbnails_scale_by_nearest_neighbour() {
        let shape = |channels, height, width| ImageShape { channels, height, width };
        let of = |s: ImageShape| Image { shape: s, pixels: vec![0; s.pixels()] };
        assert_eq!(thumb_size(&of(shape(1, 28, 28))), (112, 112));
        assert_eq!(thumb_size(&of(shape(3, 32, 32))), (96, 96));
        assert_eq!(thumb_size(&of(shape(1, 8, 8))), (112, 112));
        assert_eq!(thumb_size(&of(shape(3, 224, 112))), (112, 56));
        // Colour from the three planes, CHW.
        let rgb = Image { shape: shape(3, 1, 2), pixels: vec![1, 2, 3, 4, 5, 6] };
        assert_eq!(
            scaled_rgb(&rgb, 2, 4),
            [
                [1, 3, 5],
                [1, 3, 5],
                [2, 4, 6],
                [2, 4, 6],
                [1, 3, 5],
                [1, 3, 5],
                [2, 4, 6],
                [2, 4, 6]
            ]
        );
    }

    #[test]
    fn captions_wrap_and_name_classes() {
        let items: Vec<String> =
            ["aaaa 1", "bbbb 2", "cccc 3", "dddd 4", "eeee 5"].map(String::from).to_vec();
        assert_eq!(wrap(&items, 15, 2), ["aaaa 1 · bbbb 2", "cccc 3 · dddd 4 …"]);
        assert_eq!(wrap(&items[..1], 3, 2), ["aaaa 1"]);
        // Without class names, classes are numbered.
        assert_eq!(caption(&example(0, 1, &[0, 2, 1]), &[]), ["true: 1", "1 2 · 2 1"]);
    }

    #[test]
    fn base64_of_known_strings() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(b""), "");
    }
}
