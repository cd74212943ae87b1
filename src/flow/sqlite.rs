//! A [`FlowStore`] in SQLite, sharing the application's database connection.

use rusqlite::{Row, params};
use serde_json::Value;

use super::db::Db;
use super::failure::Failure;
use super::state::{AtomRecord, FlowRecord, FlowState, Micros, now_us};
use super::store::{FlowSnapshot, FlowStore, StoreError};

/// The tables this store needs. Applications that version their schema run
/// this as one of their migrations; [`SqliteFlowStore::open`] runs it itself.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS flows (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    state          TEXT NOT NULL,
    inputs         TEXT NOT NULL,
    failures       TEXT NOT NULL DEFAULT '[]',
    revert_failure TEXT,
    meta           TEXT NOT NULL DEFAULT 'null',
    owner          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_state ON flows(state);
CREATE INDEX IF NOT EXISTS flows_unfinished ON flows(created_at)
    WHERE state NOT IN ('success', 'reverted');
CREATE TABLE IF NOT EXISTS atoms (
    flow_id        TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    attempts       INTEGER NOT NULL,
    result         TEXT,
    failure        TEXT,
    revert_failure TEXT,
    started_at     INTEGER,
    finished_at    INTEGER,
    PRIMARY KEY (flow_id, name)
) WITHOUT ROWID;
";

/// Flow state in the `flows` and `atoms` tables of a shared database.
#[derive(Clone, Debug)]
pub struct SqliteFlowStore {
    db: Db,
}

impl SqliteFlowStore {
    /// Uses `db`, whose schema already contains [`SCHEMA`].
    pub fn new(db: Db) -> Self {
        SqliteFlowStore { db }
    }

    /// Uses `db`, creating the tables if needed.
    pub fn open(db: Db) -> Result<Self, StoreError> {
        db.lock().execute_batch(SCHEMA)?;
        Ok(Self::new(db))
    }

    /// The shared database.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(v)?)
}

fn opt_json<T: serde::Serialize>(v: Option<&T>) -> Result<Option<String>, StoreError> {
    v.map(to_json).transpose()
}

fn parse<T: serde::de::DeserializeOwned>(s: Option<String>) -> Result<Option<T>, StoreError> {
    Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
}

fn parse_enum<T: std::str::FromStr<Err = super::UnknownVariant>>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|e: super::UnknownVariant| StoreError(e.to_string()))
}

const FLOW_COLUMNS: &str =
    "id, name, state, inputs, failures, revert_failure, meta, owner, created_at, updated_at";

fn flow_from_row(r: &Row<'_>) -> rusqlite::Result<[Option<String>; 8]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ])
}

fn flow_record(cols: [Option<String>; 8], times: (i64, i64)) -> Result<FlowRecord, StoreError> {
    let [
        id,
        name,
        state,
        inputs,
        failures,
        revert_failure,
        meta,
        owner,
    ] = cols;
    Ok(FlowRecord {
        id: id.unwrap_or_default(),
        name: name.unwrap_or_default(),
        state: parse_enum(&state.unwrap_or_default())?,
        inputs: parse(inputs)?.unwrap_or_default(),
        failures: parse(failures)?.unwrap_or_default(),
        revert_failure: parse(revert_failure)?,
        meta: parse::<Value>(meta)?.unwrap_or(Value::Null),
        owner,
        created_at: Micros(times.0),
        updated_at: Micros(times.1),
    })
}

impl SqliteFlowStore {
    fn query_flows(
        &self,
        sql_tail: &str,
        param: Option<&str>,
    ) -> Result<Vec<FlowRecord>, StoreError> {
        let conn = self.db.lock();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {FLOW_COLUMNS} FROM flows {sql_tail}"))?;
        let map = |r: &Row<'_>| Ok((flow_from_row(r)?, (r.get(8)?, r.get(9)?)));
        let rows: Vec<_> = match param {
            Some(p) => stmt.query_map([p], map)?.collect::<Result<_, _>>()?,
            None => stmt.query_map([], map)?.collect::<Result<_, _>>()?,
        };
        rows.into_iter()
            .map(|(cols, times)| flow_record(cols, times))
            .collect()
    }
}

