//! Policy parsing and validation: any bytes give a policy or located errors,
//! never a panic; and a policy that validates can place every tier in every
//! cell (or say why not) without panicking.
#![no_main]

use idp::policy::{self, PolicyOrigin};
use idp::schedule::{Demand, PolicyRef, schedule};
use idp::yaml::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = Source::from_bytes("policy.yaml".into(), data.to_vec()) else { return };
    match policy::load(source, PolicyOrigin::File("policy.yaml".into())) {
        Ok(loaded) => {
            let p = &loaded.policy;
            let pref = PolicyRef { version: p.version.clone(), digest: loaded.digest.clone() };
            for cell in p.cells.keys() {
                for tier in p.tiers.keys() {
                    for ha in [false, true] {
                        let demand = Demand { cell, tier, ha, dr_profile: None };
                        if let Ok(decision) = schedule(p, &pref, &demand) {
                            let total = decision.reason.selected.total_score;
                            assert!((0.0..=1.0).contains(&total), "total {total} outside 0..=1");
                        }
                    }
                }
            }
        }
        Err(error) => {
            let mut out = String::new();
            let _ = miette::GraphicalReportHandler::new().render_report(&mut out, &error);
        }
    }
});
