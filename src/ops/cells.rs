//! Reading cells from the state repo at the context's base commit.

use super::{Context, Error};
use crate::cell::{self, CellState, Member};

/// Every member of a cell, sorted by path. Failover and status read them
/// all; planning reads one namespace's folder.
pub fn members(ctx: &Context, cell: &str, environment: &str) -> Result<Vec<Member>, Error> {
    members_in(ctx, cell, environment, None)
}

/// The members of a cell, or only those of one namespace.
pub fn members_in(ctx: &Context, cell: &str, environment: &str, namespace: Option<&str>) -> Result<Vec<Member>, Error> {
    let (Some(state), Some(base)) = (&ctx.state, ctx.base) else { return Ok(Vec::new()) };
    let mut dir = cell::members_dir(cell, environment);
    if let Some(namespace) = namespace {
        dir = format!("{dir}/{namespace}");
    }
    let mut members = Vec::new();
    for path in state.list_dir(base, &dir)? {
        let bytes = state.read_at(base, &path)?.unwrap_or_default();
        let member = Member::parse(&String::from_utf8_lossy(&bytes))
            .map_err(|e| Error::CorruptRecord { path: path.clone(), message: e.to_string() })?;
        members.push(member);
    }
    Ok(members)
}

/// The cell's state file; a cell that never failed over has none and is
/// active on its primary side.
pub fn state(ctx: &Context, cell: &str, environment: &str) -> Result<CellState, Error> {
    let path = CellState::path(cell, environment);
    match ctx.read(&path)? {
        Some(bytes) => CellState::parse(&String::from_utf8_lossy(&bytes))
            .map_err(|e| Error::CorruptRecord { path, message: e.to_string() }),
        None => Ok(CellState::new(cell, environment)),
    }
}
