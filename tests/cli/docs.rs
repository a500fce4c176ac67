//! The docs keep up with the code: every error code has a cause and a fix in
//! docs/troubleshooting.md, and the README links every guide.

use crate::common::crate_dir;

/// `idp::area::what` codes declared anywhere under src/.
fn error_codes() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices("idp::") {
                    let code: String =
                        text[at..].chars().take_while(|c| c.is_ascii_lowercase() || *c == ':' || *c == '_').collect();
                    let before = &text[..at];
                    // Only codes: `code(idp::...)` and `code = "idp::..."`.
                    if (before.ends_with("code(") || before.ends_with("code = \"")) && code.matches("::").count() == 2 {
                        out.push(code);
                    }
                }
            }
        }
    }
    let mut codes = Vec::new();
    walk(&crate_dir().join("src"), &mut codes);
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn every_error_code_is_in_the_troubleshooting_guide() {
    let guide = std::fs::read_to_string(crate_dir().join("docs/troubleshooting.md")).unwrap();
    let codes = error_codes();
    assert!(codes.len() > 40, "found the codes: {codes:?}");
    let missing: Vec<&String> = codes.iter().filter(|c| !guide.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "docs/troubleshooting.md lacks {missing:?}");
}

#[test]
fn the_readme_links_every_guide() {
    let readme = std::fs::read_to_string(crate_dir().join("README.md")).unwrap();
    for entry in std::fs::read_dir(crate_dir().join("docs")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            assert!(readme.contains(&format!("(docs/{name})")), "README.md does not link docs/{name}");
        }
    }
}
