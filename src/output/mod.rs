//! The printer: results to stdout as a table, JSON or YAML; notes and
//! warnings to stderr. The only module besides `cli` that writes to a stream.
//!
//! Every outcome is one `Serialize` value, so the table and the JSON can never
//! disagree about what happened.

mod apply;
mod delete;
mod doctor;
mod failover;
mod history;
mod init;
mod list;
mod migrate;
mod plan;
mod policy;
mod products;
mod render;
mod rollback;
mod status;
mod tables;
mod verify;

use std::io::{self, Write};

use serde::Serialize;

pub use plan::{destroyed, destroys, diff};
pub use tables::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// What a command returns: serializable for JSON/YAML, and able to draw
/// itself for people.
pub trait Outcome: Serialize {
    fn human(&self, style: &Style) -> String;

    /// The result line alone, for `-q`; None where the whole table is the result.
    fn result_line(&self, _style: &Style) -> Option<String> {
        None
    }
}

/// Presentation settings resolved once from flags and environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub no_headers: bool,
}

impl Style {
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: Format,
    /// How results look on stdout.
    pub style: Style,
    /// How notes, warnings and confirmations look on stderr.
    pub err_style: Style,
    pub quiet: bool,
}

/// stdout could not take the result.
#[derive(Debug)]
pub enum WriteError {
    /// The reader went away (`idp history | head`): stop quietly.
    ClosedPipe,
    /// Anything else (a full disk): the result was lost, so it is an error.
    Failed(io::Error),
}

impl Printer {
    /// Writes a command's result to stdout in the chosen format.
    pub fn result<T: Outcome>(&self, outcome: &T) -> Result<(), WriteError> {
        let text = match self.format {
            Format::Table if self.quiet => {
                outcome.result_line(&self.style).unwrap_or_else(|| outcome.human(&self.style))
            }
            Format::Table => outcome.human(&self.style),
            // Streamed: a bulk apply's JSON runs to tens of megabytes.
            Format::Json => return write_json(outcome),
            Format::Yaml => serde_saphyr::to_string(outcome).unwrap_or_default(),
        };
        write_stdout(&text)
    }

    /// Raw text for stdout (diffs after a plan).
    pub fn raw(&self, text: &str) -> Result<(), WriteError> {
        write_stdout(text)
    }

    /// Text for people on stderr (a plan shown before a confirmation).
    pub fn raw_stderr(&self, text: &str) {
        let _ = io::stderr().write_all(text.as_bytes());
    }

    /// A note for people: stderr, silenced by `-q`.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr(), "{} {message}", self.err_style.dim("note:"));
        }
    }

    /// A warning: stderr, always shown.
    pub fn warn(&self, message: &str) {
        let _ = writeln!(io::stderr(), "{} {message}", self.err_style.yellow("warning:"));
    }

    pub fn is_machine(&self) -> bool {
        self.format != Format::Table
    }
}

fn write_stdout(text: &str) -> Result<(), WriteError> {
    let mut out = io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

fn write_json<T: Serialize>(value: &T) -> Result<(), WriteError> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from);
    written(result.and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()))
}

fn written(result: io::Result<()>) -> Result<(), WriteError> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(WriteError::ClosedPipe),
        Err(e) => Err(WriteError::Failed(e)),
        Ok(()) => Ok(()),
    }
}

/// A number as policies write it: up to 4 decimals, no trailing zeros.
pub fn number(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
