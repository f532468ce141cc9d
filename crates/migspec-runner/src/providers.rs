//! The providers of a run, by the kinds they serve.

use std::collections::BTreeMap;
use std::sync::Arc;

use migspec_provider::{Description, Provider};

use crate::limits::{GatedProvider, RunnerGate};

/// The providers of a run (built-in and plugins), looked up by kind.
#[derive(Clone, Default)]
pub struct Providers {
    list: Vec<(Description, Arc<dyn Provider>)>,
    by_kind: BTreeMap<String, usize>,
    /// The call gate every registered provider's API calls go through.
    gate: Arc<RunnerGate>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_map()
            .entries(
                self.by_kind
                    .iter()
                    .map(|(kind, index)| (kind, &self.list[*index].0.name)),
            )
            .finish()
    }
}

/// Two providers claim the same kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "kind `{kind}` is served by both `{first}` and `{second}`; remove one of them from migspec.yaml"
)]
pub struct KindClash {
    /// The kind.
    pub kind: String,
    /// The provider registered first.
    pub first: String,
    /// The provider registered second.
    pub second: String,
}

impl Providers {
    /// No providers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider for every kind it describes.
    ///
    /// # Errors
    ///
    /// When one of its kinds is already served.
    pub fn register(&mut self, provider: Arc<dyn Provider>) -> Result<(), KindClash> {
        let description = provider.describe();
        for kind in &description.kinds {
            if let Some(index) = self.by_kind.get(&kind.kind) {
                return Err(KindClash {
                    kind: kind.kind.clone(),
                    first: self.list[*index].0.name.clone(),
                    second: description.name.clone(),
                });
            }
        }
        // Rate limits for every provider, plugins included, from what it declares. A
        // provider that does not admit its own requests is admitted call by call here.
        self.gate
            .declare(&description.name, &description.rate_limits);
        let provider: Arc<dyn Provider> = if provider.attach_gate(self.gate.clone()) {
            provider
        } else {
            Arc::new(GatedProvider::new(
                provider,
                self.gate.clone(),
                &description,
            ))
        };
        let index = self.list.len();
        for kind in &description.kinds {
            self.by_kind.insert(kind.kind.clone(), index);
        }
        self.list.push((description, provider));
        Ok(())
    }

    /// The provider of a kind, with its index (stable for the run).
    #[must_use]
    pub fn for_kind(&self, kind: &str) -> Option<(usize, &Arc<dyn Provider>)> {
        self.by_kind
            .get(kind)
            .map(|index| (*index, &self.list[*index].1))
    }

    /// A provider by index.
    #[must_use]
    pub fn get(&self, index: usize) -> &Arc<dyn Provider> {
        &self.list[index].1
    }

    /// The description of a provider by index.
    #[must_use]
    pub fn description(&self, index: usize) -> &Description {
        &self.list[index].0
    }

    /// Every kind served, sorted.
    #[must_use]
    pub fn kinds(&self) -> Vec<&str> {
        self.by_kind.keys().map(String::as_str).collect()
    }

    /// The call gate of these providers (its counts, for reports and tests).
    #[must_use]
    pub fn gate(&self) -> &Arc<RunnerGate> {
        &self.gate
    }

    /// How many providers there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
