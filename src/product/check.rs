//! The checks of a product definition, each problem located in its file.

use serde_json::Value as Json;

use super::{ClaimRef, Definition, Field, PLACEMENT_PARAMETERS, Product, ProductIssue, Role};
use crate::policy::API_VERSION;
use crate::policy::Policy;
use crate::xrd::{ClaimApi, Parameter, Xrds};
use crate::yaml::{Node, PathSegment, Source};

use PathSegment::Key;

/// How long a product's name or alias may be: it leads the name of every
/// file of its requests (`requests/<ns>/<name>-<request>.yaml`).
pub const NAME_LIMIT: usize = 24;

struct Checker<'a> {
    source: &'a Source,
    /// The document each problem is located in; None for a built-in
    /// definition read from its JSON ([`built_in`]).
    root: Option<&'a Node>,
    issues: Vec<ProductIssue>,
}

impl Checker<'_> {
    fn issue(&mut self, path: &[PathSegment<'_>], message: impl Into<String>, help: Option<String>) {
        let span = self.root.map_or_else(|| (0, 0).into(), |root| root.locate(path));
        self.issues.push(ProductIssue::new(self.source, span, message.into(), help));
    }
}

/// One definition, read from its only document. `folder`: the name its
/// state-repo folder gives it (None for a built-in one); `files`: the state
/// repo's files under `policy/products/`, for an XRD and Compositions of its own.
pub(super) fn definition(
    source: &Source,
    documents: &[Node],
    folder: Option<&str>,
    policy: &Policy,
    files: &[(String, Source)],
) -> Result<Product, Vec<ProductIssue>> {
    let root = &documents[0];
    let mut c = Checker { source, root: Some(root), issues: Vec::new() };
    if documents.len() > 1 {
        let span = documents[1].span;
        let help = Some("remove the extra `---` documents".to_owned());
        c.issues.push(ProductIssue::new(source, span, "a product definition holds one YAML document".into(), help));
    }
    let def: Definition = match crate::yaml::from_node(root) {
        Ok(def) => def,
        Err(error) => {
            let span = error.span.unwrap_or(root.span);
            let help = Some("see policy/products/mysql/product.yaml in the idp project for the shape".to_owned());
            c.issues.push(ProductIssue::new(source, span, error.message(), help));
            return Err(c.issues);
        }
    };
    c.checked(def, folder, policy, files)
}

/// A built-in definition, read from its JSON (`src/product/embedded.json`)
/// rather than its YAML: None when the policy in force gives it a problem,
/// which [`definition`] then locates in the YAML.
pub(super) fn built_in(source: &Source, def: Definition, policy: &Policy) -> Option<Product> {
    Checker { source, root: None, issues: Vec::new() }.checked(def, None, policy, &[]).ok()
}

