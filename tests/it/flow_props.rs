//! Property tests of the engine: random nested flows with random failures.
//!
//! Sequential engine: its log of executes and reverts must equal that of a
//! small reference model of taskflow's semantics — so the reverted tasks are
//! exactly the started ones, in reverse completion order, each once.
//! Parallel engine: the same invariants, checked on counts and recorded order.

use std::collections::HashMap;
use std::sync::Arc;

use crate::support::*;
use proptest::prelude::*;
use volctl::flow::*;

#[derive(Clone, Debug)]
enum Spec {
    /// Execution n fails when `fail[n % len]`; every revert fails when
    /// `revert_fails`.
    Task {
        fail: Vec<bool>,
        revert_fails: bool,
    },
    Linear(Vec<Spec>),
    Unordered(Vec<Spec>),
    Retry(u32, Vec<Spec>),
}

fn spec(revert_failures: bool) -> impl Strategy<Value = Spec> {
    let rf = if revert_failures { 0.04 } else { 0.0 };
    let leaf = (
        prop::collection::vec(prop::bool::weighted(0.2), 1..4),
        prop::bool::weighted(rf),
    )
        .prop_map(|(fail, revert_fails)| Spec::Task { fail, revert_fails });
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Spec::Linear),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Spec::Unordered),
            (1u32..4, prop::collection::vec(inner, 1..3)).prop_map(|(n, c)| Spec::Retry(n, c)),
        ]
    })
}

/// The spec with names given in tree order.
#[derive(Debug)]
enum Named {
    Task(String, Vec<bool>, bool),
    Linear(String, Vec<Named>),
    Unordered(String, Vec<Named>),
    Retry(String, u32, Vec<Named>),
}

fn name_all(s: &Spec, n: &mut usize) -> Named {
    *n += 1;
    let id = *n;
    let kids = |c: &[Spec], n: &mut usize| c.iter().map(|x| name_all(x, n)).collect();
    match s {
        Spec::Task { fail, revert_fails } => {
            Named::Task(format!("t{id}"), fail.clone(), *revert_fails)
        }
        Spec::Linear(c) => Named::Linear(format!("f{id}"), kids(c, n)),
        Spec::Unordered(c) => Named::Unordered(format!("f{id}"), kids(c, n)),
        Spec::Retry(k, c) => Named::Retry(format!("f{id}"), *k, kids(c, n)),
    }
}

fn build(node: &Named, log: &Log) -> Flow {
    let add = |mut flow: Flow, kids: &[Named]| {
        for k in kids {
            flow = match k {
                Named::Task(name, fail, rf) => {
                    let fail = fail.clone();
                    let rf = *rf;
                    flow.add(
                        Probe::new(name, log)
                            .fail_when(move |n| fail[n as usize % fail.len()])
                            .fail_revert_when(move |_| rf),
                    )
                }
                other => flow.subflow(build(other, log)),
            };
        }
        flow
    };
    match node {
        Named::Linear(name, kids) => add(Flow::linear(name), kids),
        Named::Unordered(name, kids) => add(Flow::unordered(name), kids),
        Named::Retry(name, k, kids) => {
            add(Flow::linear(name), kids).with_retry(RetryPolicy::times(*k, Backoff::NONE))
        }
        Named::Task(..) => add(Flow::linear("single"), std::slice::from_ref(node)),
    }
}

/// Reference semantics, sequential.
#[derive(Default)]
struct Model {
    log: Vec<(bool, String)>, // (is_revert, name)
    live: Vec<(String, bool)>,
    execs: HashMap<String, u32>,
}

enum Stop {
    Failed,
    RevertFailed,
}

impl Model {
    fn run(&mut self, n: &Named) -> Result<(), Stop> {
        match n {
            Named::Task(name, fail, rf) => {
                let c = self.execs.entry(name.clone()).or_default();
                let k = *c;
                *c += 1;
                self.log.push((false, name.clone()));
                self.live.push((name.clone(), *rf));
                if fail[k as usize % fail.len()] {
                    Err(Stop::Failed)
                } else {
                    Ok(())
                }
            }
            Named::Linear(_, kids) | Named::Unordered(_, kids) => {
                kids.iter().try_for_each(|k| self.run(k))
            }
            Named::Retry(_, attempts, kids) => {
                let mut attempt = 1;
                loop {
                    let mark = self.live.len();
                    match kids.iter().try_for_each(|k| self.run(k)) {
                        Ok(()) => return Ok(()),
                        Err(Stop::RevertFailed) => return Err(Stop::RevertFailed),
                        Err(Stop::Failed) if attempt < *attempts => {
                            self.revert_down_to(mark)?;
                            attempt += 1;
                        }
                        Err(Stop::Failed) => return Err(Stop::Failed),
                    }
                }
            }
        }
    }

