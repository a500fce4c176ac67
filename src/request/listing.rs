//! A plan's requests, validated in a first pass that keeps only where each
//! came from, then read and validated again one source at a time as they
//! are planned. A validated request is ~1 KB in memory and a bulk plan of
//! 100,000 held them all to the end (issue 23); the first pass keeps ~8
//! bytes a request and ~100 a source. What only the first pass can judge
//! (a request given twice, a name only a placed request may keep) is judged
//! there; a source whose bytes differ when read again is refused rather
//! than planned as something other than what was checked. A listing of a
//! few requests keeps them instead: reading a file twice is a tenth of a
//! one-request plan's system time.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ffi::OsStr;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::validate::{self, Admission, Issue, RequestError};
use super::{Kind, Request};
use crate::policy::Policy;
use crate::product::Products;
use crate::yaml::{self, Source};

/// Requests a listing keeps rather than reads again (a plan of more spools
/// its results too, `ops::plan::results`).
pub const KEPT_UP_TO: usize = 200;

pub struct Listing {
    /// Per request, in the order of the sources: its source and whether it
    /// is an app (a plan places data first).
    requests: Vec<(u32, bool)>,
    sources: Vec<Listed>,
    /// Where to read each source again (a file, or a path in the state
    /// repo), one after another.
    paths: Vec<u8>,
    /// The one source that cannot be read again (standard input), kept.
    held: Option<(usize, Source)>,
    /// The requests themselves while there are at most the `keep` given to
    /// [`Listing::of`]; None once there are more.
    kept: Option<Vec<Option<Request>>>,
    cli_kind: Option<Kind>,
    admission: Admission,
}

/// A source whose requests are listed.
struct Listed {
    /// Where its path ends in [`Listing::paths`].
    path_end: usize,
    digest: u64,
    /// Its first request's number.
    first: u32,
}

/// A source to list: where it can be read again, and whether it can.
pub struct Read {
    pub path: PathBuf,
    pub source: Source,
    pub again: bool,
}

impl Listing {
    /// Validates every request of `sources`, reporting all their problems
    /// together (after the first that is not YAML at all), then asks
    /// `judge` for each request's problems beyond its own document (its new-
    /// only ones when the state repo does not hold it, a stored request in
    /// the wrong file): an error ends the listing, issues join the others.
    /// Up to `keep` requests are kept; more are read again.
    pub fn of<E: From<RequestError>>(
        sources: impl IntoIterator<Item = Result<Read, E>>,
        cli_kind: Option<Kind>,
        in_force: (&Policy, &Products),
        admission: Admission,
        keep: usize,
        mut judge: impl FnMut(&Request, Vec<Issue>) -> Result<Vec<Issue>, E>,
    ) -> Result<Self, E> {
        let mut listing = Listing {
            requests: Vec::new(),
            sources: Vec::new(),
            paths: Vec::new(),
            held: None,
            kept: Some(Vec::new()),
            cli_kind,
            admission,
        };
        // (kind, namespace, name) -> where it was first given, to find duplicates.
        let mut seen: HashMap<(Kind, String, String), String> = HashMap::new();
        let mut issues = Vec::new();
        for read in sources {
            let Read { path, source, again } = read?;
            let number = listing.sources.len() as u32;
            let first = listing.requests.len() as u32;
            for document in documents(&source, cli_kind, in_force, admission)? {
                match document {
                    Ok((document, request, new_only)) => {
                        match seen.entry((request.kind, request.namespace.clone(), request.name.clone())) {
                            Entry::Occupied(first) => {
                                issues.push(validate::duplicate(&source, &document, &request, first.get()));
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(request.origin.clone());
                                issues.extend(judge(&request, new_only)?);
                                listing.requests.push((number, request.kind.is_app()));
                                match &mut listing.kept {
                                    Some(kept) if kept.len() < keep => kept.push(Some(request)),
                                    _ => listing.kept = None,
                                }
                            }
                        }
                    }
                    Err(found) => issues.extend(found),
                }
            }
            let digest = digest(&source);
            listing.paths.extend_from_slice(path.as_os_str().as_bytes());
            listing.sources.push(Listed { path_end: listing.paths.len(), digest, first });
            if !again {
                listing.held = Some((number as usize, source));
            }
        }
        if issues.is_empty() { Ok(listing) } else { Err(RequestError::Invalid { issues }.into()) }
    }

