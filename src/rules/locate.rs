//! Locating regorus errors in the rule file that caused them: file, line,
//! column and a span that miette can underline.

use std::fmt::Display;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

use super::RulesError;

pub(super) fn named(path: &str, text: &Arc<String>) -> NamedSource<Arc<String>> {
    NamedSource::new(path, Arc::clone(text))
}

pub(super) fn compile_error(error: &impl Display, path: &str, text: &str) -> RulesError {
    let text = Arc::new(text.to_owned());
    let (location, message, span) = locate(error, path, &text);
    RulesError::Compile { location, message, src: named(path, &text), span }
}

/// Splits a regorus error (`--> file:line:col`, a snippet, `error: message`)
/// into a location, the message and a span in `text`.
pub(super) fn locate(error: &impl Display, path: &str, text: &str) -> (String, String, Option<SourceSpan>) {
    let rendered = format!("{error:#}");
    let message = rendered
        .lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(rendered.trim())
        .trim_end_matches(':')
        .to_owned();
    let position = rendered.lines().find_map(|l| l.trim().strip_prefix("--> ")).and_then(|at| {
        let mut parts = at.rsplitn(3, ':');
        let column: usize = parts.next()?.parse().ok()?;
        let line: usize = parts.next()?.parse().ok()?;
        (parts.next()? == path).then_some((line, column))
    });
    match position.and_then(|(line, column)| offset_of(text, line, column)) {
        Some(offset) => {
            let len = text[offset..].chars().next().map_or(0, char::len_utf8);
            (located(path, text, offset), message, Some(SourceSpan::new(offset.into(), len)))
        }
        None => (path.to_owned(), message, None),
    }
}

/// Byte offset of a 1-based line and column, if it is inside `text`. Kept on a
/// character boundary whatever unit the column counts in.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)? };
    let line_len = text[line_start..].find('\n').unwrap_or(text.len() - line_start);
    let mut offset = line_start + column.saturating_sub(1).min(line_len);
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    (offset < text.len()).then_some(offset)
}

pub(super) fn located(path: &str, text: &str, offset: usize) -> String {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{path}:{line}:{column}")
}

/// The span of the `package` clause, for the wrong-package label.
pub(super) fn package_span(text: &str) -> Option<SourceSpan> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("package ") {
            let start = offset + (line.len() - trimmed.len());
            return Some(SourceSpan::new(start.into(), trimmed.trim_end().len()));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_stay_inside_the_text_and_on_character_boundaries() {
        let text = "package idp\n# é\nx";
        assert_eq!(offset_of(text, 2, 3), Some(14));
        assert_eq!(offset_of(text, 2, 4), Some(14), "inside é, moved back to its start");
        assert_eq!(offset_of(text, 2, 99), Some(16), "clamped to the end of the line");
        assert_eq!(offset_of(text, 9, 1), None);
        assert_eq!(located("f.rego", text, 14), "f.rego:2:3");
    }
}
