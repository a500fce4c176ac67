//! How a command ends: success, pending changes, or a failure, and the one
//! table that turns each into an exit code and (under `-o json`) a JSON
//! error document.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;

use crate::ops;
use crate::output::{Format, Printer, Style, WriteError};

/// How a command ended, before it becomes an exit code.
pub enum Ending {
    Success,
    /// Success with pending changes, under `--detailed-exitcode`.
    Changes,
}

/// A command that did not succeed.
pub enum Failure {
    ClosedPipe,
    /// Failed, and the printed result already explains why (verify findings).
    Silent,
    Error(miette::Report),
    /// Failed after the result was printed (it is the one document on
    /// stdout): the report goes to stderr only.
    AfterResult(miette::Report),
}

impl From<ops::Error> for Failure {
    fn from(error: ops::Error) -> Self {
        Failure::Error(miette::Report::new(error))
    }
}

impl From<WriteError> for Failure {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::ClosedPipe => Failure::ClosedPipe,
            WriteError::Failed(e) => Failure::Error(miette::miette!(
                code = "idp::output::write",
                help = "check where stdout goes (a full disk?); a commit, if any, was made: `idp history` shows it",
                "cannot write the result to stdout: {e}"
            )),
        }
    }
}

/// The JSON/YAML document printed on stdout for a failure.
#[derive(serde::Serialize)]
struct ErrorOutcome {
    error: serde_json::Value,
}

impl From<&miette::Report> for ErrorOutcome {
    fn from(report: &miette::Report) -> Self {
        let d: &dyn miette::Diagnostic = report.as_ref();
        let mut related: Vec<serde_json::Value> = d
            .related()
            .into_iter()
            .flatten()
            .map(|r| json!({ "message": r.to_string(), "help": r.help().map(|h| h.to_string()) }))
            .collect();
        // A single problem is its own issue, so CI always finds them in one place.
        if related.is_empty() {
            related.push(json!({ "message": d.to_string(), "help": d.help().map(|h| h.to_string()) }));
        }
        let error = json!({
            "code": d.code().map(|c| c.to_string()),
            "message": d.to_string(),
            "help": d.help().map(|h| h.to_string()),
            "issues": related,
        });
        Self { error }
    }
}

impl crate::output::Outcome for ErrorOutcome {
    fn human(&self, _: &Style) -> String {
        String::new()
    }
}

/// The exit code of a command's result: 0 success, 1 any error (reported on
/// stderr, and as a JSON document on stdout under `-o json`), 2 changes
/// pending under `--detailed-exitcode`. A closed stdout ends quietly with 0.
pub(super) fn exit_code(result: Result<Ending, Failure>, printer: &Printer) -> ExitCode {
    match result {
        Ok(Ending::Success) => ExitCode::SUCCESS,
        Ok(Ending::Changes) => ExitCode::from(2),
        Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        // The outcome on stdout already says what failed.
        Err(Failure::Silent) => ExitCode::from(1),
        Err(Failure::AfterResult(report)) => {
            let _ = writeln!(std::io::stderr(), "{report:?}");
            ExitCode::from(1)
        }
        Err(Failure::Error(report)) => {
            if printer.is_machine() {
                // CI reads the reason from stdout; people read the report below.
                let _ = printer.result(&ErrorOutcome::from(&report));
            }
            // A closed stderr (`2>&1 | head -1`) has nobody to tell: the exit code still says it.
            let _ = writeln!(std::io::stderr(), "{report:?}");
            ExitCode::from(1)
        }
    }
}

/// A command line clap refused (or `--help`, `--version`). Usage errors exit 1
/// like every other error, and under `-o json`/`-o yaml` they are the same one
/// error document on stdout, so CI parses every failure the same way.
pub(super) fn usage_error(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if !error.use_stderr() {
        return ExitCode::SUCCESS;
    }
    if let Some(format) = requested_format(std::env::args().skip(1)) {
        let printer = Printer {
            format,
            style: Style { color: false, no_headers: false },
            err_style: Style { color: false, no_headers: false },
            quiet: true,
        };
        let _ = printer.result(&ErrorOutcome::usage(error));
    }
    ExitCode::from(1)
}

/// The format `-o`/`--output` asks for, read from the raw arguments (clap
/// could not parse them); None for a table or when it is not given.
fn requested_format(args: impl Iterator<Item = String>) -> Option<Format> {
    let mut args = args.take_while(|a| a != "--");
    let mut value = None;
    while let Some(arg) = args.next() {
        if arg == "-o" || arg == "--output" {
            value = args.next();
        } else if let Some(v) = arg.strip_prefix("--output=").or_else(|| arg.strip_prefix("-o")) {
            value = Some(v.trim_start_matches('=').to_owned());
        }
    }
    match value.as_deref() {
        Some("json") => Some(Format::Json),
        Some("yaml") => Some(Format::Yaml),
        _ => None,
    }
}

impl ErrorOutcome {
    fn usage(error: &clap::Error) -> Self {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let argument = match error.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(arg)) => arg.clone(),
            _ => String::new(),
        };
        let code = match error.kind() {
            ErrorKind::InvalidValue | ErrorKind::ValueValidation if argument.contains("KIND") => "idp::usage::kind",
            ErrorKind::InvalidValue | ErrorKind::ValueValidation => "idp::usage::invalid_value",
            ErrorKind::MissingRequiredArgument => "idp::usage::missing_argument",
            ErrorKind::UnknownArgument => "idp::usage::unknown_argument",
            ErrorKind::InvalidSubcommand => "idp::usage::unknown_command",
            _ => "idp::usage::arguments",
        };
        // clap's text is "error: MESSAGE\n\nUsage: ...\n\nFor more information, ...".
        let rendered = error.render().to_string();
        let mut parts = rendered.trim_start_matches("error: ").split("\n\n");
        let message = parts.next().unwrap_or_default().trim().to_owned();
        let usage = parts.find(|p| p.starts_with("Usage:")).map(|u| u.trim().to_owned());
        let help = match usage {
            Some(usage) => format!("{usage}; `--help` shows every flag with examples"),
            None => "`--help` shows every flag with examples".to_owned(),
        };
        let issue = json!({ "message": message, "help": help });
        Self { error: json!({ "code": code, "message": message, "help": help, "issues": [issue] }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_format_is_read_from_the_raw_arguments() {
        let format = |args: &[&str]| requested_format(args.iter().map(|a| a.to_string()));
        assert_eq!(format(&["delete", "x", "-o", "json"]), Some(Format::Json));
        assert_eq!(format(&["--output=yaml", "plan"]), Some(Format::Yaml));
        assert_eq!(format(&["-ojson"]), Some(Format::Json));
        assert_eq!(format(&["-o=json"]), Some(Format::Json));
        assert_eq!(format(&["-o", "table"]), None);
        assert_eq!(format(&["plan", "--", "-o", "json"]), None);
        assert_eq!(format(&["plan"]), None);
    }
}