    /// The requests, in the order of their sources, when every one was
    /// kept and none has been read yet.
    pub fn into_kept(self) -> Option<Vec<Request>> {
        self.kept?.into_iter().collect()
    }

    /// How many requests.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    pub fn any_app(&self) -> bool {
        self.requests.iter().any(|&(_, app)| app)
    }

    /// The sources holding apps (or data, when `apps` is false), by number.
    pub fn sources_with(&self, apps: bool) -> impl Iterator<Item = usize> + '_ {
        let mut last = None;
        self.requests
            .iter()
            .filter(move |&&(source, app)| app == apps && last.replace(source) != Some(source))
            .map(|&(source, _)| source as usize)
    }

    /// The apps (or data, when `apps` is false) of source `number`, with
    /// their numbers: the kept ones, or read again with `read` (unless
    /// held) and validated again. A source whose bytes changed since it
    /// was listed is refused.
    pub fn read<E: From<RequestError>>(
        &mut self,
        number: usize,
        apps: bool,
        in_force: (&Policy, &Products),
        read: impl FnOnce(&std::path::Path) -> Result<Source, E>,
    ) -> Result<Vec<(usize, Request)>, E> {
        let listed = &self.sources[number];
        let end = self.sources.get(number + 1).map_or(self.requests.len(), |next| next.first as usize);
        if let Some(kept) = &mut self.kept {
            let of_source = (listed.first as usize..end).filter(|&i| self.requests[i].1 == apps);
            return Ok(of_source.filter_map(|i| Some((i, kept[i].take()?))).collect());
        }
        let again;
        let source = match &self.held {
            Some((held, source)) if *held == number => source,
            _ => {
                let start = number.checked_sub(1).map_or(0, |before| self.sources[before].path_end);
                again = read(Path::new(OsStr::from_bytes(&self.paths[start..listed.path_end])))?;
                &again
            }
        };
        let changed = || RequestError::Changed { path: source.name.clone() };
        if digest(source) != listed.digest {
            return Err(changed().into());
        }
        let mut requests = Vec::new();
        let validated = documents(source, self.cli_kind, in_force, self.admission)?;
        if validated.len() != end - listed.first as usize {
            return Err(changed().into());
        }
        for (i, document) in validated.into_iter().enumerate() {
            let (_, request, _) = document.map_err(|_| changed())?;
            if request.kind.is_app() == apps {
                requests.push((listed.first as usize + i, request));
            }
        }
        Ok(requests)
    }
}

type Validated = Result<(yaml::Node, Request, Vec<Issue>), Vec<Issue>>;

/// Each document of a source validated, in order.
pub(super) fn documents(
    source: &Source,
    cli_kind: Option<Kind>,
    in_force: (&Policy, &Products),
    admission: Admission,
) -> Result<Vec<Validated>, RequestError> {
    let documents = yaml::parse_documents(source)?;
    let many = documents.len() > 1;
    Ok(documents
        .into_iter()
        .enumerate()
        .map(|(index, document)| {
            let origin = if many { format!("{}#{}", source.name, index + 1) } else { source.name.clone() };
            match validate::document(source, &document, cli_kind, in_force, origin, admission) {
                Ok((request, new_only)) => Ok((document, request, new_only)),
                Err(mut found) => {
                    found.sort_by_key(Issue::offset);
                    Err(found)
                }
            }
        })
        .collect())
}

