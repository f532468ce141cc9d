//! The emulator's admin endpoints as a [`super::conformance::Subject`] needs them: request
//! counts by action and per-action faults. Plain HTTP on purpose: the provider crate does
//! not depend on the emulator (it is an independent reading of the APIs), only on its
//! documented admin API (`GET /_emulator/stats`, `PUT /_emulator/faults`).

use std::collections::BTreeMap;

use super::conformance::Fault;
use crate::ProviderError;

/// A running emulator's admin API.
#[derive(Debug, Clone)]
pub struct EmulatorAdmin {
    base_url: String,
    client: reqwest::Client,
}

fn admin_error(what: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Contract {
        message: format!("emulator admin API: {what}: {error}"),
    }
}

impl EmulatorAdmin {
    /// The admin API of the emulator at `base_url` (`http://127.0.0.1:PORT`).
    #[must_use]
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client: crate::transport::client_builder(reqwest::Url::parse(base_url).ok().as_ref())
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    /// Requests answered so far, by action name (summed over services and API versions).
    ///
    /// # Errors
    ///
    /// When the emulator cannot be reached or answers something else than its stats.
    pub async fn calls(&self) -> Result<BTreeMap<String, u64>, ProviderError> {
        let stats: serde_json::Value = self
            .client
            .get(format!("{}/_emulator/stats", self.base_url))
            .send()
            .await
            .map_err(|error| admin_error("GET /_emulator/stats", error))?
            .json()
            .await
            .map_err(|error| admin_error("GET /_emulator/stats", error))?;
        let mut calls = BTreeMap::new();
        let services = stats["services"].as_object().into_iter().flatten();
        for (_, service) in services {
            let versions = service["versions"].as_object().into_iter().flatten();
            for (_, actions) in versions {
                for (action, counts) in actions.as_object().into_iter().flatten() {
                    *calls.entry(action.clone()).or_default() +=
                        counts["requests"].as_u64().unwrap_or(0);
                }
            }
        }
        Ok(calls)
    }

    /// Makes every request of `action` meet `fault` until [`Self::clear_faults`].
    ///
    /// # Errors
    ///
    /// When the emulator refuses the fault configuration.
    pub async fn inject(&self, action: &str, fault: &Fault) -> Result<(), ProviderError> {
        let rate = match fault {
            Fault::Throttle => "throttle_rate",
            Fault::Internal => "internal_error_rate",
            Fault::LoseResponse => "drop_response_rate",
        };
        self.put_faults(&serde_json::json!({"actions": {action: {rate: 1.0}}}))
            .await
    }

    /// Removes every injected fault.
    ///
    /// # Errors
    ///
    /// When the emulator cannot be reached.
    pub async fn clear_faults(&self) -> Result<(), ProviderError> {
        self.put_faults(&serde_json::json!({})).await
    }

    async fn put_faults(&self, faults: &serde_json::Value) -> Result<(), ProviderError> {
        let response = self
            .client
            .put(format!("{}/_emulator/faults", self.base_url))
            .json(faults)
            .send()
            .await
            .map_err(|error| admin_error("PUT /_emulator/faults", error))?;
        if response.status().is_success() {
            Ok(())
        } else {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Err(admin_error(
                "PUT /_emulator/faults",
                format!("{status}: {body}"),
            ))
        }
    }
}
