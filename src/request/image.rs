//! Container image references (`spec.image` of an app), held to what a
//! registry accepts: the grammar of github.com/distribution/reference
//! (`regexp.go`, `reference.go`), which Docker, containerd and the kubelet
//! parse with. A reference it refuses would be accepted here and fail only on
//! the runtime cluster, as an image that never pulls.
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path-component [ "/" path-component ]*   (at most 255)
//! domain           := host [ ":" port ]
//! host             := domain-component [ "." domain-component ]* | "[" ipv6 "]"
//! domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
//! separator        := [._] | "__" | "-"+
//! tag              := [\w][\w.-]{0,127}
//! ```
//!
//! idp asks more than the grammar: a port is 1..=65535, the reference is
//! pinned (a tag or a digest), and a digest is `sha256:` and 64 lowercase
//! hex digits, the only one registries serve.

/// `NameTotalLengthMax` of reference.go: the name, domain included, without tag or digest.
pub const MAX_NAME: usize = 255;

/// The longest tag: `[\w][\w.-]{0,127}`.
pub const MAX_TAG: usize = 128;

/// Why an image reference is not one a registry would take, or not pinned; None if it is.
pub fn problem(image: &str) -> Option<String> {
    // Anything outside the grammar's characters (whitespace, quotes, control
    // characters, template syntax) is not a reference at all.
    let plain = !image.is_empty()
        && image
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@' | b'[' | b']'));
    if !plain {
        return Some("is not a container image reference".into());
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    // The tag is after the last `/`: a `:` before it is the registry's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(colon) => (&rest[..last_slash + colon], Some(&rest[last_slash + colon + 1..])),
        None => (rest, None),
    };
    if let Some(why) = name_problem(name) {
        return Some(why);
    }
    if let Some(tag) = tag
        && let Some(why) = tag_problem(tag)
    {
        return Some(why);
    }
    if let Some(digest) = digest
        && !is_sha256_digest(digest)
    {
        return Some(format!("has a malformed digest `{digest}`: idp takes sha256: and 64 lowercase hex digits"));
    }
    (tag.is_none() && digest.is_none()).then(|| "carries no tag or digest".into())
}

fn name_problem(name: &str) -> Option<String> {
    if name.len() > MAX_NAME {
        return Some(format!("names a repository of {} characters; at most {MAX_NAME} are allowed", name.len()));
    }
    let components: Vec<&str> = name.split('/').collect();
    if components.iter().any(|c| c.is_empty()) {
        return Some("has an empty path component (a leading, trailing or doubled `/`)".into());
    }
    // The first of several components is the registry when it can only be
    // one: it holds `.` or `:`, is `localhost`, is an IPv6 address, or has
    // capitals (as distribution/reference's normalize.go decides).
    let (domain, path) = match components.split_first() {
        Some((first, path)) if !path.is_empty() && looks_like_domain(first) => (Some(*first), path),
        _ => (None, &components[..]),
    };
    if let Some(domain) = domain
        && let Some(why) = domain_problem(domain)
    {
        return Some(why);
    }
    path.iter().find(|c| !is_path_component(c)).map(|c| {
        format!(
            "has path component `{c}`, which a registry refuses: lowercase letters and digits, separated by one `.`, `_` or `__`, or dashes"
        )
    })
}

fn looks_like_domain(component: &str) -> bool {
    component.contains(['.', ':', '[']) || component == "localhost" || component.bytes().any(|b| b.is_ascii_uppercase())
}

