//! How a command ends: success, pending changes, or a failure, and the one
//! table that turns each into an exit code and (under `-o json`) a JSON
//! error document.

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;

use crate::ops;
use crate::output::{Printer, Style, WriteError};

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
