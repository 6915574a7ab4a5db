//! Tidy tests: ARCHITECTURE.md against the repository. Every path it names in backticks
//! must exist, and every crate, workspace member and top-level folder must be named in it.
//!
//! A path is an inline code span that looks like one: no spaces, and a `/` in it or a
//! known file extension at its end (`crates/core/src/spec.rs`, `xtask/src/`, `.ci/run`,
//! `Cargo.toml`). A directory may end in `/`; `{a,b}` stands for both names and `*` for any
//! part of the last one. A name is read from the repository root, or from the directory of
//! the path named before it in the same table row, list item or paragraph, or one of that
//! directory's parents: in the row of `crates/core/src/study/`, `parse.rs` is
//! `crates/core/src/study/parse.rs`. Fenced code blocks are not read.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// File extensions that make a code span without a `/` a path.
const EXTENSIONS: &[&str] = &["rs", "toml", "md", "py", "sh", "lock", "yml", "yaml"];

/// A path-like code span: as written and the line it is on (from 1), in its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The text between the backticks.
    pub text: String,
    /// Its line in the file.
    pub line: usize,
    /// Its table row, list item or paragraph; names are read from the paths before them in
    /// the same block.
    pub block: usize,
}

/// Whether a code span names a path.
pub fn looks_like_path(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-/{},*".contains(c);
    if s.is_empty() || s.starts_with('-') || !s.chars().all(allowed) {
        return false;
    }
    if !s.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let extension = s.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    s.contains('/') || EXTENSIONS.contains(&extension)
}

/// The path-like code spans of a Markdown text, outside fenced code blocks.
pub fn paths_in(text: &str) -> Vec<Span> {
    let mut spans = vec![];
    let mut block = 0;
    let mut fenced = false;
    // The current block's text and the line it starts on.
    let mut pending: Vec<(usize, &str)> = vec![];
    let mut flush = |pending: &mut Vec<(usize, &str)>, block: usize| {
        let Some(&(first, _)) = pending.first() else { return };
        let joined: String = pending.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n");
        let mut line = first;
        for (i, part) in joined.split('`').enumerate() {
            if i % 2 == 1 && looks_like_path(part) {
                spans.push(Span { text: part.to_string(), line, block });
            }
            line += part.matches('\n').count();
        }
        pending.clear();
    };
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            flush(&mut pending, block);
            block += 1;
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let starts_block = trimmed.is_empty()
            || trimmed.starts_with('|')
            || trimmed.starts_with("- ")
            || trimmed.starts_with("* ")
            || trimmed.starts_with('#');
        if starts_block {
            flush(&mut pending, block);
            block += 1;
        }
        if !trimmed.is_empty() {
            pending.push((i + 1, line));
        }
    }
    flush(&mut pending, block);
    spans
}

/// The names a brace form stands for: `a/{b,c}.rs` is `a/b.rs` and `a/c.rs`.
pub fn expand_braces(s: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (s.find('{'), s.find('}')) else { return vec![s.to_string()] };
    if close < open {
        return vec![s.to_string()];
    }
    let (head, tail) = (&s[..open], &s[close + 1..]);
    s[open + 1..close]
        .split(',')
        .map(str::trim)
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
        .collect()
}

/// Whether `name` (relative, without braces) exists under `root`: a directory if it ends in
/// `/`, anything matching if its last part has a `*`.
fn exists(root: &Path, name: &str) -> bool {
    let dir_only = name.ends_with('/');
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return false;
    }
    let (parent, last) = match trimmed.rsplit_once('/') {
        Some((p, l)) => (root.join(p), l),
        None => (root.to_path_buf(), trimmed),
    };
    if trimmed.rsplit_once('/').is_some_and(|(p, _)| p.contains('*')) {
        return false;
    }
    let fits = |p: &Path| if dir_only { p.is_dir() } else { p.exists() };
    match last.split_once('*') {
        None => fits(&parent.join(last)),
        Some((prefix, suffix)) => std::fs::read_dir(&parent).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.len() >= prefix.len() + suffix.len()
                    && n.starts_with(prefix)
                    && n.ends_with(suffix)
                    && fits(&e.path())
            })
        }),
    }
}