fn domain_problem(domain: &str) -> Option<String> {
    let (host, port) = if let Some(ipv6) = domain.strip_prefix('[') {
        let Some((address, after)) = ipv6.split_once(']') else {
            return Some(format!("has registry `{domain}`, whose IPv6 address lacks its `]`"));
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Some(format!("has registry `{domain}`, whose IPv6 address is not hex digits and `:`"));
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Some(format!("has registry `{domain}`, with something after its address")),
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host
        && !host.split('.').all(is_domain_component)
    {
        return Some(format!(
            "has registry host `{host}`, which is not a host name: labels of letters, digits and `-`, joined by `.`"
        ));
    }
    let port = port?;
    let valid = port.bytes().all(|b| b.is_ascii_digit())
        && port.trim_start_matches('0').len() <= 5
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
    (!valid).then(|| format!("has registry port `{port}`, outside 1..=65535"))
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(label: &str) -> bool {
    !label.is_empty()
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(component: &str) -> bool {
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut at = 0;
    loop {
        let start = at;
        while at < bytes.len() && alphanumeric(bytes[at]) {
            at += 1;
        }
        if at == start {
            return false;
        }
        if at == bytes.len() {
            return true;
        }
        let separator = &component[at..at + bytes[at..].iter().take_while(|b| !alphanumeric(**b)).count()];
        let allowed = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !allowed {
            return false;
        }
        at += separator.len();
    }
}

fn tag_problem(tag: &str) -> Option<String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if tag.is_empty() {
        return Some("has an empty tag (nothing after `:`)".into());
    }
    if tag.contains(':') {
        return Some(format!("has more than one tag (`:{tag}`)"));
    }
    if tag.len() > MAX_TAG {
        return Some(format!("has a tag of {} characters; at most {MAX_TAG} are allowed", tag.len()));
    }
    let valid = word(tag.as_bytes()[0]) && tag.bytes().all(|b| word(b) || matches!(b, b'.' | b'-'));
    (!valid).then(|| {
        format!(
            "has tag `{tag}`, which a registry refuses: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
        )
    })
}

fn is_sha256_digest(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references_a_registry_takes_are_accepted() {
        let with_digest = format!("registry.example.org/orders/api@{DIGEST}");
        let tag_and_digest = format!("orders/api:1.4.2@{DIGEST}");
        let long_tag = format!("app:{}", "v".repeat(MAX_TAG));
        for image in [
            "checkout:1.8.3",
            "registry.example.org/payments/checkout:1.8.3",
            "registry.example.org:5000/payments/checkout:1.8.3",
            "localhost/app:1",
            "localhost:5000/app:latest",
            "[::1]:5000/app:1",
            "Registry.Example.org/app:1",
            "a/b/c/d:1",
            "my_app/a__b/a.b/a--b/a---b:V1_2.3-rc",
            "127.0.0.1:65535/app:1",
            &with_digest,
            &tag_and_digest,
            &long_tag,
        ] {
            assert_eq!(problem(image), None, "{image}");
        }
    }

    #[test]
    fn references_a_registry_refuses_are_refused_saying_why() {
        let long_tag = format!("app:{}", "v".repeat(MAX_TAG + 1));
        let long_name = format!("{}:1", "a".repeat(MAX_NAME + 1));
        for (image, says) in [
            ("registry.example.com/../etc:1", "path component `..`"),
            ("registry.example.org/./app:1", "path component `.`"),
            ("./app:1", "registry host `.`"),
            ("app:1.0:2.0", "more than one tag (`:1.0:2.0`)"),
            ("registry.example.com:99999/app:1", "registry port `99999`, outside 1..=65535"),
            ("registry.example.com:0/app:1", "registry port `0`"),
            ("registry.example.com:/app:1", "registry port ``"),
            ("registry.example.org/Payments/app:1", "path component `Payments`"),
            ("App:1", "path component `App`"),
            ("a//b:1", "empty path component"),
            ("/app:1", "empty path component"),
            ("app/:1", "empty path component"),
            ("a.-b/app:1", "registry host `a.-b`"),
            ("[::g]/app:1", "IPv6 address is not hex digits"),
            ("a-/app:1", "path component `a-`"),
            ("a..b/app:1", "registry host `a..b`"),
            ("a_.b:1", "path component `a_.b`"),
            ("a___b:1", "path component `a___b`"),
            ("app:", "empty tag"),
            ("app:.1", "tag `.1`"),
            ("app:-1", "tag `-1`"),
            (&long_tag, "a tag of 129 characters; at most 128"),
            (&long_name, "256 characters; at most 255"),
            ("app@sha256:abc", "malformed digest `sha256:abc`"),
            ("app@md5:0123456789abcdef0123456789abcdef", "malformed digest"),
            ("app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "malformed digest"),
            ("app:1@sha256:x@y", "malformed digest"),
            ("registry.example.org/app", "carries no tag or digest"),
            ("registry.example.org:5000/app", "carries no tag or digest"),
            ("app:1\nkind: Secret", "is not a container image reference"),
            ("{{ image }}", "is not a container image reference"),
        ] {
            let found = problem(image).unwrap_or_else(|| panic!("{image:?} accepted"));
            assert!(found.contains(says), "{image:?}: expected {says:?} in {found:?}");
        }
    }
}
