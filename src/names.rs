//! Syntax of the names idp writes into paths, labels and manifests.
//!
//! These checks are the first line against injection and path traversal: a
//! name that passes cannot contain `/`, `..`, quotes, whitespace or template
//! syntax, so it is safe in a file path and a YAML scalar alike.

/// What idp appends to a database's name for its secondary claim
/// (`layout::claim_name`).
pub const SECONDARY_SUFFIX: &str = "-secondary";
/// What idp appends to a database's name for its replication claim
/// (`layout::replication_name`).
pub const REPLICATION_SUFFIX: &str = "-replication";
/// What idp appends to a database's name for the replication claim of its
/// `idp migrate` (`layout::migration_name`).
pub const MIGRATION_SUFFIX: &str = "-migration";
/// What idp appends to a database's name for the primary claim a migration
/// made, followed by its generation (`orders-m1`, `layout::claim_name`).
pub const GENERATION_SUFFIX: &str = "-m<n>";
/// The suffixes of derived claim names, which no new database's name may end
/// with: so that a claim name in a namespace, of either kind, is one
/// request's one claim (`orders-secondary` could otherwise be a database of
/// its own and the secondary claim of `orders`).
pub const RESERVED_SUFFIXES: [&str; 4] = [SECONDARY_SUFFIX, REPLICATION_SUFFIX, MIGRATION_SUFFIX, GENERATION_SUFFIX];

/// What separates an app's namespace from its name in the names derived
/// from both (`layout::NameScheme::Separated`). No new app's namespace or
/// name may hold it, so the first one splits such a name back.
pub const APP_SEPARATOR: &str = "--";

/// The reserved suffix (`RESERVED_SUFFIXES`) a database's name ends with.
pub fn reserved_suffix(name: &str) -> Option<&'static str> {
    let generation = name
        .rsplit_once("-m")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'));
    if generation {
        return Some(GENERATION_SUFFIX);
    }
    RESERVED_SUFFIXES.into_iter().find(|suffix| name.ends_with(suffix))
}

/// A Kubernetes DNS-1123 label: lowercase alphanumerics and '-', starting and
/// ending alphanumeric, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A DNS name (a subdomain): DNS-1123 labels joined by dots, at most 253
/// characters, at least two labels (a public host, not a bare word).
pub fn is_dns_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').count() >= 2 && s.split('.').all(is_dns_label)
}

/// A Kubernetes label value (non-empty here): alphanumerics, '-', '_', '.',
/// starting and ending alphanumeric, at most 63 characters.
pub fn is_label_value(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// `n` of a thing, in the number's grammar: "1 request", "2 requests".
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// A duration in seconds as a person reads it: "30 s", "15 min", "90 s".
pub fn seconds(s: u64) -> String {
    if s >= 60 && s.is_multiple_of(60) { format!("{} min", s / 60) } else { format!("{s} s") }
}

/// `s` with every control or invisible character (newline, tab, escape,
/// zero-width and bidi marks) written as a Rust escape, so a crafted value
/// cannot forge lines, colour codes or reordered text in a message.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let escaped = c.escape_debug();
        if matches!(c, '"' | '\'' | '\\') || escaped.len() == 1 {
            out.push(c);
        } else {
            out.extend(escaped);
        }
    }
    out
}

/// The closest of `candidates` to `input`, if it is close enough to be a
/// typo: a few edits (a third of the length), ignoring case. A shared prefix
/// alone (`cell-ap-south` vs `cell-us-east`) is not a typo.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (c, strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase())))
        .filter(|(c, distance)| *distance <= (c.len().max(input.len()) / 3).max(1))
        .min_by_key(|(_, distance)| *distance)
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_a_migration_derives_are_reserved_and_only_those() {
        for name in ["orders-m1", "orders-m12", "a-m9"] {
            assert_eq!(reserved_suffix(name), Some(GENERATION_SUFFIX), "{name}");
        }
        assert_eq!(reserved_suffix("orders-migration"), Some(MIGRATION_SUFFIX));
        for name in ["orders-m0", "orders-m01", "orders-m", "orders-mx", "orders-m1x", "orders", "m1"] {
            assert_eq!(reserved_suffix(name), None, "{name}");
        }
    }

    #[test]
    fn dns_labels() {
        for ok in ["a", "orders-db", "team-alpha", "x1", &"a".repeat(63)] {
            assert!(is_dns_label(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "../x", "a b", "a\nb", "{{x}}", "ɑ", "a\"b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad:?}");
        }
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_name("orders.example.org"));
        assert!(!is_dns_name("orders"));
        assert!(!is_dns_name("orders..example.org"));
        assert!(!is_dns_name("Orders.example.org"));
        assert!(!is_dns_name("*.example.org"));
    }

    #[test]
    fn label_values() {
        assert!(is_label_value("business_critical"));
        assert!(is_label_value("C0"));
        assert!(!is_label_value("_x"));
        assert!(!is_label_value("a/b"));
    }

    #[test]
    fn counts_and_durations_read_as_words() {
        assert_eq!(
            (counted(1, "request"), counted(0, "request"), counted(2, "file")),
            ("1 request".into(), "0 requests".into(), "2 files".into())
        );
        assert_eq!((seconds(30), seconds(900), seconds(90)), ("30 s".into(), "15 min".into(), "90 s".into()));
    }

    #[test]
    fn printable_escapes_what_could_forge_output() {
        assert_eq!(printable("plain `x` \"q\" it's"), "plain `x` \"q\" it's");
        assert_eq!(printable("a\nb\tc\u{1b}[31m"), "a\\nb\\tc\\u{1b}[31m");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(printable("café ü"), "café ü");
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let tiers = ["low", "medium", "critical", "business_critical"];
        assert_eq!(did_you_mean("meduim", tiers), Some("medium"));
        assert_eq!(did_you_mean("storagegb", ["storageGB", "size"]), Some("storageGB"));
        assert_eq!(did_you_mean("zzz", tiers), None);
        assert_eq!(did_you_mean("prodution", ["dev", "staging", "production", "prod"]), Some("production"));
        assert_eq!(did_you_mean("cell-ap-south", ["cell-us-east", "cell-eu", "payments"]), None);
    }
}
