//! Human output of `idp render`.

use super::{Outcome, Style};
use crate::ops::render::RenderOutcome;

/// The manifests as one multi-document YAML stream, ready for kubectl.
impl Outcome for RenderOutcome {
    fn human(&self, _: &Style) -> String {
        self.manifests.iter().map(|m| format!("---\n# Source: {}\n{}", m.path, m.content)).collect()
    }
}
