//! Request parsing and validation: any bytes, in either form, give requests
//! or located errors, never a panic; and every accepted request holds only
//! values that are safe in a path, a label and a YAML scalar.
#![no_main]

use idp::policy::LoadedPolicy;
use idp::request::{self, Kind};
use idp::yaml::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the kind named on the command line (flat form).
    let Some((&selector, bytes)) = data.split_first() else { return };
    let cli_kind = match selector % 3 {
        0 => None,
        1 => Some(Kind::MySql),
        _ => Some(Kind::App),
    };
    let Ok(source) = Source::from_bytes("fuzz.yaml".into(), bytes.to_vec()) else { return };
    let policy = LoadedPolicy::embedded().policy;
    match request::parse_sources(&[source], cli_kind, &policy, request::Admission::Submitted) {
        Ok(requests) => {
            for r in &requests {
                assert!(idp::names::is_dns_label(&r.name), "accepted name {:?}", r.name);
                assert!(idp::names::is_dns_label(&r.namespace), "accepted namespace {:?}", r.namespace);
                assert!(policy.cells.contains_key(&r.cell) && policy.tiers.contains_key(&r.tier));
                // The normalized form written under requests/ reads back as the same request.
                let text = idp::ops::plan::request_yaml(r);
                let again = request::parse_sources(
                    &[Source::new("again.yaml", text)],
                    None,
                    &policy,
                    request::Admission::Submitted,
                )
                .expect("a normalized request validates again");
                assert_eq!(again.len(), 1);
                assert_eq!((&again[0].name, &again[0].namespace, &again[0].spec), (&r.name, &r.namespace, &r.spec));
            }
        }
        Err(error) => {
            // Every message is located and printable; rendering the report must not panic.
            for message in error.messages() {
                assert!(message.starts_with("fuzz.yaml"), "unlocated: {message}");
            }
            // The graphical report slices the source at every label's span.
            let mut out = String::new();
            let _ = miette::GraphicalReportHandler::new().render_report(&mut out, &error);
        }
    }
});