    fn revert_down_to(&mut self, mark: usize) -> Result<(), Stop> {
        while self.live.len() > mark {
            let (name, fails) = self.live.pop().unwrap();
            self.log.push((true, name));
            if fails {
                return Err(Stop::RevertFailed);
            }
        }
        Ok(())
    }

    fn outcome(&mut self, root: &Named) -> FlowState {
        match self.run(root) {
            Ok(()) => FlowState::Success,
            Err(Stop::RevertFailed) => FlowState::RevertFailed,
            Err(Stop::Failed) => match self.revert_down_to(0) {
                Ok(()) => FlowState::Reverted,
                Err(_) => FlowState::RevertFailed,
            },
        }
    }
}

fn engine_log(log: &Log) -> Vec<(bool, String)> {
    log.events()
        .into_iter()
        .map(|e| (matches!(e, Ev::Revert { .. }), e.name().to_string()))
        .collect()
}

fn root_of(specs: Vec<Spec>) -> Named {
    let mut n = 0;
    name_all(&Spec::Linear(specs), &mut n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn sequential_engine_matches_the_reference_model(
        specs in prop::collection::vec(spec(true), 1..5)
    ) {
        let root = root_of(specs);
        let log = Log::default();
        let flow = build(&root, &log);
        let engine = Engine::new(Arc::new(MemoryStore::new())).sequential();
        let out = engine.run(&flow, outputs()).unwrap();

        let mut model = Model::default();
        let expected_state = model.outcome(&root);
        prop_assert_eq!(out.state, expected_state);
        prop_assert_eq!(engine_log(&log), model.log);

        if out.state == FlowState::Reverted {
            // Nothing left started: every touched atom is reverted.
            for a in engine.store().load(&out.id).unwrap().unwrap().atoms {
                prop_assert!(matches!(a.state, AtomState::Reverted | AtomState::Pending), "{:?}", a);
            }
        }
    }

    #[test]
    fn parallel_engine_reverts_each_started_execution_once_in_reverse_order(
        specs in prop::collection::vec(spec(false), 1..5)
    ) {
        let root = root_of(specs);
        let log = Log::default();
        let flow = build(&root, &log);
        let engine = Engine::new(Arc::new(MemoryStore::new()));
        let out = engine.run(&flow, outputs()).unwrap();
        prop_assert!(matches!(out.state, FlowState::Success | FlowState::Reverted));

        // Per task: each execution is reverted once, after it, unless it
        // is the successful execution of a successful flow.
        let mut balance: HashMap<String, i64> = HashMap::new();
        for (is_revert, name) in engine_log(&log) {
            let b = balance.entry(name.clone()).or_default();
            *b += if is_revert { -1 } else { 1 };
            prop_assert!(*b >= 0 && *b <= 1, "{} reverted before executing, or run twice unreverted", name);
        }
        let leftover = if out.state == FlowState::Success { 1 } else { 0 };
        for (name, b) in &balance {
            prop_assert_eq!(*b, leftover, "task {}", name);
        }

        // The final revert goes in decreasing recorded completion order.
        if out.state == FlowState::Reverted {
            let seqs: HashMap<String, u64> = engine.store().load(&out.id).unwrap().unwrap()
                .atoms.into_iter().map(|a| (a.name, a.seq)).collect();
            let events = engine_log(&log);
            let last_exec = events.iter().rposition(|(r, _)| !r).unwrap();
            let tail: Vec<u64> = events[last_exec + 1..].iter().map(|(_, n)| seqs[n]).collect();
            prop_assert!(tail.windows(2).all(|w| w[0] > w[1]), "{:?}", tail);
        }
    }
}
