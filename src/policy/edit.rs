//! Edits of the policy file that idp commits itself (`idp policy cordon`),
//! made in the text so the platform team's comments and layout stay as they
//! wrote them: one line added, changed or removed, then the whole file is
//! loaded again before anything is written.

use crate::yaml::{self, Source};

/// `policy/policy.yaml` with candidate `provider/region` cordoned or not;
/// Ok(None) when it already is as asked. The error says why the text cannot
/// be edited this way (the candidate is missing, or not in block style).
pub fn set_cordoned(text: &str, candidate: &str, cordoned: bool) -> Result<Option<String>, String> {
    let source = Source::new("policy/policy.yaml", text);
    let documents = yaml::parse_documents(&source).map_err(|e| e.to_string())?;
    let doc = documents.first().ok_or("the policy file is empty")?;
    let item =
        find_candidate(doc, candidate).ok_or_else(|| format!("`{candidate}` is not a candidate of the policy"))?;
    if text.as_bytes().get(item.span.offset()) == Some(&b'{') {
        return Err(format!("candidate {candidate} is written in flow style ({{...}}): edit it by hand"));
    }
    let now = matches!(item.at(&["cordoned"]).map(|n| &n.value), Some(yaml::Value::Bool(true)));
    if now == cordoned {
        return Ok(None);
    }
    match item.get("cordoned") {
        // `cordoned: false` written out: flip the value.
        Some((_, value)) if cordoned => {
            let (start, end) = (value.span.offset(), value.span.offset() + value.span.len());
            Ok(Some(format!("{}true{}", &text[..start], &text[end..])))
        }
        // Uncordon: the line goes, as the default is open.
        Some((key, _)) => {
            let (start, end) = line_of(text, key.span.offset());
            if !text[start..key.span.offset()].trim().is_empty() {
                return Err(format!("`cordoned` of {candidate} shares its line with another key: edit it by hand"));
            }
            Ok(Some(format!("{}{}", &text[..start], &text[end..])))
        }
        // Cordon: a line after `region`, at its indentation.
        None => {
            let (region_key, region) = item.get("region").ok_or("a candidate without a region")?;
            let column = region_key.span.offset() - line_of(text, region_key.span.offset()).0;
            let (_, end) = line_of(text, region.span.offset() + region.span.len().saturating_sub(1));
            let indent = " ".repeat(column);
            Ok(Some(format!("{}{indent}cordoned: true\n{}", &text[..end], &text[end..])))
        }
    }
}

/// The candidate `provider/region` of a parsed policy document.
fn find_candidate<'a>(doc: &'a yaml::Node, id: &str) -> Option<&'a yaml::Node> {
    let Some(yaml::Value::Seq(candidates)) = doc.at(&["candidates"]).map(|n| &n.value) else { return None };
    candidates.iter().find(
        |c| matches!((c.str_at(&["provider"]), c.str_at(&["region"])), (Some(p), Some(r)) if format!("{p}/{r}") == id),
    )
}

/// The byte range of the line holding `at`, its newline included.
fn line_of(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Node;

    /// Whether candidate `id` of a parsed policy document is cordoned.
    fn is_cordoned(doc: &Node, id: &str) -> bool {
        find_candidate(doc, id)
            .is_some_and(|c| matches!(c.at(&["cordoned"]).map(|n| &n.value), Some(yaml::Value::Bool(true))))
    }

    fn parsed(text: &str) -> Node {
        yaml::parse_documents(&Source::new("p.yaml", text)).unwrap().remove(0)
    }

    #[test]
    fn cordoning_adds_one_line_and_uncordoning_removes_it_keeping_everything_else() {
        let policy = crate::policy::DEFAULT_POLICY_YAML;
        let cordoned = set_cordoned(policy, "gcp/us-central1", true).unwrap().expect("a change");
        assert_eq!(cordoned.lines().count(), policy.lines().count() + 1);
        assert!(is_cordoned(&parsed(&cordoned), "gcp/us-central1"));
        assert!(!is_cordoned(&parsed(&cordoned), "aws/us-east-1"));
        crate::policy::load(Source::new("p.yaml", cordoned.clone()), crate::policy::PolicyOrigin::Embedded)
            .expect("the edited policy loads");
        assert_eq!(set_cordoned(&cordoned, "gcp/us-central1", true).unwrap(), None, "already cordoned");
        let open = set_cordoned(&cordoned, "gcp/us-central1", false).unwrap().expect("a change");
        assert_eq!(open, policy, "uncordon gives back the very text");
        assert_eq!(set_cordoned(policy, "gcp/us-central1", false).unwrap(), None, "already open");

        let written_false = cordoned.replace("cordoned: true", "cordoned: false");
        let flipped = set_cordoned(&written_false, "gcp/us-central1", true).unwrap().unwrap();
        assert_eq!(flipped, cordoned);
    }

    #[test]
    fn what_cannot_be_edited_by_line_is_refused() {
        assert!(
            set_cordoned(crate::policy::DEFAULT_POLICY_YAML, "aws/mars-1", true)
                .unwrap_err()
                .contains("not a candidate")
        );
        let flow = "candidates:\n  - {provider: aws, region: us-east-1}\n";
        assert!(set_cordoned(flow, "aws/us-east-1", true).unwrap_err().contains("flow style"));
    }
}