/// A named path that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// As written (one alternative of a brace form).
    pub name: String,
    /// Its line in the file.
    pub line: usize,
}

/// Resolves every path-like span of `text` against the repository at `root`: the paths it
/// names (relative to `root`) and those that do not exist.
pub fn resolve(root: &Path, text: &str) -> (Vec<PathBuf>, Vec<Missing>) {
    let (mut found, mut missing) = (vec![], vec![]);
    let mut context: Option<(usize, PathBuf)> = None;
    for span in paths_in(text) {
        let base = match &context {
            Some((block, dir)) if *block == span.block => dir.clone(),
            _ => PathBuf::new(),
        };
        for name in expand_braces(&span.text) {
            // The context directory and its parents, deepest first, then the root.
            let bases = base.ancestors().map(Path::to_path_buf).collect::<Vec<_>>();
            let hit = bases.iter().map(|b| b.join(&name)).find(|rel| {
                let rel = rel.to_string_lossy();
                exists(root, &rel)
            });
            match hit {
                Some(rel) => {
                    let clean = PathBuf::from(rel.to_string_lossy().trim_end_matches('/'));
                    let dir = if name.ends_with('/') || root.join(&clean).is_dir() {
                        clean.clone()
                    } else {
                        clean.parent().map(Path::to_path_buf).unwrap_or_default()
                    };
                    context = Some((span.block, dir));
                    found.push(clean);
                }
                None => {
                    let m = Missing { name, line: span.line };
                    if !missing.contains(&m) {
                        missing.push(m);
                    }
                }
            }
        }
    }
    (found, missing)
}

/// The repository parts that must be named: (relative path, what it is).
pub fn required(root: &Path) -> Result<Vec<(String, String)>> {
    let mut req: Vec<(String, String)> = vec![];
    let mut add = |path: String, what: &str| match req.iter_mut().find(|(p, _)| *p == path) {
        Some((_, w)) => *w = format!("{w}; {what}"),
        None => req.push((path, what.to_string())),
    };
    for c in crate_dirs(root)? {
        add(c, "a crate directory");
    }
    for m in workspace_members(root)? {
        add(m, "a workspace member");
    }
    for d in top_level_dirs(root)? {
        add(d, "a top-level folder");
    }
    Ok(req)
}

/// The required parts that no named path is, or is inside of.
pub fn unnamed(found: &[PathBuf], required: &[(String, String)]) -> Vec<(String, String)> {
    required
        .iter()
        .filter(|(path, _)| !found.iter().any(|f| f.starts_with(path)))
        .cloned()
        .collect()
}

