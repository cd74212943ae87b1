//! Checks a flow definition against its initial store and turns it into a
//! plan the engine runs: atoms in a flat table, structure as a tree of
//! indices.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use super::pattern::{Flow, FlowKind, Node, RetryPolicy};
use super::state::AtomKind;
use super::task::Task;

/// Why a flow definition cannot run, every problem listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BuildError {
    /// The flow's name.
    pub flow: String,
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow `{}` cannot run:", self.flow)?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// One atom of a compiled flow.
pub(crate) struct PlanAtom {
    pub name: String,
    pub kind: AtomKind,
    pub task: Option<Arc<dyn Task>>,
    /// (the task's name for the input, the store symbol)
    pub inputs: Vec<(String, String)>,
    pub provides: Vec<String>,
    pub retry: Option<RetryPolicy>,
    /// For a retry controller: every atom inside its subflow.
    pub body: Vec<usize>,
}

/// The structure of a compiled flow.
pub(crate) enum PlanNode {
    Task(usize),
    Linear(Vec<PlanNode>),
    Unordered(Vec<PlanNode>),
    Retry(usize, Box<PlanNode>),
}

/// A checked, runnable flow.
pub(crate) struct Plan {
    pub name: String,
    pub atoms: Vec<PlanAtom>,
    pub root: PlanNode,
    pub index: HashMap<String, usize>,
}

/// Symbol names are borrowed from the definition and the initial store while
/// checking; only what the plan keeps is copied.
struct Compiler<'a> {
    atoms: Vec<PlanAtom>,
    index: HashMap<String, usize>,
    /// symbol -> the atom providing it (`None`: the initial store)
    providers: HashMap<&'a str, Option<usize>>,
    problems: Vec<String>,
}

/// Checks `flow` given the symbols of its initial store.
pub(crate) fn compile<'a>(
    flow: &'a Flow,
    initial: impl IntoIterator<Item = &'a str>,
) -> Result<Plan, BuildError> {
    let mut c = Compiler {
        atoms: Vec::new(),
        index: HashMap::new(),
        providers: HashMap::new(),
        problems: Vec::new(),
    };
    let available: HashSet<&'a str> = initial.into_iter().collect();
    for s in &available {
        c.providers.insert(s, None);
    }
    let mut provided = Vec::new();
    let root = c.flow(flow, &available, &mut provided);
    if c.problems.is_empty() {
        Ok(Plan {
            name: flow.name.clone(),
            atoms: c.atoms,
            root,
            index: c.index,
        })
    } else {
        Err(BuildError {
            flow: flow.name.clone(),
            problems: c.problems,
        })
    }
}

impl<'a> Compiler<'a> {
    fn add_atom(&mut self, atom: PlanAtom) -> usize {
        let i = self.atoms.len();
        if self.index.insert(atom.name.clone(), i).is_some() {
            self.problems
                .push(format!("two atoms are named `{}`", atom.name));
        }
        self.atoms.push(atom);
        i
    }

    /// Compiles a flow; appends the symbols it provides to `provided`.
    fn flow(
        &mut self,
        flow: &'a Flow,
        available: &HashSet<&'a str>,
        provided: &mut Vec<&'a str>,
    ) -> PlanNode {
        let retry_atom = flow.retry.as_ref().map(|policy| {
            if policy.attempts == 0 {
                self.problems
                    .push(format!("retry `{}` allows no attempt", flow.name));
            }
            self.add_atom(PlanAtom {
                name: flow.name.clone(),
                kind: AtomKind::Retry,
                task: None,
                inputs: Vec::new(),
                provides: Vec::new(),
                retry: Some(policy.clone()),
                body: Vec::new(),
            })
        });
        let first_body_atom = self.atoms.len();
        let mut nodes = Vec::with_capacity(flow.members.len());
        // A linear flow's members see what earlier members provide; an
        // unordered flow's members see only what was there before it.
        let mut seen = match flow.kind {
            FlowKind::Linear => Some(available.clone()),
            FlowKind::Unordered => None,
        };
        for member in &flow.members {
            let visible = seen.as_ref().unwrap_or(available);
            let start = provided.len();
            let node = match member {
                Node::Task(t) => self.task(t, visible, provided),
                Node::Flow(f) => self.flow(f, visible, provided),
            };
            if let Some(seen) = seen.as_mut() {
                seen.extend(&provided[start..]);
            }
            nodes.push(node);
        }
        let node = match flow.kind {
            FlowKind::Linear => PlanNode::Linear(nodes),
            FlowKind::Unordered => PlanNode::Unordered(nodes),
        };
        match retry_atom {
            Some(r) => {
                self.atoms[r].body = (first_body_atom..self.atoms.len()).collect();
                PlanNode::Retry(r, Box::new(node))
            }
            None => node,
        }
    }

    fn task(
        &mut self,
        t: &'a super::pattern::TaskNode,
        available: &HashSet<&'a str>,
        provided: &mut Vec<&'a str>,
    ) -> PlanNode {
        let requires = t.task.requires();
        let optional = t.task.optional();
        for (req, _) in &t.rebind {
            if !requires.contains(&req.as_str()) && !optional.contains(&req.as_str()) {
                self.problems.push(format!(
                    "task `{}` rebinds `{req}`, which it does not require",
                    t.name
                ));
            }
        }
        let mut inputs = Vec::with_capacity(requires.len());
        for req in requires {
            let symbol = t
                .rebind
                .iter()
                .find(|(r, _)| r == req)
                .map_or(req, |(_, from)| from.as_str());
            if !available.contains(symbol) {
                let via = if symbol == req {
                    String::new()
                } else {
                    format!(" (as `{req}`)")
                };
                self.problems.push(format!(
                    "task `{}` requires `{symbol}`{via}, which neither the initial store nor an earlier task provides",
                    t.name
                ));
            }
            inputs.push((req.to_string(), symbol.to_string()));
        }
        // An optional input is read if the flow has it, from wherever it
        // comes; a flow without it is not a problem.
        for opt in optional {
            let symbol = t
                .rebind
                .iter()
                .find(|(r, _)| r == opt)
                .map_or(opt, |(_, from)| from.as_str());
            if available.contains(symbol) {
                inputs.push((opt.to_string(), symbol.to_string()));
            }
        }
        let provides = t.task.provides();
        let i = self.atoms.len();
        for &p in &provides {
            if let Some(other) = self.providers.insert(p, Some(i)) {
                let other = match other {
                    None => "the initial store".to_string(),
                    Some(o) => format!("task `{}`", self.atoms[o].name),
                };
                self.problems.push(format!(
                    "`{p}` is provided by both {other} and task `{}`",
                    t.name
                ));
            }
        }
        provided.extend(&provides);
        self.add_atom(PlanAtom {
            name: t.name.clone(),
            kind: AtomKind::Task,
            task: Some(t.task.clone()),
            inputs,
            provides: provides.into_iter().map(String::from).collect(),
            retry: None,
            body: Vec::new(),
        });
        PlanNode::Task(i)
    }
}
