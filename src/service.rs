//! Everything a volctl command works with: configuration, store, backends,
//! and the flow engine over the store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::backends::Backends;
use crate::config::Config;
use crate::error::Result;
use crate::flow::{Engine, SqliteFlowStore};
use crate::owner::Owner;
use crate::quota::Quota;
use crate::store::{Store, types};

/// The opened state of one volctl invocation.
pub struct Service {
    /// The configuration.
    pub config: Config,
    /// The store.
    pub store: Store,
    /// A driver per backend.
    pub backends: Backends,
    owner: OnceLock<Owner>,
    policy: OnceLock<crate::reconcile::Policy>,
}

/// The default state directory: `/var/lib/volctl` for root, else
/// `$XDG_DATA_HOME/volctl` (or `~/.local/share/volctl`).
pub fn default_state_dir() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/var/lib/volctl");
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("volctl");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/volctl")
}

impl Service {
    /// Opens the store in `state_dir` with the configuration at `config` (or
    /// the implicit one).
    pub fn open(state_dir: &Path, config: Option<&Path>) -> Result<Arc<Service>> {
        // Checked before anything in it is believed: its config.toml can
        // name a command to run.
        crate::trust::ensure_dir(state_dir, "state directory")?;
        let config = Config::load(config, state_dir)?;
        crate::timings::mark("load configuration");
        let store = Store::open(state_dir)?;
        types::sync_config(store.db(), &config.volume_types)?;
        crate::timings::mark("sync volume types");
        let backends = Backends::from_config(&config, store.id())?;
        crate::timings::mark("open backends");
        // A database that is not the one these backends were claimed with
        // (replaced, restored from elsewhere, a second state directory on
        // the same backend) would take every volume there for an orphan.
        if let Some(why) = backends.all().iter().find_map(|d| d.foreign_claim()) {
            return Err(crate::error::Error::invalid(format!(
                "{why}. If this state directory's database was replaced, restore the right one; \
                 if two configurations name the same backend directory, give each its own"
            )));
        }
        let svc = Arc::new(Service {
            config,
            store,
            backends,
            owner: OnceLock::new(),
            policy: OnceLock::new(),
        });
        // A `[recovery]` rule naming a step its operation lacks is a
        // configuration error now, not once an orphan needs it.
        svc.policy()?;
        Ok(svc)
    }

    /// The `[recovery]` policy, checked against the flows its rules name
    /// (once: at open).
    pub fn policy(self: &Arc<Self>) -> crate::error::Result<&crate::reconcile::Policy> {
        if let Some(p) = self.policy.get() {
            return Ok(p);
        }
        let p = crate::reconcile::Policy::of(self)?;
        Ok(self.policy.get_or_init(|| p))
    }

    /// This process's owner id, taking its lock on first use (only
    /// commands that run flows need one).
    /// An error (never a panic) when the lock cannot be taken: a read-only
    /// state directory, or one this user may not write.
    pub fn owner_id(&self) -> Result<&str> {
        if self.owner.get().is_none() {
            let o = Owner::acquire(self.store.dir()).map_err(|e| {
                crate::error::Error::internal(format!(
                    "cannot take an owner lock in {}: {e} (can this user write the state directory?)",
                    self.store.dir().join("locks").display()
                ))
            })?;
            let _ = self.owner.set(o);
        }
        Ok(self.owner.get().map(Owner::id).unwrap_or_default())
    }

    /// Whether the owner `id` is a live process.
    pub fn owner_alive(&self, id: Option<&str>) -> bool {
        match id {
            None => false,
            Some(id) if self.owner.get().is_some_and(|o| o.id() == id) => true,
            Some(id) => crate::owner::is_alive(self.store.dir(), id),
        }
    }

    /// The quota engine.
    pub fn quota(&self) -> Quota<'_> {
        Quota::new(&self.config.quota)
    }

    /// A flow engine recording into the store, its flows owned by this
    /// process. Without an owner lock (a read-only state directory) the
    /// engine can only read: running a flow then fails (see `Ops`).
    pub fn engine(&self) -> Engine {
        let e = self.reading_engine();
        match self.owner_id() {
            Ok(id) => e.with_owner(id),
            Err(_) => e,
        }
    }

    /// A flow engine that can read recorded flows but runs none (it records
    /// no owner: `Ops` refuses to run flows with it). Takes no lock.
    pub fn reading_engine(&self) -> Engine {
        Engine::new(Arc::new(SqliteFlowStore::new(self.store.db().clone())))
            .with_listener(Arc::new(crate::flow::TracingListener))
    }
}