/// The directories under `crates/` with a `Cargo.toml`.
pub fn crate_dirs(root: &Path) -> Result<Vec<String>> {
    let mut dirs = vec![];
    let crates = root.join("crates");
    if !crates.is_dir() {
        return Ok(dirs);
    }
    for entry in std::fs::read_dir(&crates).with_context(|| format!("{}", crates.display()))? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            dirs.push(format!("crates/{}", entry.file_name().to_string_lossy()));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The workspace members listed in the root `Cargo.toml` (a trailing `/*` expanded).
pub fn workspace_members(root: &Path) -> Result<Vec<String>> {
    let path = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Table = toml::from_str(&text)?;
    let listed = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    let mut members = vec![];
    for m in listed.iter().filter_map(|m| m.as_str()) {
        match m.strip_suffix("/*") {
            Some(parent) => {
                let mut found: Vec<String> = std::fs::read_dir(root.join(parent))?
                    .flatten()
                    .filter(|e| e.path().join("Cargo.toml").is_file())
                    .map(|e| format!("{parent}/{}", e.file_name().to_string_lossy()))
                    .collect();
                found.sort();
                members.extend(found);
            }
            None => members.push(m.trim_end_matches('/').to_string()),
        }
    }
    Ok(members)
}

/// Each member's package name and whether it has a `default` feature.
pub fn member_packages(root: &Path, members: &[String]) -> Result<Vec<(String, bool)>> {
    members
        .iter()
        .map(|m| {
            let manifest = package_manifest(root, m)?;
            let name = manifest
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .with_context(|| format!("{m}/Cargo.toml has no package name"))?;
            let default = manifest.get("features").and_then(|f| f.get("default")).is_some();
            Ok((name.to_string(), default))
        })
        .collect()
}

fn package_manifest(root: &Path, member: &str) -> Result<toml::Table> {
    let path = root.join(member).join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(toml::from_str(&text)?)
}

/// A member's package name and the directories of its sources: its own, and those of targets
/// whose `path` lies outside it (the `cnnvar` package's tests in the top-level `tests/`).
pub fn source_dirs(root: &Path, member: &str) -> Result<(String, Vec<PathBuf>)> {
    let manifest = package_manifest(root, member)?;
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or(member)
        .to_string();
    let dir = root.join(member);
    let mut dirs = vec![dir.clone()];
    let tables = ["lib", "bin", "test", "bench", "example"];
    for kind in tables {
        let targets: Vec<&toml::Value> = match manifest.get(kind) {
            Some(toml::Value::Array(a)) => a.iter().collect(),
            Some(v @ toml::Value::Table(_)) => vec![v],
            _ => vec![],
        };
        for t in targets {
            if let Some(p) = t.get("path").and_then(|p| p.as_str())
                && let Some(parent) = dir.join(p).parent()
                && let Ok(parent) = parent.canonicalize()
                && !parent.starts_with(dir.canonicalize().unwrap_or_else(|_| dir.clone()))
            {
                dirs.push(parent);
            }
        }
    }
    Ok((name, dirs))
}

/// The `.rs` files under `dir`, `target` directories left out.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if e.file_name() != "target" {
                    todo.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Whether a top-level name is one the codemap need not name.
fn exempt(name: &str) -> bool {
    name == "target" || (name.starts_with('.') && name != ".ci" && name != ".cargo")
}

/// The repository's top-level folders: those git knows (tracked, or new and not ignored),
/// else those on disk but the ones `.gitignore` names; `target`, `.git` and hidden folders
/// other than `.ci` and `.cargo` left out.
pub fn top_level_dirs(root: &Path) -> Result<Vec<String>> {
    let git = std::process::Command::new("git")
        .current_dir(root)
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z"])
        .output();
    let mut dirs: Vec<String> = match git {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter_map(|p| p.split_once('/').map(|(top, _)| top.to_string()))
            .filter(|top| root.join(top).is_dir())
            .collect(),
        _ => {
            let ignored: Vec<String> = std::fs::read_to_string(root.join(".gitignore"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().strip_prefix('/'))
                .map(|l| l.trim_end_matches('/').to_string())
                .filter(|l| !l.contains('/') && !l.contains('*'))
                .collect();
            std::fs::read_dir(root)?
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !ignored.contains(n))
                .collect()
        }
    };
    dirs.retain(|d| !exempt(d));
    dirs.sort();
    dirs.dedup();
    Ok(dirs)
}

/// What is wrong with `text` (ARCHITECTURE.md) for the repository at `root`, as lines of a
/// failure message; empty when nothing is.
pub fn problems(root: &Path, text: &str, required: &[(String, String)]) -> Vec<String> {
    let (found, missing) = resolve(root, text);
    let mut lines = vec![];
    if !missing.is_empty() {
        lines.push(format!(
            "ARCHITECTURE.md names {} path(s) that do not exist (correct the path, or the \
             sentence):",
            missing.len()
        ));
        lines.extend(missing.iter().map(|m| format!("  line {}: `{}`", m.line, m.name)));
    }
    let unnamed = unnamed(&found, required);
    if !unnamed.is_empty() {
        lines.push(format!(
            "ARCHITECTURE.md does not name {} part(s) of the repository (give each a codemap \
             row):",
            unnamed.len()
        ));
        lines.extend(unnamed.iter().map(|(p, what)| format!("  `{p}/` ({what})")));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_spans() {
        for yes in [
            "crates/core/src/spec.rs",
            "xtask/src/",
            ".ci/run",
            "Cargo.toml",
            "parse.rs",
            "crates/data/tests/{fetch,folder}.rs",
            "studies/*.toml",
            "examples/custom-model/",
            "bench/keras_study.py",
        ] {
            assert!(looks_like_path(yes), "{yes}");
        }
        for no in [
            "cargo xtask ci",
            "Backend::device()",
            "--no-default-features",
            "cnnvar_experiments::study",
            "plan.json",
            "record.json",
            "data-<dataset>.json",
            "runs/<study>/<run-id>/",
            "#[cfg(feature = \"train\")]",
            "RunSpec",
            "n^0.6",
            "1/2",
            "https://example.org/x.rs",
            "",
        ] {
            assert!(!looks_like_path(no), "{no}");
        }
    }

    #[test]
    fn spans_are_found_in_rows_paragraphs_and_across_lines() {
        let text = "# Title\n\n\
                    | where | what |\n\
                    |---|---|\n\
                    | `crates/core/src/study/` | parsing (`parse.rs`), `RunSpec`, `--quick` |\n\
                    \n\
                    ```\n`crates/in/a/fence.rs` studies/*.toml\n```\n\
                    - Enforced in `crates/data/src/idx/read.rs`, `cifar/mod.rs` and\n  \
                    `limits.rs`; a span `across\nlines/x.rs` is no path.\n\
                    - Next item: `.ci/run`.\n";
        let spans = paths_in(text);
        let texts: Vec<&str> = spans.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "crates/core/src/study/",
                "parse.rs",
                "crates/data/src/idx/read.rs",
                "cifar/mod.rs",
                "limits.rs",
                ".ci/run"
            ]
        );
        let lines: Vec<usize> = spans.iter().map(|s| s.line).collect();
        assert_eq!(lines, [5, 5, 10, 10, 11, 13]);
        // One block per row and per list item; the continuation line stays in its item.
        assert_eq!(spans[0].block, spans[1].block);
        assert_eq!(spans[2].block, spans[4].block);
        assert_ne!(spans[1].block, spans[2].block);
        assert_ne!(spans[4].block, spans[5].block);
    }

    #[test]
    fn braces_stand_for_each_name() {
        assert_eq!(expand_braces("a/{b,c}.rs"), ["a/b.rs", "a/c.rs"]);
        assert_eq!(expand_braces("{x, y}/{1,2}"), ["x/1", "x/2", "y/1", "y/2"]);
        assert_eq!(expand_braces("plain.rs"), ["plain.rs"]);
    }

    /// A repository in a temporary directory.
    fn repo(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in files {
            let p = dir.path().join(f);
            if f.ends_with('/') {
                std::fs::create_dir_all(&p).expect("dir");
            } else {
                std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
                std::fs::write(&p, "").expect("file");
            }
        }
        dir
    }

    #[test]
    fn names_are_read_from_the_root_or_the_path_before_them() {
        let dir = repo(&[
            "crates/data/src/idx/read.rs",
            "crates/data/src/cifar/mod.rs",
            "crates/data/src/limits.rs",
            "crates/data/tests/fetch.rs",
            "crates/data/tests/folder.rs",
            "crates/exp/examples/table.rs",
            "crates/exp/src/analysis/sequential.rs",
            "crates/exp/src/analysis/sequential/",
            "studies/seed.toml",
            "studies/full.toml",
            ".ci/run",
        ]);
        let text = "- `crates/data/src/idx/read.rs`, `cifar/mod.rs` and `limits.rs`; \
                    `crates/data/tests/{fetch,folder}.rs`\n\
                    - `crates/exp/src/analysis/sequential.rs` (`sequential/`, \
                    `examples/table.rs`)\n\
                    - `studies/*.toml`, `studies/`, `.ci/run`, `.ci/run/`, `studies/*.json`\n\
                    - `limits.rs` alone is read from the root; `crates/data/src/gone.rs`\n";
        let (found, missing) = resolve(dir.path(), text);
        let found: Vec<String> = found.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        assert_eq!(
            found,
            [
                "crates/data/src/idx/read.rs",
                "crates/data/src/cifar/mod.rs",
                "crates/data/src/limits.rs",
                "crates/data/tests/fetch.rs",
                "crates/data/tests/folder.rs",
                "crates/exp/src/analysis/sequential.rs",
                "crates/exp/src/analysis/sequential",
                "crates/exp/examples/table.rs",
                "studies/*.toml",
                "studies",
                ".ci/run",
            ]
        );
        let missing: Vec<(usize, &str)> =
            missing.iter().map(|m| (m.line, m.name.as_str())).collect();
        assert_eq!(
            missing,
            [
                (3, ".ci/run/"),
                (3, "studies/*.json"),
                (4, "limits.rs"),
                (4, "crates/data/src/gone.rs")
            ]
        );
    }

    #[test]
    fn the_checker_lists_every_problem() {
        let dir = repo(&[
            "Cargo.toml",
            "crates/core/Cargo.toml",
            "crates/core/src/lib.rs",
            "crates/new/Cargo.toml",
            "tools/gen/Cargo.toml",
            "xtask/Cargo.toml",
            "docs/x.md",
            ".ci/run",
            ".cargo/config.toml",
            ".github/workflows/ci.yml",
            "target/debug/",
            "runs/seed/",
        ]);
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/core\", \"tools/*\", \"xtask\"]\n",
        )
        .expect("manifest");
        std::fs::write(dir.path().join(".gitignore"), "/target\n/runs\n").expect("gitignore");
        let text = "| `crates/core/src/lib.rs` | `lib.rs` again, `main.rs` |\n\
                    | `xtask/` | `.ci/run`, `crates/gone/` |\n";
        let req = required(dir.path()).expect("required");
        let lines = problems(dir.path(), text, &req);
        assert_eq!(
            lines,
            [
                "ARCHITECTURE.md names 2 path(s) that do not exist (correct the path, or the \
                 sentence):",
                "  line 1: `main.rs`",
                "  line 2: `crates/gone/`",
                "ARCHITECTURE.md does not name 5 part(s) of the repository (give each a \
                 codemap row):",
                "  `crates/new/` (a crate directory)",
                "  `tools/gen/` (a workspace member)",
                "  `.cargo/` (a top-level folder)",
                "  `docs/` (a top-level folder)",
                "  `tools/` (a top-level folder)",
            ]
        );
        let named = "`crates/core/` `crates/new/` `tools/gen/` `xtask/src/` `.cargo/` `docs/`\n\
                     `.ci/run`";
        std::fs::create_dir_all(dir.path().join("xtask/src")).expect("dir");
        assert!(problems(dir.path(), named, &req).is_empty());
    }

    /// Every path ARCHITECTURE.md names exists.
    #[test]
    fn architecture_names_only_existing_paths() {
        let root = crate::env::root();
        let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
        let lines = problems(&root, &text, &[]);
        assert!(lines.is_empty(), "\n{}\n", lines.join("\n"));
    }

    /// ARCHITECTURE.md names every crate, workspace member and top-level folder.
    #[test]
    fn architecture_names_every_crate_member_and_folder() {
        let root = crate::env::root();
        let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
        let (found, _) = resolve(&root, &text);
        let missing = unnamed(&found, &required(&root).expect("the repository's parts"));
        let lines: Vec<String> =
            missing.iter().map(|(p, what)| format!("  `{p}/` ({what})")).collect();
        assert!(
            missing.is_empty(),
            "\nARCHITECTURE.md does not name {} part(s) of the repository (give each a \
             codemap row):\n{}\n",
            missing.len(),
            lines.join("\n")
        );
    }

    /// The statistics take data and return data: cnnvar-analysis depends on the vocabulary
    /// (`cnnvar-core`) and plain libraries only, never on the run store, the sweeps or
    /// burn, and its sources name none of them.
    #[test]
    fn the_analysis_depends_on_core_alone() {
        let root = crate::env::root();
        let manifest =
            std::fs::read_to_string(root.join("crates/analysis/Cargo.toml")).expect("manifest");
        let doc: toml::Table = manifest.parse().expect("TOML");
        let deps: Vec<&String> =
            doc["dependencies"].as_table().expect("dependencies").keys().collect();
        let allowed = ["cnnvar-core", "serde", "serde_json", "statrs", "csv"];
        let foreign: Vec<&&String> =
            deps.iter().filter(|d| !allowed.contains(&d.as_str())).collect();
        assert!(foreign.is_empty(), "cnnvar-analysis depends on {foreign:?}");
        let mut stack = vec![root.join("crates/analysis/src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source");
                    for name in ["cnnvar_store", "cnnvar_experiments", "cnnvar_report", "burn::"] {
                        assert!(!text.contains(name), "{} names {name}", path.display());
                    }
                }
            }
        }
    }

    /// The README's tables and findings of a study's results are generated, never typed:
    /// each block between `<!-- SCRIPT DIR: begin -->` and its `end` is what
    /// `scripts/SCRIPT DIR` prints from that study's files (`readme_ranking.py`: its
    /// CSVs; `readme_chaos.py`: its report's "Chance or chaos?" findings).
    #[test]
    fn readme_tables_are_the_scripts_output() {
        let root = crate::env::root();
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
        let blocks = generated_blocks(&readme);
        assert!(!blocks.is_empty(), "README.md has no generated block");
        for (script, dir, body) in blocks {
            let out = std::process::Command::new("python3")
                .arg(root.join("scripts").join(script))
                .arg(root.join(&dir))
                .output()
                .expect("python3 runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let printed = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                body.trim(),
                printed.trim(),
                "README.md's block of {dir} is not `python3 scripts/{script} {dir}`'s output"
            );
        }
    }

    /// The scripts whose output the README quotes.
    const README_SCRIPTS: [&str; 3] = ["readme_ranking.py", "readme_chaos.py", "readme_keras.py"];

    /// Each generated block of `text`, in order: the script, the study directory it
    /// names and the block's body.
    fn generated_blocks(text: &str) -> Vec<(&'static str, String, String)> {
        let mut blocks = vec![];
        for script in README_SCRIPTS {
            let begin = format!("<!-- {script} ");
            let mut rest = text;
            while let Some(at) = rest.find(&begin) {
                let after = &rest[at + begin.len()..];
                let Some((dir, tail)) = after.split_once(": begin -->") else { break };
                let end = format!("<!-- {script} {dir}: end -->");
                let Some((body, next)) = tail.split_once(end.as_str()) else { break };
                blocks.push((script, dir.to_string(), body.to_string()));
                rest = next;
            }
        }
        blocks
    }

    #[test]
    fn generated_blocks_are_found() {
        let text = "a\n<!-- readme_ranking.py results/x: begin -->\n| t |\n<!-- readme_ranking.py results/x: end -->\nb";
        let block = |script, body: &str| (script, "results/x".to_string(), body.to_string());
        assert_eq!(generated_blocks(text), [block("readme_ranking.py", "\n| t |\n")]);
        assert!(generated_blocks("no block").is_empty());
        let chaos = "<!-- readme_chaos.py results/x: begin -->\n- a\n<!-- readme_chaos.py results/x: end -->";
        assert_eq!(generated_blocks(chaos), [block("readme_chaos.py", "\n- a\n")]);
    }
}
