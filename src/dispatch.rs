//! The cast queue: the seam that makes the three create flows behave like
//! three services.
//!
//! ```text
//!   volctl create ─▶ api flow ──cast(Schedule)──▶ ┌─────────┐
//!                                                 │  casts  │ ─▶ scheduler flow
//!          scheduler flow ──cast(Manage{backend})▶│ (SQLite │ ─▶ manager flow
//!          manager flow ──revert: cast(Schedule)─▶│  table) │      (reschedule)
//!                                                 └─────────┘
//! ```
//!
//! A flow never calls the next one: its last task queues a [`Message`] (in
//! the transaction that records the task) and ends. [`Ops::drain`] then
//! takes the volume's casts in order and runs the flow each one names
//! ([`Message::consumer`]). Taking a cast off the queue and recording the
//! flow that consumes it happen in one transaction ([`Ops::consume`]), so
//! a crash leaves the cast or the flow, never neither — and whoever comes
//! next (`resume --all`, `check`) finds what to continue. A chain that
//! stops with its volume still `creating` is closed ([`Ops::drain`]) or,
//! when an operator rolls it back, abandoned (`Ops::abandon_casts`): the
//! volume goes to `error` and its quota is returned.
//!
//! The queue stores a topic and the message as JSON (`store::casts`); this
//! module is the only one that reads or writes it.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::flow::{Failure, Flow, FlowOutcome, Values, ValuesExt, outputs};
use crate::lifecycle;
use crate::manager::{ManagerRequest, create_volume as manager_create};
use crate::ops::{Ops, engine_error};
use crate::scheduler::{SchedulerRequest, create_volume as scheduler_create};
use crate::service::Service;
use crate::store::casts::{self, RawCast};
use crate::store::events::Event;
use crate::store::flows::{FlowMeta, Operation};
use crate::store::new_id;
use crate::store::volumes::{self, VolumeStatus};
use crate::symbols::{MANAGER_REQUEST, SCHEDULER_REQUEST};
use rusqlite::Connection;

/// Who a cast is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    /// The scheduler (stored as `scheduler`).
    Scheduler,
    /// A backend's volume manager (stored as `manager:<backend>`).
    Manager(String),
}

impl Topic {
    /// The stored spelling.
    pub fn as_string(&self) -> String {
        match self {
            Topic::Scheduler => "scheduler".to_string(),
            Topic::Manager(b) => format!("manager:{b}"),
        }
    }

