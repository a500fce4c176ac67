//! Talking to the person at the terminal: the confirmation every writing
//! command asks, and the progress line of fetches and pushes.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};

use super::{Ending, Failure};
use crate::ops;
use crate::ops::land::{Answer, Proposed};
use crate::output::{Outcome, Printer};

/// The progress line on screen, if any: one per process, so a question can
/// take it down (`hide_progress`) before it is asked.
static SPINNER: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// A progress line on stderr for fetch, push and retries; silent unless
/// stderr is a terminal and the output is for people. It appears with the
/// first message, never while a question is on screen.
pub struct Progress {
    show: bool,
}

impl Progress {
    pub fn new(printer: &Printer) -> Self {
        Self { show: !printer.is_machine() && !printer.quiet && std::io::stderr().is_terminal() }
    }

    pub fn say(&self, message: &str) {
        if !self.show {
            return;
        }
        let mut spinner = SPINNER.lock().unwrap_or_else(PoisonError::into_inner);
        let bar = spinner.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        bar.set_message(message.to_owned());
    }

    pub fn done(&self) {
        hide_progress();
    }
}

/// A note on stderr while the progress line may be on screen (a staged
/// runbook's notes between its pushes): printed above the line, not through it.
pub(crate) fn note_beside_progress(printer: &Printer, message: &str) {
    match SPINNER.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        Some(bar) => bar.suspend(|| printer.note(message)),
        None => printer.note(message),
    }
}

/// Clears the progress line: its ticks would redraw over a question and the
/// answer being typed. The next progress message draws a new one.
fn hide_progress() {
    if let Some(bar) = SPINNER.lock().unwrap_or_else(PoisonError::into_inner).take() {
        bar.finish_and_clear();
    }
}

/// Runs an operation with the progress line of its fetches and pushes, and
/// clears the line however it ends.
pub(crate) fn with_progress<T>(
    printer: &Printer,
    ctx: &mut ops::Context,
    operation: impl FnOnce(&mut ops::Context, &dyn Fn(&str)) -> Result<T, ops::Error>,
) -> Result<T, ops::Error> {
    let progress = Progress::new(printer);
    let result = operation(ctx, &|message| progress.say(message));
    progress.done();
    // Said whatever the outcome: a repair happened even if the command failed.
    for note in ctx.take_notes() {
        printer.note(&note);
    }
    result
}

/// Prints what a writing command wrote; a declined confirmation is a
/// cancelled command (exit 1, as terraform's "Apply cancelled"), so a script
/// that did not mean to stop does not read it as done.
pub(crate) fn print_written<T: Outcome>(printer: &Printer, outcome: Option<T>) -> Result<Ending, Failure> {
    match outcome {
        Some(outcome) => {
            printer.result(&outcome)?;
            Ok(Ending::Success)
        }
        None => declined(printer),
    }
}

/// The end of a command whose confirmation was declined.
pub(crate) fn declined(printer: &Printer) -> Result<Ending, Failure> {
    printer.note("cancelled: nothing written");
    Err(Failure::Silent)
}

/// What a writing command asks before it writes.
pub(crate) enum Question<'a> {
    /// Answered y/N; anything but yes declines.
    YesNo(String),
    /// Answered by typing `expected` exactly, so a stray Enter cannot say
    /// yes (the cell name before a failover).
    Typed { prompt: String, expected: &'a str },
}

/// The flags that answer a writing command's confirmation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Consent {
    /// `--yes`: confirm without asking (never enough to destroy data).
    pub yes: bool,
    /// `--allow-destroy`: the explicit word for deleting or replacing data.
    pub allow_destroy: bool,
}

/// The confirmation of every writing command. `--yes` answers it; otherwise
/// the summary (what would be written) goes to stderr and the question to
/// the terminal. Without a terminal it refuses: a script must say `--yes`,
/// and nothing may hang waiting for input.
///
/// What would destroy data is always shown, Terraform-style. Without
/// `--allow-destroy`, a person at a terminal (not under `--yes`) may give
/// the explicit word by typing the request's NAMESPACE/NAME; `ops::land`
/// refuses the commit otherwise.
pub(crate) fn confirm_write(
    consent: Consent,
    printer: &Printer,
    summary: Option<&str>,
    question: Question<'_>,
    proposed: &Proposed<'_>,
) -> Result<Answer, ops::Error> {
    // What follows (the summary, the question) must not be drawn over.
    hide_progress();
    if !proposed.destroys.is_empty() && !printer.is_machine() {
        printer.raw_stderr(&crate::output::destroys(proposed.destroys, &printer.err_style));
    }
    if consent.yes {
        return Ok(Answer::Yes);
    }
    if let Some(summary) = summary {
        printer.raw_stderr(summary);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(ops::Error::NeedsConfirmation);
    }
    // The explicit word for destroying one request's data is its name.
    let requests: BTreeSet<&str> = proposed.destroys.iter().filter_map(|d| d.request_id()).collect();
    if !proposed.destroys.is_empty() && !consent.allow_destroy {
        let [request] = requests.into_iter().collect::<Vec<_>>()[..] else { return Ok(Answer::Yes) };
        let prompt = format!("This destroys data. Type {request} to go ahead");
        let answer = ask(Question::Typed { prompt, expected: request });
        return Ok(if answer { Answer::YesDestroy } else { Answer::No });
    }
    Ok(if ask(question) { Answer::Yes } else { Answer::No })
}

fn ask(question: Question<'_>) -> bool {
    hide_progress();
    match question {
        Question::YesNo(prompt) => {
            dialoguer::Confirm::new().with_prompt(prompt).default(false).interact().unwrap_or(false)
        }
        Question::Typed { prompt, expected } => {
            let answer: String =
                dialoguer::Input::new().with_prompt(prompt).allow_empty(true).interact_text().unwrap_or_default();
            answer.trim() == expected
        }
    }
}
