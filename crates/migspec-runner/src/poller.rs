//! The shared poller: one task per provider that observes every in-flight object of that
//! provider in one batched `poll` call, however many jobs wait — never one loop per job.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use migspec_provider::{InFlightTarget, Observed, ProviderError};

use std::sync::Arc;

use migspec_provider::Provider;

/// What a watcher receives after each batched poll.
pub(crate) type Update = Result<Observed, ProviderError>;

struct Watch {
    target: InFlightTarget,
    updates: mpsc::UnboundedSender<Update>,
    every: Duration,
    due: Instant,
}

/// A handle to one provider's poller task.
#[derive(Debug, Clone)]
pub(crate) struct Poller {
    watches: mpsc::UnboundedSender<Watch>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Watch")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Poller {
    /// Starts the poller of a provider; it ends when every handle is dropped.
    pub(crate) fn spawn(provider: Arc<dyn Provider>) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(provider, receiver));
        Self { watches: sender }
    }

    /// Watches an object: the receiver gets an observation after every poll that includes
    /// it, the first one after `first_after`, then every `every`. Dropping the receiver
    /// ends the watch.
    pub(crate) fn watch(
        &self,
        target: InFlightTarget,
        first_after: Duration,
        every: Duration,
    ) -> mpsc::UnboundedReceiver<Update> {
        let (updates, receiver) = mpsc::unbounded_channel();
        // The task only ends once every handle is gone, and `self` is one.
        let _ = self.watches.send(Watch {
            target,
            updates,
            every,
            due: Instant::now() + first_after,
        });
        receiver
    }
}

async fn run(provider: Arc<dyn Provider>, mut incoming: mpsc::UnboundedReceiver<Watch>) {
    let mut watches: Vec<Watch> = Vec::new();
    let mut open = true;
    loop {
        watches.retain(|watch| !watch.updates.is_closed());
        if watches.is_empty() {
            if !open {
                return;
            }
            match incoming.recv().await {
                Some(watch) => watches.push(watch),
                None => return,
            }
            continue;
        }
        let next = watches
            .iter()
            .map(|watch| watch.due)
            .min()
            .unwrap_or_else(Instant::now);
        tokio::select! {
            watch = incoming.recv(), if open => match watch {
                Some(watch) => watches.push(watch),
                None => open = false,
            },
            () = tokio::time::sleep_until(next) => {
                poll_due(provider.as_ref(), &mut watches).await;
            }
        }
    }
}

/// Polls every watch that is due, and those due within half their interval (so that jobs
/// started moments apart share their calls), in one batch.
async fn poll_due(provider: &dyn Provider, watches: &mut [Watch]) {
    let now = Instant::now();
    let batch: Vec<usize> = watches
        .iter()
        .enumerate()
        .filter(|(_, watch)| watch.due <= now + watch.every / 2)
        .map(|(index, _)| index)
        .collect();
    let targets: Vec<InFlightTarget> = batch
        .iter()
        .map(|index| watches[*index].target.clone())
        .collect();
    let answer = provider.poll(targets).await;
    let after = Instant::now();
    for index in batch {
        let watch = &mut watches[index];
        watch.due = after + watch.every;
        let update = match &answer {
            Ok(observed) => observed
                .iter()
                .find(|observation| observation.address() == &watch.target.object.address)
                .cloned()
                .ok_or_else(|| ProviderError::Contract {
                    message: format!(
                        "the poll returned no observation for {}",
                        watch.target.object.address
                    ),
                }),
            Err(error) => Err(error.clone()),
        };
        let _ = watch.updates.send(update);
    }
}