impl FlowStore for SqliteFlowStore {
    fn create_flow(&self, f: &FlowRecord) -> Result<(), StoreError> {
        let conn = self.db.lock();
        conn.prepare_cached(&format!(
            "INSERT INTO flows ({FLOW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))?
        .execute(params![
            f.id,
            f.name,
            f.state.as_str(),
            to_json(&f.inputs)?,
            to_json(&f.failures)?,
            opt_json(f.revert_failure.as_ref())?,
            to_json(&f.meta)?,
            f.owner,
            f.created_at,
            f.updated_at,
        ])?;
        Ok(())
    }

    fn set_flow_state(
        &self,
        flow_id: &str,
        state: FlowState,
        failures: &[Failure],
        revert_failure: Option<&Failure>,
    ) -> Result<(), StoreError> {
        let conn = self.db.lock();
        let n = conn
            .prepare_cached(
                "UPDATE flows SET state = ?2, failures = ?3, revert_failure = ?4, updated_at = ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                flow_id,
                state.as_str(),
                to_json(&failures)?,
                opt_json(revert_failure)?,
                now_us(),
            ])?;
        if n == 0 {
            return Err(StoreError(format!("no flow {flow_id}")));
        }
        Ok(())
    }

    fn save_atom(&self, flow_id: &str, a: &AtomRecord) -> Result<(), StoreError> {
        let conn = self.db.lock();
        conn.prepare_cached(
            "INSERT INTO atoms (flow_id, name, kind, state, seq, attempts, result, failure,
                                revert_failure, started_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (flow_id, name) DO UPDATE SET
                kind = excluded.kind, state = excluded.state, seq = excluded.seq,
                attempts = excluded.attempts, result = excluded.result,
                failure = excluded.failure, revert_failure = excluded.revert_failure,
                started_at = excluded.started_at, finished_at = excluded.finished_at",
        )?
        .execute(params![
            flow_id,
            a.name,
            a.kind.as_str(),
            a.state.as_str(),
            a.seq as i64,
            a.attempts,
            opt_json(a.result.as_ref())?,
            opt_json(a.failure.as_ref())?,
            opt_json(a.revert_failure.as_ref())?,
            a.started_at,
            a.finished_at,
        ])?;
        Ok(())
    }

    fn load(&self, flow_id: &str) -> Result<Option<FlowSnapshot>, StoreError> {
        let Some(flow) = self
            .query_flows("WHERE id = ?1", Some(flow_id))?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let conn = self.db.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT name, kind, state, seq, attempts, result, failure, revert_failure,
                    started_at, finished_at
             FROM atoms WHERE flow_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([flow_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, u32>(4)?,
                    [r.get::<_, Option<String>>(5)?, r.get(6)?, r.get(7)?],
                    (r.get::<_, Option<i64>>(8)?, r.get::<_, Option<i64>>(9)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let atoms = rows
            .into_iter()
            .map(
                |(name, kind, state, seq, attempts, [res, fail, rfail], (s, f))| {
                    Ok(AtomRecord {
                        name,
                        kind: parse_enum(&kind)?,
                        state: parse_enum(&state)?,
                        seq: seq as u64,
                        attempts,
                        result: parse(res)?,
                        failure: parse(fail)?,
                        revert_failure: parse(rfail)?,
                        started_at: s.map(Micros),
                        finished_at: f.map(Micros),
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(FlowSnapshot { flow, atoms }))
    }

    fn list(&self, all: bool) -> Result<Vec<FlowRecord>, StoreError> {
        if all {
            self.query_flows("ORDER BY created_at DESC, rowid DESC", None)
        } else {
            self.query_flows(
                "WHERE state NOT IN ('success', 'reverted') ORDER BY created_at DESC, rowid DESC",
                None,
            )
        }
    }

    fn claim(
        &self,
        flow_id: &str,
        expected: Option<&str>,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .db
            .lock()
            .prepare_cached("UPDATE flows SET owner = ?3 WHERE id = ?1 AND owner IS ?2")?
            .execute(params![flow_id, expected, owner])?;
        Ok(n == 1)
    }

    fn delete_flow(&self, flow_id: &str) -> Result<(), StoreError> {
        self.db
            .lock()
            .prepare_cached("DELETE FROM flows WHERE id = ?1")?
            .execute([flow_id])?;
        Ok(())
    }

    fn transaction(
        &self,
        body: &mut dyn FnMut() -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.db.transact(|_| body().map(|commit| ((), commit)))
    }

    fn hold(&self) -> Result<(), StoreError> {
        Ok(self.db.hold()?)
    }

    fn release(&self) -> Result<bool, StoreError> {
        Ok(self.db.release()?)
    }
}
