//! Plain, borderless tables with UPPERCASE headers, like `kubectl get`.

use comfy_table::{CellAlignment, ContentArrangement, presets};

pub struct Table {
    inner: comfy_table::Table,
}

impl Table {
    pub fn new(headers: &[&str], no_headers: bool) -> Self {
        let mut inner = comfy_table::Table::new();
        inner.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
        if !no_headers {
            inner.set_header(headers.iter().map(|h| h.to_uppercase()).collect::<Vec<_>>());
        }
        Self { inner }
    }

    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.inner.add_row(cells.into_iter().map(Into::into).collect::<Vec<String>>());
        self
    }

    /// Right-aligns numeric columns.
    pub fn right(&mut self, columns: &[usize]) -> &mut Self {
        for &i in columns {
            if let Some(column) = self.inner.column_mut(i) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.inner.row_count() == 0
    }

    /// The table as text, one line per row, trailing spaces trimmed and the
    /// first column flush left.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in self.inner.lines() {
            let line = line.strip_prefix(' ').unwrap_or(&line).trim_end();
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colour codes take no room on screen: a coloured cell must not push the
    /// next column right (comfy-table's `custom_styling` measures without them).
    #[test]
    fn colour_codes_do_not_count_in_column_widths() {
        let mut table = Table::new(&["change", "path"], false);
        table.row(["\u{1b}[32mcreate\u{1b}[0m", "requests/a.yaml"]).row(["update", "requests/b.yaml"]);
        let visible: Vec<String> = table
            .render()
            .lines()
            .map(|line| {
                let mut plain = String::new();
                let mut chars = line.chars();
                while let Some(c) = chars.next() {
                    if c == '\u{1b}' {
                        chars.by_ref().find(|c| *c == 'm');
                    } else {
                        plain.push(c);
                    }
                }
                plain
            })
            .collect();
        let column = |line: &str| line.find("requests/").unwrap_or_else(|| panic!("{line:?}"));
        assert_eq!(column(&visible[1]), column(&visible[2]), "{visible:#?}");
    }
}
