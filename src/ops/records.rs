//! Reading idp's own records back from the state repo at the context's base
//! commit: placement records, cell member files, cell states and stored
//! requests. One policy for all of them: a record that is missing is None,
//! and a record that cannot be read (not UTF-8, not its shape) is an error
//! naming the file, because idp never acts on (or counts) a record it cannot
//! read. `verify` turns the same errors into findings.

use serde::de::DeserializeOwned;

use super::{Context, Error};
use crate::cell::{CellState, Member};
use crate::layout;
use crate::product::Products;
use crate::record::{DataClaims, DataLink, PlacementRecord};
use crate::request::{self, Kind, Request};
use crate::schedule::Reason;
use crate::yaml::Source;

/// Parses a record's bytes, its kinds resolved against the products in
/// force; the error names the file.
pub fn parse_record<T: DeserializeOwned>(path: &str, bytes: &[u8], products: &Products) -> Result<T, Error> {
    let corrupt = |message: String| Error::CorruptRecord { path: path.into(), message };
    let text = std::str::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))?;
    request::resolving(products, || serde_saphyr::from_str(text)).map_err(|e| corrupt(e.to_string()))
}

/// Parses a stored request (exactly one document, in either form).
pub fn parse_stored_request(path: &str, bytes: Vec<u8>, context: &Context) -> Result<Request, Error> {
    parse_stored_request_as(path, bytes, context, request::Admission::Stored)
}

/// A stored request held to `admission`: `Submitted` asks whether the
/// policy in force would admit it today.
pub fn parse_stored_request_as(
    path: &str,
    bytes: Vec<u8>,
    context: &Context,
    admission: request::Admission,
) -> Result<Request, Error> {
    let source = Source::from_bytes(path.to_owned(), bytes).map_err(request::RequestError::from)?;
    let mut requests = request::parse_sources(&[source], None, &context.policy.policy, &context.products, admission)?;
    match requests.len() {
        1 => Ok(requests.remove(0)),
        _ => Err(Error::CorruptRecord {
            path: path.into(),
            message: "a stored request holds exactly one document".into(),
        }),
    }
}

impl Context {
    fn record<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, Error> {
        self.read(path)?.map(|bytes| parse_record(path, &bytes, &self.products)).transpose()
    }

    /// The placement record of a request.
    /// What a request's files need from the records of the databases they
    /// name ([`DataClaims`]): a database's own record's (`own`); for an app,
    /// the claim generation of each database it uses (`reason`: its placement's).
    pub fn data_claims(
        &self,
        request: &Request,
        reason: &Reason,
        own: Option<&PlacementRecord>,
    ) -> Result<DataClaims, Error> {
        if request.kind.is_data() {
            return Ok(own.map_or(DataClaims::NONE, DataClaims::of_database));
        }
        let mut claims = DataClaims::NONE;
        for (namespace, name) in DataLink::of(request, reason).databases() {
            if let Some(record) = self.data_placement(namespace, name)? {
                claims.insert(&record);
            }
        }
        Ok(claims)
    }

    /// The app product: there is one ([`crate::product::APP_PRODUCT`]).
    pub fn app_kind(&self) -> Kind {
        Kind::named(&self.products, crate::product::APP_PRODUCT).expect("the app product is always in force")
    }

    /// The product of the data request `namespace/name`, if it is placed.
    pub fn data_kind(&self, namespace: &str, name: &str) -> Option<Kind> {
        self.data_placement(namespace, name).ok().flatten().map(|r| r.request_kind)
    }

    /// The apps that use the data request `namespace/name` (named in
    /// `spec.database` or `spec.dependsOn`, or followed before apps named
    /// their data), with their requests and records. Reads every app's
    /// record: `migrate` and `delete` of a data request only.
    pub fn apps_using(&self, namespace: &str, name: &str) -> Result<Vec<(Request, PlacementRecord)>, Error> {
        let mut apps = Vec::new();
        for app in self.placements_in(None)?.into_iter().filter(|r| r.request_kind.is_app()) {
            let (app_namespace, app_name) = (&app.metadata.namespace, &app.metadata.name);
            let Some(request) = self.stored_request(app.request_kind, app_namespace, app_name)? else { continue };
            if DataLink::of(&request, &app.reason).databases().contains(&(namespace, name)) {
                apps.push((request, app));
            }
        }
        Ok(apps)
    }

    /// The data products in force.
    pub fn data_kinds(&self) -> Vec<Kind> {
        Kind::all(&self.products).into_iter().filter(Kind::is_data).collect()
    }

