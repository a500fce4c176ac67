//! Talking to the person at the terminal: the confirmation every writing
//! command asks, and the progress line of fetches and pushes.

use std::io::IsTerminal;

use super::{Ending, Failure};
use crate::ops;
use crate::output::{Outcome, Printer};

/// A progress line on stderr for fetch, push and retries; silent unless
/// stderr is a terminal and the output is for people.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(printer: &Printer) -> Self {
        let show = !printer.is_machine() && !printer.quiet && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    pub fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs an operation with the progress line of its fetches and pushes, and
/// clears the line however it ends.
pub(crate) fn with_progress<T>(
    printer: &Printer,
    operation: impl FnOnce(&dyn Fn(&str)) -> Result<T, ops::Error>,
) -> Result<T, ops::Error> {
    let progress = Progress::new(printer);
    let result = operation(&|message| progress.say(message));
    progress.done();
    result
}

/// Prints what a writing command wrote, or that it wrote nothing because
/// the confirmation was declined.
pub(crate) fn print_written<T: Outcome>(printer: &Printer, outcome: Option<T>) -> Result<Ending, Failure> {
    match outcome {
        Some(outcome) => printer.result(&outcome)?,
        None => printer.note("nothing written"),
    }
    Ok(Ending::Success)
}

/// What a writing command asks before it writes.
pub(crate) enum Question<'a> {
    /// Answered y/N; anything but yes declines.
    YesNo(String),
    /// Answered by typing `expected` exactly, so a stray Enter cannot say
    /// yes (the cell name before a failover).
    Typed { prompt: String, expected: &'a str },
}

/// The confirmation of every writing command. `--yes` answers it; otherwise
/// the summary (what would be written) goes to stderr and the question to
/// the terminal. Without a terminal it refuses: a script must say `--yes`,
/// and nothing may hang waiting for input.
pub(crate) fn confirm_write(
    yes: bool,
    printer: &Printer,
    summary: Option<&str>,
    question: Question<'_>,
) -> Result<bool, ops::Error> {
    if yes {
        return Ok(true);
    }
    if let Some(summary) = summary {
        printer.raw_stderr(summary);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ops::Error::NeedsConfirmation);
    }
    Ok(match question {
        Question::YesNo(prompt) => {
            dialoguer::Confirm::new().with_prompt(prompt).default(false).interact().unwrap_or(false)
        }
        Question::Typed { prompt, expected } => {
            let answer: String =
                dialoguer::Input::new().with_prompt(prompt).allow_empty(true).interact_text().unwrap_or_default();
            answer.trim() == expected
        }
    })
}
