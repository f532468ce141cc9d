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
    /// The interval before the next poll: starts at the first delay and grows by half after
    /// every poll up to `cap` (a wait that takes long is polled less and less often).
    every: Duration,
    cap: Duration,
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
    /// it, the first one after `first_after`, then at intervals growing by half from
    /// `first_after` up to `cap`. Dropping the receiver ends the watch.
    pub(crate) fn watch(
        &self,
        target: InFlightTarget,
        first_after: Duration,
        cap: Duration,
    ) -> mpsc::UnboundedReceiver<Update> {
        let (updates, receiver) = mpsc::unbounded_channel();
        // The task only ends once every handle is gone, and `self` is one.
        let _ = self.watches.send(Watch {
            target,
            updates,
            every: first_after.max(Duration::from_millis(1)),
            cap: cap.max(first_after),
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
        let update = match &answer {
            Ok(observed) => observed
                .iter()
                .find(|observation| observation.address() == &watch.target.object.address)
                .cloned()
                .map(Ok),
            Err(error) => Some(Err(error.clone())),
        };
        // A provider may leave out of a round what its calls per round could not reach
        // (OMS lists 100 groups a call): no news, so the watch stays due for the next
        // round at the same interval instead of backing off.
        let Some(update) = update else {
            watch.due = after + watch.every;
            continue;
        };
        watch.every = (watch.every * 3 / 2).min(watch.cap);
        watch.due = after + watch.every;
        let _ = watch.updates.send(update);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use migspec_provider::testing::FakeProvider;
    use migspec_provider::{Address, InFlight, RemoteId};

    /// A fake provider that records when it is polled; its first `leave_out` polls leave
    /// every target out (no news), later ones answer each target missing.
    fn clocked(leave_out: usize) -> (Arc<FakeProvider>, Arc<Mutex<Vec<Instant>>>) {
        let polls = Arc::new(Mutex::new(Vec::new()));
        let provider = Arc::new(FakeProvider::new("clocked", &["K"]));
        let recorded = Arc::clone(&polls);
        provider.serve_poll(move |in_flight| {
            let round = {
                let mut polls = recorded.lock().unwrap();
                polls.push(Instant::now());
                polls.len()
            };
            if round <= leave_out {
                return Ok(Vec::new());
            }
            Ok(in_flight
                .iter()
                .map(|target| Observed::Missing {
                    address: target.object.address.clone(),
                })
                .collect())
        });
        (provider, polls)
    }

    /// The one in-flight object both tests watch.
    fn target() -> InFlightTarget {
        InFlightTarget {
            object: InFlight {
                address: Address("a".to_owned()),
                remote_id: RemoteId("id".to_owned()),
            },
            kind: "K".to_owned(),
            location: serde_json::Value::Null,
        }
    }

    fn offsets(polls: &Mutex<Vec<Instant>>, started: Instant) -> Vec<u128> {
        polls
            .lock()
            .unwrap()
            .iter()
            .map(|at| at.duration_since(started).as_millis())
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_poll_comes_after_the_expected_duration_then_polls_back_off_to_the_cap() {
        let (provider, polls) = clocked(0);
        let poller = Poller::spawn(provider);
        let started = Instant::now();
        let mut updates =
            poller.watch(target(), Duration::from_millis(500), Duration::from_secs(2));
        for _ in 0..6 {
            updates
                .recv()
                .await
                .expect("an update")
                .expect("an observation");
        }
        let offsets = offsets(&polls, started);
        // 500 ms, then +750, +1125, +1687.5, then the 2 s cap (the timer rounds the half
        // millisecond up).
        assert_eq!(offsets, vec![500, 1250, 2375, 4063, 6063, 8063]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_target_left_out_of_a_round_gets_no_update_and_is_polled_again_at_the_same_interval()
    {
        let (provider, polls) = clocked(2);
        let poller = Poller::spawn(provider);
        let started = Instant::now();
        let mut updates =
            poller.watch(target(), Duration::from_millis(500), Duration::from_secs(2));
        // The first update is the third poll's observation, not an error for the rounds
        // that left the target out.
        let first = updates.recv().await.expect("an update");
        assert!(matches!(first, Ok(Observed::Missing { .. })), "{first:?}");
        let offsets = offsets(&polls, started);
        // No back-off while there is no news: 500 ms apart.
        assert_eq!(offsets, vec![500, 1000, 1500]);
    }
}