impl Checker<'_> {
    /// Every check of a definition once it is read.
    fn checked(
        mut self,
        def: Definition,
        folder: Option<&str>,
        policy: &Policy,
        files: &[(String, Source)],
    ) -> Result<Product, Vec<ProductIssue>> {
        if def.api_version != API_VERSION {
            self.issue(&[Key("apiVersion")], format!("apiVersion must be {API_VERSION}"), None);
        }
        if def.kind != "Product" {
            self.issue(&[Key("kind")], "kind must be Product", None);
        }
        self.label(&def.name, &[Key("name")], "name");
        if def.name.contains('-') {
            self.issue(
                &[Key("name")],
                format!("name `{}` holds `-`", def.name),
                Some(format!(
                    "a product's name leads its requests' files (`<product>-<request>.yaml`), which are split at the first `-`: use letters and digits, e.g. {}; an alias may hold `-`",
                    def.name.replace('-', "")
                )),
            );
        }
        if (def.role == Role::App) != (def.name == super::APP_PRODUCT) {
            self.issue(
                &[Key("role")],
                format!("only the product named `{}` has role app", super::APP_PRODUCT),
                Some("apps' fields are idp's own: replace policy/products/app/product.yaml, or give this product an alias there".into()),
            );
        }
        if let Some(folder) = folder.filter(|f| *f != def.name) {
            self.issue(
                &[Key("name")],
                format!("name `{}` differs from its folder `{folder}`", def.name),
                Some(format!("a definition lives at {}", super::definition_path(&def.name))),
            );
        }
        let pascal = def.manifest_kind.len() <= super::KIND_NAME_LIMIT
            && def.manifest_kind.starts_with(|ch: char| ch.is_ascii_uppercase())
            && def.manifest_kind.chars().all(|ch| ch.is_ascii_alphanumeric());
        if !pascal {
            self.issue(
                &[Key("manifestKind")],
                format!("manifestKind `{}` is not a Kubernetes kind", def.manifest_kind),
                Some("letters and digits, starting with a capital, e.g. PostgreSQL".into()),
            );
        }
        for (i, alias) in def.aliases.iter().enumerate() {
            self.label(alias, &[Key("aliases"), PathSegment::Index(i)], "alias");
        }
        let description = def.description.trim();
        if description.is_empty() || description.contains('\n') || description.len() > 200 {
            self.issue(&[Key("description")], "description must be one line of 1 to 200 characters", None);
        }
        let claim = match def.role {
            // A built-in app's keys are held by the test of the built-ins.
            Role::App => {
                for field in ["xrd", "fields", "replication", "cost"] {
                    if self.root.is_some_and(|root| root.get(field).is_some()) {
                        self.issue(
                            &[Key(field)],
                            format!("an app product has no `{field}`: its fields are idp's own (docs/requests.md)"),
                            Some("remove it, or make the product `role: data`".into()),
                        );
                    }
                }
                None
            }
            Role::Data => self.data(&def, policy, folder.map(|f| (f, files))),
        };
        if !self.issues.is_empty() {
            return Err(self.issues);
        }
        let (claim, fields) = claim.unwrap_or_default();
        Ok(Product {
            name: def.name,
            manifest_kind: def.manifest_kind,
            aliases: def.aliases,
            description: description.to_owned(),
            role: def.role,
            claim,
            fields,
            replication: def.replication,
            cost: def.cost,
            origin: self.source.name.clone(),
        })
    }

    fn label(&mut self, value: &str, path: &[PathSegment<'_>], what: &str) {
        if value == "cell" {
            self.issue(path, format!("{what} `cell` is taken: `idp status cell` shows a cell"), None);
        } else if !crate::names::is_dns_label(value) || value.len() > NAME_LIMIT {
            self.issue(
                path,
                format!("{what} `{value}` is not a product name"),
                Some(format!("lowercase letters, digits and '-', at most {NAME_LIMIT} characters, e.g. postgres")),
            );
        }
    }

    /// A data product's claim and fields, checked against its XRD and the
    /// policy. `own`: a state repo's definition, with the repo's files.
    fn data(
        &mut self,
        def: &Definition,
        policy: &Policy,
        own: Option<(&str, &[(String, Source)])>,
    ) -> Option<(Option<ClaimRef>, Vec<Field>)> {
        let Some(file) = &def.xrd else {
            self.issue(
                &[Key("role")],
                "a data product names its XRD (`xrd:`)",
                Some(
                    "one idp ships (xrd: manifests/crossplane/xrd-mysql.yaml), or a file of its folder (xrd: xrd.yaml)"
                        .into(),
                ),
            );
            return None;
        };
        // One of idp's XRDs (a path), or a file of the definition's own folder.
        let parsed: Xrds;
        let (xrds, path): (&Xrds, String) = match own.filter(|_| !file.contains('/')) {
            Some((folder, files)) => {
                let path = format!("{}/{folder}/{file}", super::PRODUCTS_DIR);
                let Some((_, text)) = files.iter().find(|(p, _)| *p == path) else {
                    self.issue(&[Key("xrd")], format!("xrd `{file}`: there is no {path}"), None);
                    return None;
                };
                match Xrds::parse(&[(path.as_str(), text.text.as_str())]) {
                    Ok(xrds) => {
                        parsed = xrds;
                        (&parsed, path)
                    }
                    Err(error) => {
                        self.issue(&[Key("xrd")], format!("xrd `{file}` cannot be read: {}", error.message), None);
                        return None;
                    }
                }
            }
            None => match Xrds::embedded() {
                Ok(xrds) => (xrds, file.clone()),
                Err(error) => {
                    self.issue(&[Key("xrd")], error.to_string(), None);
                    return None;
                }
            },
        };
        let Some(api) = xrds.claim_of_file(&path) else {
            let shipped: Vec<&str> = crate::xrd::EMBEDDED_XRDS.iter().map(|(path, _)| *path).collect();
            let (message, help) = match own.filter(|_| !file.contains('/')) {
                Some(_) => (
                    format!("xrd `{file}` defines no claim kind: a v1 XRD with `spec.claimNames`"),
                    "idp writes claims: give the XRD claimNames, as manifests/crossplane/xrd-mysql.yaml does"
                        .to_owned(),
                ),
                None => (
                    format!("xrd `{file}` is not an XRD with a claim that idp ships"),
                    format!(
                        "idp ships: {}; a state repo's product may name a file of its folder (xrd: xrd.yaml)",
                        shipped.join(", ")
                    ),
                ),
            };
            self.issue(&[Key("xrd")], message, Some(help));
            return None;
        };
        self.placement_declared(&api, file);
        if let Some((folder, files)) = own.filter(|_| !file.contains('/')) {
            self.compositions(&api, &def.name, folder, files, policy);
        }
        let mut fields = Vec::new();
        for (name, field_def) in &def.fields {
            let at = [Key("fields"), Key(name)];
            if PLACEMENT_PARAMETERS.contains(&name.as_str()) {
                self.issue(
                    &at,
                    format!("`{name}` is a parameter idp writes from the placement, not a request field"),
                    Some(format!("idp writes {}", PLACEMENT_PARAMETERS.join(", "))),
                );
                continue;
            }
            let Some(parameter) = api.parameter(name) else {
                let known: Vec<&str> = api
                    .parameters
                    .iter()
                    .map(|p| p.name.as_str())
                    .filter(|p| !PLACEMENT_PARAMETERS.contains(p))
                    .collect();
                self.issue(
                    &at,
                    format!("`{name}` is not a parameter of {} ({file})", api.kind),
                    Some(format!("its parameters: {}", known.join(", "))),
                );
                continue;
            };
            if let Some(field) = self.field(&at, parameter, field_def, policy) {
                fields.push(field);
            }
        }
        for parameter in api.parameters.iter().filter(|p| p.required && p.default.is_none()) {
            let written =
                PLACEMENT_PARAMETERS.contains(&parameter.name.as_str()) || def.fields.contains_key(&parameter.name);
            if !written {
                self.issue(
                    &[Key("fields")],
                    format!("{} requires parameter `{}`, which is no field of the product", api.kind, parameter.name),
                    Some(format!("add `{}: {{}}` under fields", parameter.name)),
                );
            }
        }
        self.narrowed(&api, policy);
        self.cost(def, &fields);
        let fences = api.parameter("writeFence").is_some_and(|p| p.type_ == "boolean");
        let providers: std::collections::BTreeSet<&str> =
            policy.candidates.iter().map(|c| c.provider.as_str()).collect();
        for (i, pairs) in def.replication.iter().enumerate().filter_map(|(i, r)| Some((i, r.between()?))) {
            for [a, b] in pairs {
                let unknown: Vec<&str> =
                    [a, b].into_iter().map(String::as_str).filter(|p| !providers.contains(p)).collect();
                if a == b || !unknown.is_empty() {
                    self.issue(
                        &[Key("replication"), PathSegment::Index(i)],
                        format!("the pair {a}/{b} is not two providers of the policy's candidates"),
                        Some(format!("the providers: {}", providers.iter().copied().collect::<Vec<_>>().join(", "))),
                    );
                }
            }
        }
        if !def.replication.is_empty() && !fences {
            self.issue(
                &[Key("replication")],
                format!("{} has no writeFence: a secondary needs one", api.kind),
                Some("a failover fences the old writer before the new one takes writes; without a fence two could write: list no replication, or give the XRD a writeFence its Compositions apply".into()),
            );
        }
        let claim = ClaimRef {
            xrd: path.clone(),
            api_version: format!("{}/{}", api.group, api.version),
            kind: api.kind.to_owned(),
            composite: api.composite.to_owned(),
            fences,
        };
        Some((Some(claim), fields))
    }

    /// A cost model prices fields the product has, of the types it prices.
    fn cost(&mut self, def: &Definition, fields: &[Field]) {
        let Some(cost) = &def.cost else { return };
        let bindings = [
            ("size", Some(&cost.size), "string"),
            ("perGB", cost.per_gb.as_ref(), "integer"),
            ("ha", cost.ha.as_ref(), "boolean"),
        ];
        for (key, field, type_) in bindings {
            let Some(field) = field else { continue };
            match fields.iter().find(|f| f.name() == field.as_str()) {
                Some(f) if f.parameter.type_ == type_ => {}
                Some(f) => self.issue(
                    &[Key("cost"), Key(key)],
                    format!("cost.{key} prices a {type_} field; `{field}` is a {}", f.parameter.type_),
                    None,
                ),
                None => self.issue(
                    &[Key("cost"), Key(key)],
                    format!("cost.{key}: `{field}` is no field of the product"),
                    None,
                ),
            }
        }
        if !(cost.factor.is_finite() && cost.factor > 0.0 && cost.factor <= 100.0) {
            self.issue(&[Key("cost"), Key("factor")], format!("cost.factor {} is not in (0, 100]", cost.factor), None);
        }
    }

    /// The parameters idp writes from the placement (all but `writeFence`,
    /// which a claim may lack) are declared by the XRD: the API server would
    /// prune an undeclared one, and the Composition never see it.
    fn placement_declared(&mut self, api: &ClaimApi<'_>, file: &str) {
        let missing: Vec<&str> = super::PLACEMENT_PARAMETERS
            .iter()
            .copied()
            .filter(|p| *p != "writeFence" && api.parameter(p).is_none())
            .collect();
        if !missing.is_empty() {
            self.issue(
                &[Key("xrd")],
                format!(
                    "{} ({file}) does not declare {}, which idp writes in every claim",
                    api.kind,
                    missing.join(", ")
                ),
                Some("declare them under spec.parameters, as manifests/crossplane/xrd-mysql.yaml does".into()),
            );
        }
    }

    /// A product's own Compositions (`composition-*.yaml` of its folder):
    /// each composes its XRD's composite, and every provider of the policy's
    /// candidates has one its claims select (`provider` and `class: <name>`,
    /// as the claim template's compositionSelector says). Otherwise a claim
    /// placed on that provider would wait for ever for a Composition.
    fn compositions(
        &mut self,
        api: &ClaimApi<'_>,
        name: &str,
        folder: &str,
        files: &[(String, Source)],
        policy: &Policy,
    ) {
        let prefix = format!("{}/{folder}/composition-", super::PRODUCTS_DIR);
        let mut selected: Vec<String> = Vec::new();
        for (path, source) in files.iter().filter(|(p, _)| p.starts_with(&prefix) && p.ends_with(".yaml")) {
            let documents = match crate::yaml::non_empty_documents(&source.text) {
                Ok(documents) => documents,
                Err(error) => {
                    self.issue(&[Key("xrd")], format!("{path} is not YAML: {}", error.in_text(&source.text)), None);
                    continue;
                }
            };
            for doc in documents.iter().filter(|d| d.str_at(&["kind"]) == Some("Composition")) {
                let composition = doc.str_at(&["metadata", "name"]).unwrap_or("a Composition");
                let group = doc.str_at(&["spec", "compositeTypeRef", "apiVersion"]).and_then(|v| v.split_once('/'));
                let kind = doc.str_at(&["spec", "compositeTypeRef", "kind"]);
                if group.map(|(g, _)| g) != Some(api.group) || kind != Some(api.composite) {
                    self.issue(
                        &[Key("xrd")],
                        format!(
                            "{composition} in {path} does not compose {}/{} {}",
                            api.group, api.version, api.composite
                        ),
                        Some("set its spec.compositeTypeRef to the XRD's composite".into()),
                    );
                    continue;
                }
                let label = |key: &str| doc.str_at(&["metadata", "labels", key]);
                if label("class") == Some(name)
                    && let Some(provider) = label("provider")
                {
                    selected.push(provider.to_owned());
                }
            }
        }
        let providers: std::collections::BTreeSet<&str> =
            policy.candidates.iter().map(|c| c.provider.as_str()).collect();
        let unselected: Vec<&str> = providers.into_iter().filter(|p| !selected.iter().any(|s| s == p)).collect();
        if !unselected.is_empty() {
            self.issue(
                &[Key("xrd")],
                format!(
                    "claims of {name} placed on {} would select no Composition: no {prefix}*.yaml is labelled provider: <provider>, class: {name}",
                    unselected.join(", ")
                ),
                Some("add a Composition per provider of the policy's candidates, labelled as its claims select it".into()),
            );
        }
    }

    /// One request field: a type idp can validate, a default of that type,
    /// gates only on a boolean and only of the policy's capabilities.
    fn field(
        &mut self,
        at: &[PathSegment<'_>],
        parameter: &Parameter,
        def: &super::FieldDef,
        policy: &Policy,
    ) -> Option<Field> {
        let name = &parameter.name;
        let supported = match parameter.type_.as_str() {
            // Free text would reach a manifest as the developer wrote it.
            "string" => !parameter.values.is_empty(),
            "integer" | "boolean" => true,
            _ => false,
        };
        if !supported {
            self.issue(
                at,
                format!(
                    "`{name}` is a {} parameter: a request field is a string with an enum, an integer or a boolean",
                    parameter.type_
                ),
                Some("give the XRD parameter an enum, or leave it to the Composition".into()),
            );
            return None;
        }
        if let Some(default) = &def.default {
            let at_default = [at, &[Key("default")]].concat();
            if let Some(xrd_default) = &parameter.default {
                self.issue(
                    &at_default,
                    format!("the XRD already defaults `{name}` to {xrd_default}"),
                    Some("remove the default here: the XRD's is the one the API server applies".into()),
                );
            } else if let Some(why) = admits(parameter, default) {
                self.issue(&at_default, format!("default {default} of `{name}` {why}"), None);
            }
        }
        for (i, gate) in def.gates.iter().enumerate() {
            let at_gate = [at, &[Key("gates"), PathSegment::Index(i)]].concat();
            if parameter.type_ != "boolean" {
                self.issue(
                    &at_gate,
                    format!("only a boolean field adds gates; `{name}` is a {}", parameter.type_),
                    None,
                );
            } else if !policy.capabilities.contains(gate) {
                self.issue(
                    &at_gate,
                    format!("unknown capability `{gate}`"),
                    Some(format!("the policy's capabilities: {}", policy.capabilities.join(", "))),
                );
            }
        }
        Some(Field {
            parameter: parameter.clone(),
            request_default: parameter.default.clone().or_else(|| def.default.clone()),
            gates: def.gates.clone(),
        })
    }

    /// The policy narrows the XRD's sizes and storage range for every data
    /// product; it may not widen them: the API server would refuse a claim
    /// the policy admits.
    fn narrowed(&mut self, api: &ClaimApi<'_>, policy: &Policy) {
        if let Some(size) = api.parameter("size").filter(|p| !p.values.is_empty()) {
            let beyond: Vec<&str> =
                policy.sizes.iter().map(String::as_str).filter(|s| !size.values.contains(&Json::from(*s))).collect();
            if !beyond.is_empty() {
                self.issue(
                    &[Key("xrd")],
                    format!("the policy's sizes {} are not sizes {} admits", beyond.join(", "), api.kind),
                    Some("the API server would refuse their claims: add them to the XRD's enum, or remove them from the policy's sizes".into()),
                );
            }
        }
        if let Some(storage) = api.parameter("storageGB") {
            let range = policy.storage_gb;
            let below = storage.minimum.is_some_and(|min| f64::from(range.min) < min);
            let above = storage.maximum.is_some_and(|max| f64::from(range.max) > max);
            if below || above {
                self.issue(
                    &[Key("xrd")],
                    format!(
                        "the policy's storageGB {}..={} is wider than {} admits ({}..={})",
                        range.min,
                        range.max,
                        api.kind,
                        storage.minimum.map_or("".into(), |m| m.to_string()),
                        storage.maximum.map_or("".into(), |m| m.to_string())
                    ),
                    Some("narrow the policy's storageGB to the XRD's range".into()),
                );
            }
        }
    }
}

/// Why `value` is no value of `parameter`, if it is not one.
pub(super) fn admits(parameter: &Parameter, value: &Json) -> Option<String> {
    let typed = match parameter.type_.as_str() {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        _ => false,
    };
    if !typed {
        return Some(format!("is not a {}", parameter.type_));
    }
    if !parameter.values.is_empty() && !parameter.values.contains(value) {
        let values: Vec<String> = parameter.values.iter().map(Json::to_string).collect();
        return Some(format!("is not one of {}", values.join(", ")));
    }
    let number = value.as_f64();
    if let (Some(n), Some(min)) = (number, parameter.minimum)
        && n < min
    {
        return Some(format!("is below the minimum {min}"));
    }
    if let (Some(n), Some(max)) = (number, parameter.maximum)
        && n > max
    {
        return Some(format!("is above the maximum {max}"));
    }
    None
}

/// What no two products in force may share: a name or alias, a manifest
/// kind, and a claim kind of an XRD of their own (with idp's XRDs too): two
/// XRDs of one claim kind cannot both be installed. Located in the state
/// repo's definition that brings the clash.
pub(super) fn together(products: &[(Product, Option<(Source, Node)>)]) -> Vec<ProductIssue> {
    let mut issues = Vec::new();
    for (i, (product, own)) in products.iter().enumerate() {
        let Some((source, root)) = own else { continue };
        let mut c = Checker { source, root: Some(root), issues: Vec::new() };
        let own_claim = product.claim.as_ref().filter(|claim| claim.xrd.starts_with(super::PRODUCTS_DIR));
        if let Some(claim) = own_claim {
            let shipped = crate::xrd::embedded_claim_kinds().iter().find(|k| k.kind == claim.kind);
            let other = products
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (p, _))| p)
                .find(|p| p.claim.as_ref().is_some_and(|other| other.kind == claim.kind && other.xrd != claim.xrd));
            let holder =
                shipped.map(|k| k.file.to_owned()).or_else(|| other.and_then(|p| Some(p.claim.as_ref()?.xrd.clone())));
            if let Some(holder) = holder {
                c.issue(
                    &[Key("xrd")],
                    format!("its XRD's claim kind {} is {holder}'s too", claim.kind),
                    Some("give the XRD a claim kind of its own (`spec.claimNames.kind`)".into()),
                );
            }
        }
        for (other, _) in products.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p) {
            if other.manifest_kind == product.manifest_kind {
                c.issue(
                    &[Key("manifestKind")],
                    format!("manifestKind {} is product {}'s too", product.manifest_kind, other.name),
                    Some("every product has a kind of its own".into()),
                );
            }
            let words = std::iter::once(&product.name).chain(&product.aliases);
            for (index, word) in words.enumerate().filter(|(_, word)| other.answers_to(word)) {
                let at: Vec<PathSegment<'_>> =
                    if index == 0 { vec![Key("name")] } else { vec![Key("aliases"), PathSegment::Index(index - 1)] };
                c.issue(&at, format!("`{word}` already names product {}", other.name), None);
            }
        }
        issues.append(&mut c.issues);
    }
    issues
}
