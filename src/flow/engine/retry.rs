//! Retry controllers: running a subflow again after it failed and was
//! reverted, and the bookkeeping of attempts (a controller's result is its
//! failure history).

use super::*;

impl Runner<'_> {
    pub(super) fn run_retry(&self, r: usize, body: &PlanNode) -> Result<(), Halt> {
        let atom = &self.plan.atoms[r];
        let policy = atom.retry.as_ref().expect("retry atom has a policy");
        let mut rec = self.st.lock().atoms[r].clone();
        match rec.state {
            AtomState::Success => return Ok(()),
            AtomState::Failure => return Err(Halt::Failed(last_attempt_failures(&rec))),
            AtomState::Pending => {
                rec.state = AtomState::Running;
                rec.attempts = 1;
                rec.seq = self.next_seq();
                rec.started_at = Some(now_us());
                self.save(&rec)?;
                self.commit_atom(r, rec.clone(), None);
            }
            _ => {}
        }
        loop {
            // Crashed while undoing a failed attempt: finish undoing it.
            let undoing = {
                let st = self.st.lock();
                atom.body.iter().any(|&b| st.atoms[b].state.is_reverting())
            };
            if undoing {
                let fs = last_attempt_failures(&self.st.lock().atoms[r]);
                self.revert_scope(&atom.body, &fs)?;
                self.next_attempt(r)?;
                continue;
            }
            let fs = match self.run_node(body) {
                Ok(()) => {
                    let mut rec = self.st.lock().atoms[r].clone();
                    rec.state = AtomState::Success;
                    rec.seq = self.next_seq();
                    rec.finished_at = Some(now_us());
                    self.save(&rec)?;
                    self.commit_atom(r, rec, None);
                    return Ok(());
                }
                Err(Halt::Failed(fs)) => fs,
                Err(other) => return Err(other),
            };
            let mut rec = self.st.lock().atoms[r].clone();
            let mut history = match rec.result.take() {
                Some(Value::Array(h)) => h,
                _ => Vec::new(),
            };
            history.push(serde_json::to_value(&fs).map_err(StoreError::from)?);
            rec.result = Some(Value::Array(history));
            let give_up = self.engine.cancel.is_cancelled()
                || rec.attempts >= policy.attempts
                || !policy.allows(&fs, rec.attempts);
            if give_up {
                rec.state = AtomState::Failure;
                rec.failure = fs.first().cloned();
                rec.seq = self.next_seq();
                rec.finished_at = Some(now_us());
                self.save(&rec)?;
                self.commit_atom(r, rec, None);
                return Err(Halt::Failed(fs));
            }
            rec.failure = fs.first().cloned();
            self.save(&rec)?;
            self.commit_atom(r, rec.clone(), None);
            self.revert_scope(&atom.body, &fs)?;
            // Nobody waits on the store while this one sleeps.
            let delay = policy.backoff.delay(rec.attempts);
            if !self.unheld(|| self.engine.cancel.sleep(delay))? {
                let mut fs = fs;
                fs.push(Failure::cancelled());
                return Err(Halt::Failed(fs));
            }
            self.next_attempt(r)?;
        }
    }

    /// Resets a retry controller's body to pending and counts one more
    /// attempt, in one transaction.
    fn next_attempt(&self, r: usize) -> Result<(), StoreError> {
        let atom = &self.plan.atoms[r];
        let (mut rec, body): (AtomRecord, Vec<AtomRecord>) = {
            let st = self.st.lock();
            let body = atom
                .body
                .iter()
                .map(|&b| {
                    let old = &st.atoms[b];
                    let mut fresh = AtomRecord::pending(&old.name, old.kind);
                    fresh.attempts = old.attempts;
                    fresh
                })
                .collect();
            (st.atoms[r].clone(), body)
        };
        rec.attempts += 1;
        rec.state = AtomState::Running;
        self.store().transaction(&mut || {
            for b in &body {
                self.save(b)?;
            }
            self.save(&rec)?;
            Ok(true)
        })?;
        {
            let mut st = self.st.lock();
            for (&b, fresh) in atom.body.iter().zip(body) {
                st.atoms[b] = fresh;
            }
        }
        self.commit_atom(r, rec, None);
        Ok(())
    }
}

/// The failures of a retry controller's last failed attempt.
fn last_attempt_failures(rec: &AtomRecord) -> Vec<Failure> {
    match &rec.result {
        Some(Value::Array(h)) => h
            .last()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        _ => rec.failure.iter().cloned().collect(),
    }
}
