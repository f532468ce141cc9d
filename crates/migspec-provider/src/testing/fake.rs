//! A provider that records every request and answers from scripts (Terraform's
//! `provider_mock.go`): for runner tests that need a provider's answers, not a cloud.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{
    Action, Description, ImportRequest, Imported, InFlightTarget, KindDescription, ObserveRequest,
    Observed, PlanError, PlanRequest, Problem, Provider, ProviderError, ProviderFuture, Step,
    StepOutcome,
};

/// One request the fake received, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Call {
    /// `observe`.
    Observe(ObserveRequest),
    /// `plan`.
    Plan(Box<PlanRequest>),
    /// `apply`.
    Apply(Box<Step>),
    /// `poll`.
    Poll(Vec<InFlightTarget>),
    /// `import`.
    Import(ImportRequest),
}

type Answer<T> = Box<dyn FnMut(&T) -> Option<<T as Scripted>::Out> + Send>;
type Handler<T> = Box<dyn FnMut(&T) -> <T as Scripted>::Out + Send>;

/// A request type and the answer it is scripted with.
pub trait Scripted {
    /// What the provider answers.
    type Out;
}
impl Scripted for ObserveRequest {
    type Out = Result<Vec<Observed>, ProviderError>;
}
impl Scripted for PlanRequest {
    type Out = Result<Vec<Action>, PlanError>;
}
impl Scripted for Step {
    type Out = Result<StepOutcome, ProviderError>;
}
impl Scripted for Vec<InFlightTarget> {
    type Out = Result<Vec<Observed>, ProviderError>;
}

#[derive(Default)]
struct Scripts {
    calls: Vec<Call>,
    observe: VecDeque<Answer<ObserveRequest>>,
    plan: VecDeque<Answer<PlanRequest>>,
    apply: VecDeque<Answer<Step>>,
    poll: VecDeque<Answer<Vec<InFlightTarget>>>,
    /// What answers when no queued script does (a test's model of its cloud); `None`: the
    /// neutral answers.
    serve_observe: Option<Handler<ObserveRequest>>,
    serve_plan: Option<Handler<PlanRequest>>,
    serve_apply: Option<Handler<Step>>,
    serve_poll: Option<Handler<Vec<InFlightTarget>>>,
}

/// The queued script's answer, else the handler's, else `None`.
fn answer_or_serve<T: Scripted>(
    queue: &mut VecDeque<Answer<T>>,
    handler: &mut Option<Handler<T>>,
    request: &T,
) -> Option<T::Out> {
    answer(queue, request).or_else(|| handler.as_mut().map(|serve| serve(request)))
}

/// Answers the first script that answers (a script returning `None` stays queued for the
/// next request; one returning `Some` is used up).
fn answer<T: Scripted>(queue: &mut VecDeque<Answer<T>>, request: &T) -> Option<T::Out> {
    let position = (0..queue.len()).find_map(|index| {
        let script = queue.get_mut(index)?;
        script(request).map(|out| (index, out))
    })?;
    let (index, out) = position;
    queue.remove(index);
    Some(out)
}

/// A scripted provider.
///
/// A request is answered by the first queued script that answers it (`on_*`), else by the
/// handler of its kind (`serve_*`: a test's model of a cloud, answering every request), else
/// neutrally: `observe` and `poll` say every target is missing, `plan` plans nothing,
/// `apply` and `import` are contract errors naming the request (a test that did not expect
/// them fails with that message).
///
/// Scripts and handlers run while the fake holds its lock: they may share state with the
/// test (an `Arc<Mutex<_>>`), but must not call the fake itself.
#[derive(Clone)]
pub struct FakeProvider {
    description: Description,
    scripts: Arc<Mutex<Scripts>>,
}