    fn parse(s: &str) -> Option<Topic> {
        match s {
            "scheduler" => Some(Topic::Scheduler),
            _ => s
                .strip_prefix("manager:")
                .map(|b| Topic::Manager(b.to_string())),
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// A request from one flow to the next.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// Choose a backend for a volume (from the api flow, or a reschedule).
    Schedule(SchedulerRequest),
    /// Make the volume on the chosen backend.
    Manage(ManagerRequest),
}

impl Message {
    /// The topic it is queued under.
    pub fn topic(&self) -> Topic {
        match self {
            Message::Schedule(_) => Topic::Scheduler,
            Message::Manage(m) => Topic::Manager(m.backend.clone()),
        }
    }

    /// The volume it is about.
    pub fn volume_id(&self) -> &str {
        match self {
            Message::Schedule(m) => &m.volume_id,
            Message::Manage(m) => &m.volume_id,
        }
    }

    /// The flow that consumes it.
    pub fn consumer(&self, svc: &Arc<Service>) -> Flow {
        match self {
            Message::Schedule(_) => scheduler_create::flow(svc),
            Message::Manage(_) => manager_create::flow(svc),
        }
    }

    /// The consuming flow's initial store.
    pub fn inputs(&self) -> Values {
        match self {
            Message::Schedule(m) => outputs().with(SCHEDULER_REQUEST, m),
            Message::Manage(m) => outputs().with(MANAGER_REQUEST, m),
        }
    }

    fn decode(topic: &str, payload: &str) -> Result<Message> {
        let bad = |e: &dyn std::fmt::Display| {
            Error::internal(format!("a queued cast ({topic}) cannot be read: {e}"))
        };
        match Topic::parse(topic) {
            Some(Topic::Scheduler) => serde_json::from_str(payload)
                .map(Message::Schedule)
                .map_err(|e| bad(&e)),
            Some(Topic::Manager(_)) => serde_json::from_str(payload)
                .map(Message::Manage)
                .map_err(|e| bad(&e)),
            None => Err(bad(&"no flow consumes this topic")),
        }
    }

    fn encode(&self) -> Result<String> {
        Ok(match self {
            Message::Schedule(m) => serde_json::to_string(m)?,
            Message::Manage(m) => serde_json::to_string(m)?,
        })
    }
}

/// A queued message.
#[derive(Clone, Debug, PartialEq)]
pub struct Cast {
    /// Queue position.
    pub id: i64,
    /// The request.
    pub message: Message,
    /// The process that queued it.
    pub owner: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl Cast {
    /// The volume it is about.
    pub fn volume_id(&self) -> &str {
        self.message.volume_id()
    }

    fn from_raw(raw: RawCast) -> Result<Cast> {
        Ok(Cast {
            id: raw.id,
            message: Message::decode(&raw.topic, &raw.payload)?,
            owner: raw.owner,
            created_at: raw.created_at,
        })
    }
}

/// Queues `message` (in the caller's transaction); returns its id.
pub fn send(conn: &Connection, message: &Message, owner: Option<&str>) -> Result<i64> {
    casts::push(
        conn,
        &message.topic().as_string(),
        Some(message.volume_id()),
        &message.encode()?,
        owner,
    )
}

/// Takes a queued cast off the queue (`None` if someone took it).
pub fn take(conn: &Connection, id: i64) -> Result<Option<Cast>> {
    casts::take(conn, id)?.map(Cast::from_raw).transpose()
}

/// Removes a queued cast if it is still there (a sender's revert).
pub fn withdraw(conn: &Connection, id: i64) -> Result<()> {
    casts::remove(conn, id)
}

/// The oldest cast queued for a volume.
pub fn next_for_volume(conn: &Connection, volume_id: &str) -> Result<Option<Cast>> {
    casts::next_for_volume(conn, volume_id)?
        .map(Cast::from_raw)
        .transpose()
}

/// Every queued cast, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Cast>> {
    casts::list(conn)?.into_iter().map(Cast::from_raw).collect()
}

impl Ops {
    /// Runs every cast queued for a volume, in order; returns the failure of
    /// the last flow that failed.
    pub fn drain(&self, volume_id: &str) -> Result<Option<Failure>> {
        let mut last = None;
        loop {
            let next = next_for_volume(&self.svc.store.db().lock(), volume_id)?;
            let Some(cast) = next else {
                self.close_chain(volume_id, last.as_ref())?;
                return Ok(last);
            };
            if self.live_other(cast.owner.as_deref()) {
                // Another live process is carrying this volume on.
                return Ok(last);
            }
            if let Message::Schedule(msg) = &cast.message
                && msg.retry.attempt > 1
            {
                self.note(crate::ops::Note::Step(&format!(
                    "rescheduling (attempt {} of {}): {}",
                    msg.retry.attempt,
                    self.svc.config.scheduler.max_attempts,
                    msg.retry.failures.last().map(String::as_str).unwrap_or("?")
                )));
            }
            if let Some(out) = self.consume(&cast)?
                && !out.is_success()
            {
                if out.state == crate::flow::FlowState::RevertFailed {
                    return Err(crate::ops::outcome_error(&out));
                }
                last = out.failures.first().cloned();
            }
        }
    }

    /// A create chain that ended with the volume still being created — its
    /// last flow stopped before any task that would have settled it — is
    /// closed: a cancelled create leaves nothing, any other ends in `error`.
    fn close_chain(&self, volume_id: &str, last: Option<&Failure>) -> Result<()> {
        let Some(failure) = last else {
            return Ok(());
        };
        let closed = self.svc.store.db().immediate(|conn| {
            if still_creating(conn, volume_id)? && next_for_volume(conn, volume_id)?.is_none() {
                lifecycle::fail_create(
                    &self.svc.quota(),
                    conn,
                    volume_id,
                    failure,
                    &failure.message,
                    &Event::create_error(Error::from_failure(failure).kind, &failure.message),
                )?;
                return Ok::<_, Error>(true);
            }
            Ok(false)
        })?;
        if closed {
            self.note(crate::ops::Note::Undone(lifecycle::fail_create_words(
                failure,
            )));
        }
        Ok(())
    }

    /// Takes a cast off the queue and runs the flow that consumes it; `None`
    /// if another process took it first. Taking the cast and recording the
    /// flow happen in one transaction.
    pub fn consume(&self, cast: &Cast) -> Result<Option<FlowOutcome>> {
        let engine = self.runner()?;
        let flow = cast.message.consumer(&self.svc);
        let flow_id = new_id();
        let meta = FlowMeta {
            cast: Some(cast.message.topic().as_string()),
            parent: self.parent().map(str::to_string),
            ..FlowMeta::volume(Operation::Create, cast.volume_id())
        };
        let taken = self.svc.store.db().transact(|conn| {
            match take(conn, cast.id)? {
                // Taken meanwhile.
                None => return Ok::<_, Error>((false, false)),
                // Queued by a live process that will take it itself: put it
                // back (roll back).
                Some(c) if self.live_other(c.owner.as_deref()) => return Ok((false, false)),
                Some(_) => {}
            }
            engine.create(&flow, &flow_id, cast.message.inputs(), meta.to_value())?;
            Ok((true, true))
        })?;
        if !taken {
            return Ok(None);
        }
        Ok(Some(
            engine
                .resume(&flow, &flow_id)
                .map_err(|e| engine_error(e, &flow_id))?,
        ))
    }

    /// Queued casts whose owner is dead.
    pub fn orphaned_casts(&self) -> Result<Vec<Cast>> {
        Ok(list(&self.svc.store.db().lock())?
            .into_iter()
            .filter(|c| !self.svc.owner_alive(c.owner.as_deref()))
            .collect())
    }

    /// Drops a volume's queued casts (none may be owned by a live process)
    /// and puts a volume still being created — now that nothing will finish
    /// it — in `error`, its quota returned. Returns how many it dropped.
    ///
    /// A volume whose casts a live process took meanwhile (it runs a flow
    /// of the volume now) is left to that process.
    pub(crate) fn abandon_casts(&self, volume_id: &str) -> Result<usize> {
        self.svc.store.db().immediate(|conn| {
            let mut dropped = 0;
            while let Some(c) = next_for_volume(conn, volume_id)? {
                if self.live_other(c.owner.as_deref()) {
                    return Err(Error::conflict(format!(
                        "volume {volume_id} is being created by a live volctl process"
                    )));
                }
                withdraw(conn, c.id)?;
                dropped += 1;
            }
            let carried_on = crate::store::flows::unfinished_owners(conn, volume_id)?
                .iter()
                .any(|o| self.live_other(o.as_deref()));
            if !carried_on && still_creating(conn, volume_id)? {
                lifecycle::mark_error(
                    &self.svc.quota(),
                    conn,
                    volume_id,
                    "rolled back on request",
                    &Event::create_error(ErrorKind::Interrupted, "rolled back on request"),
                )?;
            }
            Ok(dropped)
        })
    }
}

/// Whether the volume is still being made (nothing settled it yet).
fn still_creating(conn: &Connection, volume_id: &str) -> Result<bool> {
    Ok(volumes::get(conn, volume_id)?
        .is_some_and(|v| matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading)))
}
