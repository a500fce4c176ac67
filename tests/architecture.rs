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
    &["state", "live"],
    &["record", "cost"],
    &["layout"],
    &["cell"],
    &["request"],
    &["schedule"],
    &["product"],
    &["policy"],
    &["rules", "xrd", "compose"],
    &["secrets"],
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

/// The module path of a file: `src/ops/plan.rs` is `[ops, plan]`,
/// `src/state/transport/mod.rs` is `[state, transport]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap().with_extension("");
    let mut path: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if path.last().is_some_and(|last| last == "mod" || last == "lib") {
        path.pop();
    }
    path
}

/// The paths written after `prefix` (`crate::` or `super::`), as
/// identifier chains; `super::{land::x, Context}` gives both.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    fn chains(text: &str) -> Vec<Vec<String>> {
        let text = text.trim_start();
        if let Some(inner) = text.strip_prefix('{') {
            // The items of a group, split at its own commas.
            let (mut depth, mut start, mut items) = (0, 0, Vec::new());
            for (at, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.extend(chains(&inner[start..at]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.extend(chains(&inner[start..at]));
                        start = at + 1;
                    }
                    _ => {}
                }
            }
            return items;
        }
        let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
        let head = &text[..end];
        if head.is_empty() {
            return Vec::new();
        }
        match text[end..].strip_prefix("::") {
            Some(rest) => chains(rest)
                .into_iter()
                .map(|tail| [vec![head.to_owned()], tail].concat())
                .chain(
                    // `a::b::{c, d}` and `a::b::c` both name `a` at least.
                    std::iter::once(vec![head.to_owned()]),
                )
                .collect(),
            None => vec![vec![head.to_owned()]],
        }
    }
    code.match_indices(prefix)
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .flat_map(|(at, _)| chains(&code[at + prefix.len()..]))
        .collect()
}

/// Within one module, the modules it holds use each other without a cycle
/// (a cycle means two files own one thing). A use of `crate::state::remote`
/// from `state/transport/ssh.rs` is an arrow from `transport` to `remote`
/// inside `state`, wherever it is written.
#[test]
fn the_modules_inside_a_module_do_not_use_each_other_in_a_cycle() {
    let files = rust_files(&src());
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(f)).collect();
    // The longest known module that a path names.
    let resolve = |path: Vec<String>| (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| known.contains(p));
    let mut arrows: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for file in &files {
        let from = module_path(file);
        let code = code(file);
        let parent = from[..from.len().saturating_sub(1)].to_vec();
        let used = paths_after(&code, "crate::")
            .into_iter()
            .chain(paths_after(&code, "super::").into_iter().map(|p| [parent.clone(), p].concat()));
        for to in used.filter_map(resolve) {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // Uses of an ancestor (`super::Error`) or a descendant are not sideways arrows.
            if common < from.len() && common < to.len() {
                arrows.entry(from[..common].to_vec()).or_default().insert((from[common].clone(), to[common].clone()));
            }
        }
    }
    for (inside, edges) in arrows {
        let next_of = |node: &String| -> Vec<String> {
            edges.iter().filter(|(a, _)| a == node).map(|(_, b)| b.clone()).collect()
        };
        for (start, _) in &edges {
            // Depth-first from each module; reaching it again is a cycle.
            let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
            while let Some(path) = stack.pop() {
                for next in next_of(path.last().unwrap()) {
                    assert!(&next != start, "a cycle in crate::{}: {} -> {next}", inside.join("::"), path.join(" -> "));
                    if !path.contains(&next) {
                        stack.push([path.clone(), vec![next]].concat());
                    }
                }
            }
        }
    }
}

#[test]
fn the_checker_sees_what_it_must() {
    // The scanner itself: a path in a comment is not an import, a path in code is.
    let code = "use crate::ops::plan; // crate::cli\nlet x = crate::state::read(super::land::x);\nuse super::{records::parse, Context};";
    let code: String = code.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
    assert_eq!(names_after(&code, "crate::"), BTreeSet::from(["ops", "state"]));
    let supers: BTreeSet<Vec<String>> = paths_after(&code, "super::").into_iter().collect();
    for expected in [&["land"][..], &["land", "x"], &["records", "parse"], &["Context"]] {
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        assert!(supers.contains(&expected), "{expected:?} in {supers:?}");
    }
    assert_eq!(module_path(&src().join("state/transport/mod.rs")), ["state", "transport"]);
    assert!(layer_of("cli") < layer_of("ops") && layer_of("ops") < layer_of("state"));
}