impl std::fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeProvider")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl FakeProvider {
    /// A fake serving `kinds` (each with a schema that accepts any `spec`).
    #[must_use]
    pub fn new(name: &str, kinds: &[&str]) -> Self {
        Self {
            description: Description {
                name: name.to_owned(),
                version: "0.0.0-fake".to_owned(),
                kinds: kinds
                    .iter()
                    .map(|kind| KindDescription {
                        kind: (*kind).to_owned(),
                        schema: serde_json::json!({"type": "object"}),
                    })
                    .collect(),
                rate_limits: Vec::new(),
            },
            scripts: Arc::default(),
        }
    }

    fn scripts(&self) -> std::sync::MutexGuard<'_, Scripts> {
        // A test that panicked while holding the lock has already failed; its answers are
        // still readable.
        self.scripts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an answer for a matching `observe` (see [`answer`] for the matching rule).
    pub fn on_observe(
        &self,
        script: impl FnMut(&ObserveRequest) -> Option<Result<Vec<Observed>, ProviderError>>
        + Send
        + 'static,
    ) -> &Self {
        self.scripts().observe.push_back(Box::new(script));
        self
    }

    /// Queues an answer for a matching `plan`.
    pub fn on_plan(
        &self,
        script: impl FnMut(&PlanRequest) -> Option<Result<Vec<Action>, PlanError>> + Send + 'static,
    ) -> &Self {
        self.scripts().plan.push_back(Box::new(script));
        self
    }

    /// Queues an answer for a matching `apply`.
    pub fn on_apply(
        &self,
        script: impl FnMut(&Step) -> Option<Result<StepOutcome, ProviderError>> + Send + 'static,
    ) -> &Self {
        self.scripts().apply.push_back(Box::new(script));
        self
    }

    /// Queues an answer for a matching `poll`.
    pub fn on_poll(
        &self,
        script: impl FnMut(&Vec<InFlightTarget>) -> Option<Result<Vec<Observed>, ProviderError>>
        + Send
        + 'static,
    ) -> &Self {
        self.scripts().poll.push_back(Box::new(script));
        self
    }

    /// Answers every `observe` that no queued script answers (replacing the previous
    /// handler).
    pub fn serve_observe(
        &self,
        handler: impl FnMut(&ObserveRequest) -> Result<Vec<Observed>, ProviderError> + Send + 'static,
    ) -> &Self {
        self.scripts().serve_observe = Some(Box::new(handler));
        self
    }

    /// Answers every `plan` that no queued script answers.
    pub fn serve_plan(
        &self,
        handler: impl FnMut(&PlanRequest) -> Result<Vec<Action>, PlanError> + Send + 'static,
    ) -> &Self {
        self.scripts().serve_plan = Some(Box::new(handler));
        self
    }

    /// Answers every `apply` that no queued script answers.
    pub fn serve_apply(
        &self,
        handler: impl FnMut(&Step) -> Result<StepOutcome, ProviderError> + Send + 'static,
    ) -> &Self {
        self.scripts().serve_apply = Some(Box::new(handler));
        self
    }

    /// Answers every `poll` that no queued script answers.
    pub fn serve_poll(
        &self,
        handler: impl FnMut(&Vec<InFlightTarget>) -> Result<Vec<Observed>, ProviderError>
        + Send
        + 'static,
    ) -> &Self {
        self.scripts().serve_poll = Some(Box::new(handler));
        self
    }

    /// The `observe` requests received so far, in order.
    #[must_use]
    pub fn observe_requests(&self) -> Vec<ObserveRequest> {
        self.scripts()
            .calls
            .iter()
            .filter_map(|call| match call {
                Call::Observe(request) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.scripts().calls.clone()
    }

    /// The steps applied so far, in order.
    #[must_use]
    pub fn steps(&self) -> Vec<Step> {
        self.scripts()
            .calls
            .iter()
            .filter_map(|call| match call {
                Call::Apply(step) => Some((**step).clone()),
                _ => None,
            })
            .collect()
    }
}

fn missing(addresses: impl Iterator<Item = crate::Address>) -> Vec<Observed> {
    addresses
        .map(|address| Observed::Missing { address })
        .collect()
}

impl Provider for FakeProvider {
    fn describe(&self) -> Description {
        self.description.clone()
    }

    fn validate(&self, _kind: &str, _document: &serde_json::Value) -> Vec<Problem> {
        Vec::new()
    }

    fn observe(&self, request: ObserveRequest) -> ProviderFuture<'_, Vec<Observed>> {
        let mut scripts = self.scripts();
        scripts.calls.push(Call::Observe(request.clone()));
        let scripts = &mut *scripts;
        let out = answer_or_serve(&mut scripts.observe, &mut scripts.serve_observe, &request)
            .unwrap_or_else(|| {
                Ok(missing(
                    request.targets.iter().map(|target| target.address.clone()),
                ))
            });
        Box::pin(async move { out })
    }

    fn plan(&self, request: &PlanRequest) -> Result<Vec<Action>, PlanError> {
        let mut scripts = self.scripts();
        scripts.calls.push(Call::Plan(Box::new(request.clone())));
        let scripts = &mut *scripts;
        answer_or_serve(&mut scripts.plan, &mut scripts.serve_plan, request)
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    fn apply(&self, step: Step) -> ProviderFuture<'_, StepOutcome> {
        let mut scripts = self.scripts();
        scripts.calls.push(Call::Apply(Box::new(step.clone())));
        let scripts = &mut *scripts;
        let out = answer_or_serve(&mut scripts.apply, &mut scripts.serve_apply, &step)
            .unwrap_or_else(|| {
                Err(ProviderError::Contract {
                    message: format!(
                        "the fake provider has no script for {} of {}",
                        step.action.kind.verb(),
                        step.address
                    ),
                })
            });
        Box::pin(async move { out })
    }

    fn poll(&self, in_flight: Vec<InFlightTarget>) -> ProviderFuture<'_, Vec<Observed>> {
        let mut scripts = self.scripts();
        scripts.calls.push(Call::Poll(in_flight.clone()));
        let scripts = &mut *scripts;
        let out = answer_or_serve(&mut scripts.poll, &mut scripts.serve_poll, &in_flight)
            .unwrap_or_else(|| {
                Ok(missing(
                    in_flight.iter().map(|target| target.object.address.clone()),
                ))
            });
        Box::pin(async move { out })
    }

    fn import(&self, request: ImportRequest) -> ProviderFuture<'_, Imported> {
        let message = format!(
            "the fake provider does not import ({} as {})",
            request.remote_id.0, request.address
        );
        self.scripts().calls.push(Call::Import(request));
        Box::pin(async move { Err(ProviderError::Contract { message }) })
    }
}