    /// The placement record of the data request `namespace/name`, whatever
    /// its product: a name is one data request's in its namespace
    /// (`layout::name_twins`). One lookup by path per data product.
    pub fn data_placement(&self, namespace: &str, name: &str) -> Result<Option<PlacementRecord>, Error> {
        for kind in self.data_kinds() {
            if let Some(record) = self.placement(kind, namespace, name)? {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    pub fn placement(&self, kind: Kind, namespace: &str, name: &str) -> Result<Option<PlacementRecord>, Error> {
        self.record(&layout::placement_path(kind, namespace, name))
    }

    /// Every placement record under `placements/`, or under one namespace's
    /// folder, in path order (namespace, then kind and name).
    pub fn placements_in(&self, namespace: Option<&str>) -> Result<Vec<PlacementRecord>, Error> {
        let dir = match namespace {
            Some(namespace) => layout::placements_dir(namespace),
            None => layout::PLACEMENTS_DIR.to_owned(),
        };
        let mut records = Vec::new();
        for path in self.list(&dir)? {
            records.extend(self.record::<PlacementRecord>(&path)?);
        }
        Ok(records)
    }

    /// The cell member file a placement made (it holds the recorded cost).
    pub fn member_of(&self, record: &PlacementRecord) -> Result<Option<Member>, Error> {
        self.record(&layout::member_path(
            &record.cell,
            &record.environment,
            record.request_kind,
            &record.metadata.namespace,
            &record.metadata.name,
        ))
    }

    /// The request as stored under `requests/`.
    pub fn stored_request(&self, kind: Kind, namespace: &str, name: &str) -> Result<Option<Request>, Error> {
        let path = layout::request_path(kind, namespace, name);
        self.read(&path)?.map(|bytes| parse_stored_request(&path, bytes, self)).transpose()
    }

    /// Every request stored under `requests/`, in path order: what
    /// `apply --all` re-plans, listed ([`request::Listing`]; each file is
    /// read again from the base commit as it is planned, with
    /// [`Context::stored_source`]). All their problems are reported at once,
    /// each against its stored file; a file holding several documents, or a
    /// request that belongs in another file, is a corrupt record.
    pub fn stored_requests(&self) -> Result<request::Listing, Error> {
        let mut paths = self.list(layout::REQUESTS_DIR)?;
        paths.sort();
        let sources = paths.into_iter().filter_map(|path| {
            let source = self.stored_file(&path).transpose()?;
            Some(source.map(|source| request::Read { path: path.into(), source, again: true }))
        });
        // A re-render of what is placed, not a submission: admission rules
        // added since do not refuse it (policy diff and verify name those).
        let in_force = (&self.policy.policy, &self.products);
        request::Listing::of(sources, None, in_force, request::Admission::Stored, request::KEPT_UP_TO, |request, _| {
            let path = layout::request_path(request.kind, &request.namespace, &request.name);
            if request.origin != path {
                let (file, _) = request.origin.split_once('#').unwrap_or((&request.origin, ""));
                let message = if request.origin.contains('#') {
                    "a stored request holds exactly one document".to_owned()
                } else {
                    format!("holds {} {}, which belongs in {path}", request.kind, request.id())
                };
                return Err(Error::CorruptRecord { path: file.to_owned(), message });
            }
            Ok(Vec::new())
        })
    }

    /// A file under `requests/` at the base commit, as a source to validate.
    pub fn stored_source(&self, path: &std::path::Path) -> Result<Source, Error> {
        let path = path.to_string_lossy();
        self.stored_file(&path)?.ok_or_else(|| Error::CorruptRecord {
            path: path.into_owned(),
            message: "is listed at the base commit but cannot be read there".into(),
        })
    }

    /// The file at `path` in the base commit as a source, if it is there.
    fn stored_file(&self, path: &str) -> Result<Option<Source>, Error> {
        let Some(bytes) = self.read(path)? else { return Ok(None) };
        Ok(Some(Source::from_bytes(path.to_owned(), bytes).map_err(request::RequestError::from)?))
    }

    /// Whether a request's file under `platform/` exists, under its name or the
    /// one an older idp gave it (`layout::legacy_platform_path`).
    pub fn platform_file_exists(&self, path: &str, at: layout::CellOf<'_>) -> Result<bool, Error> {
        if self.read(path)?.is_some() {
            return Ok(true);
        }
        match layout::legacy_platform_path(path, at) {
            Some(legacy) => Ok(self.read(&legacy)?.is_some()),
            None => Ok(false),
        }
    }

    /// The cell's state file; a cell that never failed over has none and is
    /// active on its primary side.
    pub fn cell_state(&self, cell: &str, environment: &str) -> Result<CellState, Error> {
        Ok(self
            .record(&layout::cell_state_path(cell, environment))?
            .unwrap_or_else(|| CellState::new(cell, environment)))
    }

    /// Every member of a cell in one environment, sorted by path. Failover
    /// and status read them all; planning reads one namespace's folder.
    pub fn cell_members(&self, cell: &str, environment: &str) -> Result<Vec<Member>, Error> {
        self.members_under(&layout::members_dir(cell, environment))
    }

    /// The members of one namespace in a cell's environment.
    pub fn namespace_members(&self, cell: &str, environment: &str, namespace: &str) -> Result<Vec<Member>, Error> {
        self.members_under(&layout::namespace_members_dir(cell, environment, namespace))
    }

    /// Every member of a cell, in all its environments.
    pub fn members_of_cell(&self, cell: &str) -> Result<Vec<Member>, Error> {
        self.members_under(&layout::cell_dir(cell))
    }

    /// Every member of a namespace, in any cell, found through its placement
    /// records (a namespace's requests may live in several cells).
    pub fn members_of_namespace(&self, namespace: &str) -> Result<Vec<Member>, Error> {
        let mut members = Vec::new();
        for path in self.list(&layout::placements_dir(namespace))? {
            let Some(record) = self.record::<PlacementRecord>(&path)? else { continue };
            let member_path = layout::member_path(
                &record.cell,
                &record.environment,
                record.request_kind,
                namespace,
                &record.metadata.name,
            );
            members.extend(self.record::<Member>(&member_path)?);
        }
        Ok(members)
    }

    /// The member files anywhere under `dir`.
    fn members_under(&self, dir: &str) -> Result<Vec<Member>, Error> {
        let mut members = Vec::new();
        for path in self.list(dir)?.into_iter().filter(|p| layout::is_member_path(p)) {
            members.extend(self.record::<Member>(&path)?);
        }
        Ok(members)
    }
}
