//! The kinds of thing a developer can request.

use std::fmt;

/// A product kind. Its CLI name (`mysql`) is also how it appears in paths
/// (`requests/<ns>/mysql-<name>.yaml`) and in JSON output; its manifest kind
/// (`MySQL`) is what request files say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[serde(rename = "mysql")]
    MySql,
    #[serde(rename = "app")]
    App,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::MySql, Kind::App];

    pub fn cli_name(self) -> &'static str {
        match self {
            Kind::MySql => "mysql",
            Kind::App => "app",
        }
    }

    pub fn manifest_kind(self) -> &'static str {
        match self {
            Kind::MySql => "MySQL",
            Kind::App => "App",
        }
    }

    pub fn from_cli_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.cli_name().eq_ignore_ascii_case(name))
    }

    pub fn from_manifest_kind(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.manifest_kind() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_name())
    }
}
