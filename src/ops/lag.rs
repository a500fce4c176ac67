//! Replication lag for a failover: the operator's reading, or an instant
//! query against a Prometheus-compatible HTTP API.

use std::time::Duration;

use serde::Deserialize;

use super::Error;
use crate::secrets::{redact_url, redact_urls_in};

/// Where the observed lag comes from.
#[derive(Debug, Clone)]
pub enum LagSource {
    /// `--replication-lag SECONDS`: the operator read it somewhere.
    Reading(f64),
    /// `--lag-url URL`: `GET URL/api/v1/query?query=...`.
    Prometheus { url: String, query: String },
    /// Neither: only `--force` proceeds.
    Unknown,
}

impl LagSource {
    /// The lag in seconds, and where it came from (for the record).
    pub fn observe(&self) -> Result<Option<(f64, String)>, Error> {
        match self {
            LagSource::Reading(seconds) => Ok(Some((*seconds, "operator reading".into()))),
            // Recorded in the cell's file: never with the URL's password.
            LagSource::Prometheus { url, query } => {
                Ok(Some((query_prometheus(url, query)?, format!("{} ({query})", redact_url(url)))))
            }
            LagSource::Unknown => Ok(None),
        }
    }
}

#[derive(Deserialize)]
struct Response {
    status: String,
    data: Option<Data>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    result: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    /// The series' labels, to name a sample that cannot be trusted.
    #[serde(default)]
    metric: std::collections::BTreeMap<String, String>,
    /// `[timestamp, "value"]`
    value: (f64, String),
}

/// The worst (largest) lag the query returns; an empty result is an error,
/// since "no data" must never read as "no lag".
fn query_prometheus(url: &str, query: &str) -> Result<f64, Error> {
    let fail =
        |message: String| Error::LagQuery { url: redact_url(url).into(), message: redact_urls_in(&message).into() };
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).tls_config(tls).build().into();
    let endpoint = format!("{}/api/v1/query", url.trim_end_matches('/'));
    let response: Response = agent
        .get(&endpoint)
        .query("query", query)
        .call()
        .map_err(|e| fail(e.to_string()))?
        .body_mut()
        .read_json()
        .map_err(|e| fail(format!("not a Prometheus API response: {e}")))?;
    if response.status != "success" {
        return Err(fail(response.error.unwrap_or(response.status)));
    }
    let samples = response.data.map(|d| d.result).unwrap_or_default();
    let mut worst: Option<f64> = None;
    for sample in &samples {
        // One sample that is not a finite, non-negative number of seconds makes the
        // lag unknown (NaN, unparseable) or unbounded (+Inf): the others, however
        // small, cannot stand in for it.
        let lag = sample.value.1.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let Some(lag) = lag else {
            return Err(fail(format!(
                "sample {:?} of {} is not a lag in seconds, so the lag is unknown or unbounded",
                sample.value.1,
                series(&sample.metric)
            )));
        };
        worst = Some(worst.map_or(lag, |w| w.max(lag)));
    }
    worst.ok_or_else(|| fail("the query returned no samples".into()))
}

/// A series as PromQL writes it: `{cell="payments",side="primary"}`.
fn series(labels: &std::collections::BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(","))
}
