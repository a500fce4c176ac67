//! The layers of ARCHITECTURE.md, checked against the imports in `src/`.
//!
//! A module may use the modules below it, never one above; `state` is the
//! only module that names git2; and the files of one module do not import
//! each other in a cycle. This reads the source text (every `crate::x` and
//! `super::x` path outside comments), so it cannot see a dependency that
//! goes through a re-export or a macro: it keeps the arrows honest, it does
//! not prove them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom, as ARCHITECTURE.md lists them. A module may use only the
/// modules after it.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["output"],
    &["ops"],
    &["catalog"],
    &["render"],
    &["state"],
    &["record", "cost"],
    &["layout"],
    &["cell"],
    &["request"],
    &["schedule"],
    &["policy"],
    &["rules"],
    &["yaml", "names"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments and without its `#[cfg(test)]`
/// module (tests may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The identifiers that follow `prefix` in `code` (`crate::ops::plan` gives `ops`).
fn names_after<'a>(code: &'a str, prefix: &str) -> BTreeSet<&'a str> {
    code.match_indices(prefix)
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(at, _)| {
            let rest = &code[at + prefix.len()..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// `src/ops/plan.rs` and `src/ops/mod.rs` are in `ops`; `src/layout.rs` is `layout`.
fn top_module(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn every_module_is_in_a_layer() {
    for file in rust_files(&src()) {
        let module = top_module(&file);
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        assert!(
            layer_of(&module).is_some(),
            "{module} ({}) is in no layer: add it to ARCHITECTURE.md and LAYERS",
            file.display()
        );
    }
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let mut upward = Vec::new();
    for file in rust_files(&src()) {
        let module = top_module(&file);
        let Some(own) = layer_of(&module) else { continue };
        for used in names_after(&code(&file), "crate::") {
            // `crate::run`, `crate::test_support` and the like are not modules of a layer.
            let Some(layer) = layer_of(used) else { continue };
            if used != module && layer <= own {
                upward.push(format!("{} uses crate::{used}", file.strip_prefix(src()).unwrap().display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layers of ARCHITECTURE.md:\n{}", upward.join("\n"));
}

#[test]
fn only_state_touches_git2() {
    let outside: Vec<String> = rust_files(&src())
        .into_iter()
        .filter(|file| top_module(file) != "state")
        .filter(|file| code(file).contains("git2::") || code(file).contains("use git2"))
        .map(|file| file.strip_prefix(src()).unwrap().display().to_string())
        .collect();
    assert!(outside.is_empty(), "git2 outside src/state/: {outside:?}");
}

/// Within one folder, `super::x` names a sibling file; those arrows must not
/// form a cycle (a cycle means two files own one thing).
#[test]
fn the_files_of_a_module_do_not_import_each_other_in_a_cycle() {
    let mut folders: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for file in rust_files(&src()) {
        folders.entry(file.parent().unwrap().to_path_buf()).or_default().push(file);
    }
    for (folder, files) in folders {
        let stem = |f: &Path| f.file_stem().unwrap().to_string_lossy().into_owned();
        let siblings: BTreeSet<String> = files.iter().map(|f| stem(f)).filter(|s| s != "mod").collect();
        let edges: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .filter(|f| stem(f) != "mod")
            .map(|f| {
                let code = code(f);
                let used = names_after(&code, "super::")
                    .into_iter()
                    .chain(names_after(&code, "self::"))
                    .filter(|n| siblings.contains(*n) && *n != stem(f))
                    .map(str::to_owned)
                    .collect();
                (stem(f), used)
            })
            .collect();
        for start in edges.keys() {
            // Depth-first from each file; reaching it again is a cycle.
            let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
            while let Some(path) = stack.pop() {
                for next in &edges[path.last().unwrap()] {
                    assert!(
                        next != start,
                        "a cycle in {}: {} -> {next}",
                        folder.strip_prefix(src()).unwrap_or(&folder).display(),
                        path.join(" -> ")
                    );
                    if !path.contains(next) {
                        stack.push([path.clone(), vec![next.clone()]].concat());
                    }
                }
            }
        }
    }
}

#[test]
fn the_checker_sees_what_it_must() {
    // The scanner itself: a path in a comment is not an import, a path in code is.
    let code = "use crate::ops::plan; // crate::cli\nlet x = crate::state::read(super::land::x);";
    let code: String = code.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
    assert_eq!(names_after(&code, "crate::"), BTreeSet::from(["ops", "state"]));
    assert_eq!(names_after(&code, "super::"), BTreeSet::from(["land"]));
    assert!(layer_of("cli") < layer_of("ops") && layer_of("ops") < layer_of("state"));
}