fn digest(source: &Source) -> u64 {
    let mut hasher = DefaultHasher::new();
    source.text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LoadedPolicy;

    const DB: &str = "apiVersion: idp.platform.example.org/v1alpha1\nkind: MySQL\nmetadata:\n  name: orders-db\n  namespace: team-a\nspec:\n  cell: cell-eu\n  tier: medium\n  environment: dev\n  size: small\n  storageGB: 20\n";
    const APP: &str = "apiVersion: idp.platform.example.org/v1alpha1\nkind: App\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  cell: cell-eu\n  tier: C2\n  environment: dev\n  image: registry.example.org/web:1.0.0\n";

    fn listed(dir: &std::path::Path, files: &[(&str, String)]) -> Result<Listing, RequestError> {
        let policy = LoadedPolicy::embedded().policy;
        let reads = files.iter().map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            Ok(Read { path: path.clone(), source: Source::read(&path)?, again: true })
        });
        // Nothing kept: every read is a second pass.
        Listing::of(reads, None, (&policy, Products::embedded()), Admission::Submitted, 0, |_, _| Ok(Vec::new()))
    }

    /// Each source is read again for the requests it holds of each role,
    /// numbered in the order of the sources: data first is the plan's to
    /// choose, the numbers stay those of the files.
    #[test]
    fn sources_are_read_again_by_role_with_the_numbers_of_the_first_pass() {
        let dir = tempfile::tempdir().unwrap();
        let mut listing = listed(
            dir.path(),
            &[
                ("a.yaml", format!("{APP}---\n{DB}")),
                ("b.yaml", DB.replace("orders-db", "b-db")),
                ("c.yaml", APP.replace("name: web", "name: c")),
            ],
        )
        .unwrap();
        assert_eq!((listing.len(), listing.any_app()), (4, true));
        assert_eq!(listing.sources_with(false).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(listing.sources_with(true).collect::<Vec<_>>(), [0, 2]);
        let policy = LoadedPolicy::embedded().policy;
        let in_force = (&policy, Products::embedded());
        let mut names = |source, apps| -> Vec<(usize, String)> {
            listing.read(source, apps, in_force, read_again).unwrap().into_iter().map(|(i, r)| (i, r.name)).collect()
        };
        assert_eq!(names(0, false), [(1, "orders-db".to_owned())]);
        assert_eq!(names(0, true), [(0, "web".to_owned())]);
        assert_eq!(names(1, false), [(2, "b-db".to_owned())]);
        assert_eq!(names(2, true), [(3, "c".to_owned())]);
        assert_eq!(names(2, false), []);
    }

    /// A file whose bytes change between the two passes is refused, even
    /// when it still holds valid requests: the duplicate and name checks
    /// were made on what it held before.
    #[test]
    fn a_source_changed_between_the_passes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut listing = listed(dir.path(), &[("a.yaml", DB.to_owned())]).unwrap();
        let policy = LoadedPolicy::embedded().policy;
        let in_force = (&policy, Products::embedded());
        assert_eq!(listing.read(0, false, in_force, read_again).unwrap().len(), 1);
        std::fs::write(dir.path().join("a.yaml"), DB.replace("orders-db", "other-db")).unwrap();
        let error = listing.read(0, false, in_force, read_again).unwrap_err();
        assert!(matches!(&error, RequestError::Changed { path } if path.ends_with("a.yaml")), "{error:?}");
        std::fs::write(dir.path().join("a.yaml"), format!("{DB}---\n{APP}")).unwrap();
        assert!(matches!(listing.read(0, false, in_force, read_again), Err(RequestError::Changed { .. })));
    }

    /// A request given twice is found in the first pass, where it is
    /// reported against its second document, naming the first.
    #[test]
    fn a_request_given_twice_is_refused_in_the_first_pass() {
        let dir = tempfile::tempdir().unwrap();
        let Err(RequestError::Invalid { issues }) =
            listed(dir.path(), &[("a.yaml", DB.to_owned()), ("b.yaml", DB.to_owned())])
        else {
            panic!("a duplicate is refused")
        };
        let message = issues[0].to_string();
        assert!(message.contains("requested twice") && message.contains("a.yaml"), "{message}");
    }

    /// A listing of few requests keeps them: they are handed out once
    /// each, by role, and the file is not read again.
    #[test]
    fn a_small_listing_keeps_its_requests() {
        let dir = tempfile::tempdir().unwrap();
        let policy = LoadedPolicy::embedded().policy;
        let in_force = (&policy, Products::embedded());
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, format!("{DB}---\n{APP}")).unwrap();
        let read = Read { path: path.clone(), source: Source::read(&path).unwrap(), again: true };
        let mut listing =
            Listing::of([Ok::<_, RequestError>(read)], None, in_force, Admission::Submitted, KEPT_UP_TO, |_, _| {
                Ok(Vec::new())
            })
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let unread =
            |_: &std::path::Path| -> Result<Source, RequestError> { panic!("a kept request is not read again") };
        let apps = listing.read(0, true, in_force, unread).unwrap();
        assert_eq!(apps.iter().map(|(i, r)| (*i, r.name.as_str())).collect::<Vec<_>>(), [(1, "web")]);
        let data = listing.read(0, false, in_force, unread).unwrap();
        assert_eq!(data.iter().map(|(i, r)| (*i, r.name.as_str())).collect::<Vec<_>>(), [(0, "orders-db")]);
    }

    fn read_again(path: &std::path::Path) -> Result<Source, RequestError> {
        Ok(Source::read(path)?)
    }
}