#[cfg(test)]
mod tests {
    use super::FakeProvider;
    use crate::{Address, ObserveRequest, ObserveTarget, Observed, Provider, ProviderError};

    fn request(address: &str) -> ObserveRequest {
        ObserveRequest {
            targets: vec![ObserveTarget {
                address: Address(address.into()),
                kind: "FakeKind".into(),
                revision: None,
                view: None,
                remote_id: None,
                location: serde_json::Value::Null,
            }],
        }
    }

    fn config(message: &str) -> ProviderError {
        ProviderError::Config {
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn a_queued_script_answers_before_the_handler_which_answers_every_other_request() {
        let fake = FakeProvider::new("fake", &["FakeKind"]);
        let missing = fake.observe(request("a")).await;
        assert_eq!(
            missing,
            Ok(vec![Observed::Missing {
                address: Address("a".into())
            }]),
            "without a handler, the neutral answer"
        );
        fake.serve_observe(|_| Err(config("served")));
        fake.on_observe(|request| {
            (request.targets[0].address.0 == "b").then(|| Err(config("scripted")))
        });
        assert_eq!(fake.observe(request("a")).await, Err(config("served")));
        assert_eq!(fake.observe(request("b")).await, Err(config("scripted")));
        assert_eq!(
            fake.observe(request("b")).await,
            Err(config("served")),
            "the script is used up, the handler stays"
        );
        let asked: Vec<_> = fake
            .observe_requests()
            .iter()
            .map(|request| request.targets[0].address.0.clone())
            .collect();
        assert_eq!(asked, ["a", "a", "b", "b"]);
    }
}
