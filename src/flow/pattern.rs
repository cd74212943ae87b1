//! How tasks are composed: linear and unordered flows, nesting, and retry
//! controllers around a subflow.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::failure::Failure;
use super::task::Task;

/// Whether a flow's members run one after another or in any order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// In order; each member sees what earlier members provided.
    Linear,
    /// In any order, possibly in parallel threads; members may not depend on
    /// one another.
    Unordered,
}

/// A task placed in a flow, with its atom name and input rebinding.
#[derive(Clone)]
pub struct TaskNode {
    pub(crate) task: Arc<dyn Task>,
    pub(crate) name: String,
    /// (the task's name for an input, the store symbol it is read from)
    pub(crate) rebind: Vec<(String, String)>,
}

impl TaskNode {
    /// Places `task` under its own name.
    pub fn new(task: impl Task + 'static) -> Self {
        Self::from_arc(Arc::new(task))
    }

    /// Places a shared task under its own name.
    pub fn from_arc(task: Arc<dyn Task>) -> Self {
        let name = task.name().to_string();
        TaskNode {
            task,
            name,
            rebind: Vec::new(),
        }
    }

    /// Gives the atom another name (to use one task twice in a flow).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Reads the task's input `required` from the store symbol `from`
    /// (`size <- raw_size`).
    pub fn rebind(mut self, required: impl Into<String>, from: impl Into<String>) -> Self {
        self.rebind.push((required.into(), from.into()));
        self
    }
}

impl<T: Task + 'static> From<T> for TaskNode {
    fn from(task: T) -> Self {
        TaskNode::new(task)
    }
}

/// Delay between attempts of a retry controller: `initial * factor^(n-1)`,
/// capped at `max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Delay before the second attempt.
    pub initial: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// Upper bound.
    pub max: Duration,
}

impl Backoff {
    /// No delay.
    pub const NONE: Backoff = Backoff {
        initial: Duration::ZERO,
        factor: 1.0,
        max: Duration::ZERO,
    };

    /// Exponential backoff from `initial`, doubling, capped at `max`.
    pub fn exponential(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            factor: 2.0,
            max,
        }
    }

    /// The delay after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.factor.powi(attempt.saturating_sub(1).min(30) as i32);
        self.initial.mul_f64(exp.max(0.0)).min(self.max)
    }
}

/// Decides whether a failure may be retried, given how many attempts have
/// been made so far (1 after the first).
pub type RetryFilter = Arc<dyn Fn(&Failure, u32) -> bool + Send + Sync>;

/// A retry controller: run the subflow up to `attempts` times; between
/// attempts, revert what the failed attempt did and wait.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait between attempts.
    pub backoff: Backoff,
    /// Only failures this accepts are retried (all when `None`).
    pub retry_on: Option<RetryFilter>,
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("filtered", &self.retry_on.is_some())
            .finish()
    }
}

impl RetryPolicy {
    /// `attempts` tries with `backoff` between them, for any failure.
    pub fn times(attempts: u32, backoff: Backoff) -> Self {
        RetryPolicy {
            attempts,
            backoff,
            retry_on: None,
        }
    }

    /// Retry only failures that `filter` accepts.
    pub fn only(self, filter: impl Fn(&Failure) -> bool + Send + Sync + 'static) -> Self {
        self.when(move |f, _| filter(f))
    }

    /// Retry a failure when `decide(failure, attempts made so far)` says
    /// so (still within `attempts` in all): per-kind retry counts.
    pub fn when(mut self, decide: impl Fn(&Failure, u32) -> bool + Send + Sync + 'static) -> Self {
        self.retry_on = Some(Arc::new(decide));
        self
    }

    pub(crate) fn allows(&self, failures: &[Failure], attempts: u32) -> bool {
        match &self.retry_on {
            None => true,
            Some(f) => !failures.is_empty() && failures.iter().all(|x| f(x, attempts)),
        }
    }
}

/// A member of a flow.
#[derive(Clone)]
pub(crate) enum Node {
    Task(TaskNode),
    Flow(Flow),
}

/// A flow: tasks and subflows, linear or unordered, optionally under a retry
/// controller. Its name identifies the definition when a stored flow is
/// resumed, and names the retry controller's atom.
#[derive(Clone)]
pub struct Flow {
    pub(crate) name: String,
    pub(crate) kind: FlowKind,
    pub(crate) members: Vec<Node>,
    pub(crate) retry: Option<RetryPolicy>,
}

impl Flow {
    /// An empty linear flow.
    pub fn linear(name: impl Into<String>) -> Self {
        Self::new(name, FlowKind::Linear)
    }

    /// An empty unordered flow.
    pub fn unordered(name: impl Into<String>) -> Self {
        Self::new(name, FlowKind::Unordered)
    }

    fn new(name: impl Into<String>, kind: FlowKind) -> Self {
        Flow {
            name: name.into(),
            kind,
            members: Vec::new(),
            retry: None,
        }
    }

    /// The flow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends a task (or a [`TaskNode`] with rebinding). Named like
    /// taskflow's `Flow.add`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, task: impl Into<TaskNode>) -> Self {
        self.members.push(Node::Task(task.into()));
        self
    }

    /// Appends a shared task.
    pub fn add_arc(mut self, task: Arc<dyn Task>) -> Self {
        self.members.push(Node::Task(TaskNode::from_arc(task)));
        self
    }

    /// Appends a nested flow.
    pub fn subflow(mut self, flow: Flow) -> Self {
        self.members.push(Node::Flow(flow));
        self
    }

    /// Every atom's name in definition order (a retry controller before its
    /// subflow's atoms).
    pub fn atom_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.retry.is_some() {
            out.push(self.name.clone());
        }
        for m in &self.members {
            match m {
                Node::Task(t) => out.push(t.name.clone()),
                Node::Flow(f) => out.extend(f.atom_names()),
            }
        }
        out
    }

    /// Puts this flow under a retry controller (an atom named like the flow).
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }
}
