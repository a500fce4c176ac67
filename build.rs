//! Links `idp` as a position-dependent executable on Linux.
//!
//! A plan of one request runs for a few milliseconds, and a position-
//! independent `idp` spent a quarter of its page faults (~100 of ~430) and
//! 3% of its time applying ~26,000 relative relocations to `.data.rel.ro`
//! (the vtables and string tables of every crate) before `main`. Linked at
//! a fixed address, those pages are read-only file pages, mapped on first
//! use and shared. Shared libraries, the heap and the stack stay randomised;
//! only the executable's own addresses are fixed, as they are in the
//! Go-built tools idp runs beside (kubectl's release binary, for one).
//! `IDP_PIE=1` builds a PIE (docs/performance.md, section 1).

fn main() {
    println!("cargo::rerun-if-env-changed=IDP_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("IDP_PIE").is_none_or(|pie| pie != "1") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
