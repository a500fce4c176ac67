//! The argocd-cm merge patch that installs idp's Argo CD health checks
//! (`manifests/argocd/health/`), written by `idp init` beside the bootstrap.
//! Built in code, not from a template: each Lua script goes verbatim into a
//! literal block scalar, and a state repo has no business overriding it.

use super::RenderedFile;
use crate::layout;

/// (argocd-cm key, Lua source) for each kind idp renders whose health a sync
/// wave must wait for: the database claims (MySQL's: the fence too; those of
/// products without a fence: Ready), and the apps' Applications (compute
/// before traffic).
pub const HEALTH_CHECKS: &[(&str, &str)] = &[
    (
        "resource.customizations.health.platform.example.org_MySQLInstanceClaim",
        include_str!("../../manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua"),
    ),
    (
        "resource.customizations.health.platform.example.org_PostgreSQLInstanceClaim",
        include_str!("../../manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua"),
    ),
    (
        "resource.customizations.health.platform.example.org_RedisInstanceClaim",
        include_str!("../../manifests/argocd/health/platform.example.org_MySQLInstanceClaim/health.lua"),
    ),
    (
        "resource.customizations.health.argoproj.io_Application",
        include_str!("../../manifests/argocd/health/argoproj.io_Application/health.lua"),
    ),
];

const HEADER: &str = "\
# Argo CD health checks for the claims idp renders. Without them Argo CD cannot assess a
# platform.example.org claim, so it does not wait for one between sync waves: a failover's
# fence (wave -1) would not hold its data (wave 0). MySQLInstanceClaim stays Progressing
# until the cloud reports the write fence the claim asks for (status.fence.observed);
# PostgreSQLInstanceClaim and RedisInstanceClaim, which take no fence, until Ready. An
# app's Application reports its own health again (Argo CD 1.8 stopped assessing
# Applications), so traffic (wave 2) waits for the compute it points at (wave 1).
#
# A JSON merge patch for argocd-cm, not a ConfigMap: it sets these keys and leaves every
# other key of your argocd-cm alone (a key of the same name is replaced). Merge it once per
# Argo CD, and again when a new idp changes it:
#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file bootstrap/argocd-cm/health-checks.patch.yaml
# With Argo CD installed by Helm, put the same keys under the chart's configs.cm instead.
";

/// The patch file: a comment, then `data:` with one literal block per script.
pub fn argocd_cm_patch() -> RenderedFile {
    let mut content = format!("{HEADER}data:\n");
    for (key, lua) in HEALTH_CHECKS {
        // `|` keeps the text exactly when it ends in one newline and every line is indented.
        debug_assert!(lua.ends_with('\n') && !lua.ends_with("\n\n") && !lua.starts_with([' ', '\t', '\n']));
        content.push_str(&format!("  {key}: |\n"));
        for line in lua.lines() {
            if line.is_empty() {
                content.push('\n');
            } else {
                content.push_str(&format!("    {line}\n"));
            }
        }
    }
    RenderedFile {
        path: layout::ARGOCD_CM_PATCH_PATH.to_owned(),
        content,
        template: "manifests/argocd/health".to_owned(),
        documents: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{self, Node};

    /// Argo CD must get each script byte for byte: the patch's values, read back as YAML.
    #[test]
    fn the_patch_carries_each_script_verbatim() {
        let file = argocd_cm_patch();
        let docs: Vec<Node> = yaml::parse(&file.content).expect("the patch parses");
        assert_eq!(docs.len(), 1);
        let data = docs[0].at(&["data"]).and_then(Node::as_map).expect("a data map");
        assert_eq!(data.len(), HEALTH_CHECKS.len());
        for (key, lua) in HEALTH_CHECKS {
            assert_eq!(docs[0].str_at(&["data", key]), Some(*lua), "{key}");
        }
        assert!(docs[0].at(&["metadata"]).is_none(), "a merge patch names no object");
    }
}
