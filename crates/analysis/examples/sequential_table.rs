//! Prints, as Markdown, what the sequential seeding design of a study does on simulated
//! outcomes: type I error, equivalence and power at true differences of 0, delta and
//! 2·delta, and the seeds used, for 2 and 4 levels, normal and heavy-tailed (t, 3 df)
//! noise, seed sd 0.3 and 0.6 points (`seeds = { min = 3, max = 20, step = 2 }`,
//! `resolve = { delta = 0.5 }`, alpha 0.05).
//!
//! `cargo run --release -p cnnvar-analysis --example sequential_table [studies]`
//! (2 000 studies per setting unless given).

use cnnvar_analysis::sequential::{SequentialDesign, Spending, markdown_table, table};

fn main() {
    let studies = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    for (spending, name) in
        [(Spending::OBrienFleming, "O'Brien–Fleming (default)"), (Spending::Pocock, "Pocock")]
    {
        let design = SequentialDesign {
            min_seeds: 3,
            max_seeds: 20,
            step: 2,
            delta: 0.5,
            alpha: 0.05,
            spending,
        };
        println!("{name} spending, {studies} simulated studies per cell:\n");
        println!("{}", markdown_table(&table(&design, &[0.3, 0.6], studies, 1)));
    }
}
