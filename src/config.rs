//! Configuration: TOML, from `--config` / `VOLCTL_CONFIG`, else
//! `<state-dir>/config.toml` if it exists, else built-in defaults (one
//! loopback backend under the state directory).
//!
//! Errors name the file, the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

use crate::error::{Error, ErrorKind, Result};

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default quota limits for every project.
    #[serde(default)]
    pub quota: QuotaDefaults,
    /// Scheduling.
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    /// Backends, in order.
    #[serde(default, rename = "backend")]
    pub backends: Vec<BackendConfig>,
    /// Volume types defined by the operator (more can be made with
    /// `volctl type create`).
    #[serde(default, rename = "volume_type")]
    pub volume_types: Vec<VolumeTypeConfig>,
    /// Image catalog limits.
    #[serde(default)]
    pub images: ImagesConfig,
    /// The image cache.
    #[serde(default)]
    pub image_cache: ImageCacheConfig,
    /// What happens when creating a volume fails.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Where events go besides the store.
    #[serde(default)]
    pub events: EventsConfig,
    /// How long finished flows and delivered events are kept.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// What happens to flows stopped half-way (see [`crate::reconcile`]).
    #[serde(default)]
    pub recovery: RecoveryConfig,
    /// Where the configuration came from (`None`: built-in defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The failure policy of the manager flow. Failures are typed: the kinds
/// are checked here, never matched against messages.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Failure kinds retried in place (same backend) before anything else,
    /// and how many more times: `{ transient = 2 }`.
    #[serde(deserialize_with = "backend_kind_map")]
    pub retry_in_place: BTreeMap<ErrorKind, u32>,
    /// Failure kinds that reschedule the volume onto another backend.
    #[serde(deserialize_with = "backend_kinds")]
    pub reschedule: Vec<ErrorKind>,
    /// First wait before retrying in place, milliseconds (doubling).
    pub backoff_ms: u64,
    /// Longest wait between retries in place, milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            retry_in_place: BTreeMap::from([(ErrorKind::Transient, 2)]),
            reschedule: vec![ErrorKind::Backend, ErrorKind::NoSpace, ErrorKind::Transient],
            backoff_ms: 200,
            max_backoff_ms: 5000,
        }
    }
}

/// Failure kinds that are the backend's fault, so retrying or rescheduling
/// can help. The others — bad request, bad image, missing source, quota,
/// cancellation — are never retried.
pub const BACKEND_FAULTS: [ErrorKind; 3] =
    [ErrorKind::Backend, ErrorKind::NoSpace, ErrorKind::Transient];

fn backend_fault<E: serde::de::Error>(k: ErrorKind) -> std::result::Result<ErrorKind, E> {
    if BACKEND_FAULTS.contains(&k) {
        Ok(k)
    } else {
        Err(E::custom(format!(
            "`{k}` is not a backend fault (the request, its data or the user is at fault), so retrying cannot help; \
             allowed: backend, no_space, transient"
        )))
    }
}

fn backend_kinds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<ErrorKind>, D::Error> {
    Vec::<ErrorKind>::deserialize(d)?
        .into_iter()
        .map(backend_fault)
        .collect()
}

fn backend_kind_map<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<ErrorKind, u32>, D::Error> {
    BTreeMap::<ErrorKind, u32>::deserialize(d)?
        .into_iter()
        .map(|(k, n)| backend_fault(k).map(|k| (k, n)))
        .collect()
}

/// Event sinks: every event is also appended as a JSON line to `jsonl`
/// and/or piped (JSON lines on stdin) to the command `exec` (run by
/// `sh -c`). Delivery is at least once: each event carries its `id`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// A file to append JSON lines to.
    pub jsonl: Option<PathBuf>,
    /// A shell command to pipe JSON lines to.
    pub exec: Option<String>,
    /// How long `exec` may run (it is killed then, and its events are
    /// sent again next time).
    #[serde(default = "default_exec_timeout")]
    pub exec_timeout_seconds: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            jsonl: None,
            exec: None,
            exec_timeout_seconds: default_exec_timeout(),
        }
    }
}

/// How long history is kept (see [`crate::retention`]): durations such as
/// `7d`, `12h`, `30m`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Finished flows (and their tasks' records), after they finished.
    #[serde(deserialize_with = "duration", serialize_with = "show_duration")]
    pub flows: std::time::Duration,
    /// Events (once every sink has them).
    #[serde(deserialize_with = "duration", serialize_with = "show_duration")]
    pub events: std::time::Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        let week = std::time::Duration::from_secs(7 * 24 * 3600);
        RetentionConfig {
            flows: week,
            events: week,
        }
    }
}

/// How flows stopped half-way are settled (see [`crate::reconcile`]): by
/// `volctl reconcile`, and by any command that meets one on its volume.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    /// How long an orphaned flow must have stood still before it is
    /// settled (its owner is certainly dead already: see the module).
    #[serde(deserialize_with = "duration", serialize_with = "show_duration")]
    pub grace: std::time::Duration,
    /// How many times a failed revert is tried again before the flow is
    /// marked as needing a person.
    pub revert_retries: u32,
    /// The wait before a failed revert is tried again, doubling each time.
    #[serde(deserialize_with = "duration", serialize_with = "show_duration")]
    pub revert_backoff: std::time::Duration,
    /// The operator's rules, over the built-in ones: `default`, an operation
    /// (`create`) or an operation and a step of it — one of its flows or
    /// tasks (`create/volume_create_manager`) — to `resume`, `rollback` or
    /// `leave`.
    pub policy: BTreeMap<crate::reconcile::RuleKey, crate::reconcile::Action>,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            grace: std::time::Duration::from_secs(30),
            revert_retries: 3,
            revert_backoff: std::time::Duration::from_secs(60),
            policy: BTreeMap::new(),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<std::time::Duration, D::Error> {
    let s = String::deserialize(d)?;
    crate::wait::parse_duration(&s).map_err(|e| serde::de::Error::custom(e.message))
}

/// A duration as the configuration writes it (`7d`, `12h`, `90s`).
fn show_duration<S: serde::Serializer>(
    d: &std::time::Duration,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let secs = d.as_secs();
    let text = [(86_400, "d"), (3600, "h"), (60, "m")]
        .iter()
        .find(|(unit, _)| secs > 0 && secs % unit == 0)
        .map(|(unit, suffix)| format!("{}{suffix}", secs / unit))
        .unwrap_or_else(|| format!("{secs}s"));
    s.serialize_str(&text)
}

fn default_exec_timeout() -> u64 {
    10
}

/// Limits on imported images.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    /// Largest virtual size accepted, GiB.
    #[serde(deserialize_with = "at_least_one_u64")]
    pub max_virtual_size_gb: u64,
    /// Wall-clock limit for each inspection of an image (`qemu-img info`,
    /// `qemu-img check`), seconds; CPU time is limited too.
    #[serde(deserialize_with = "at_least_one_u64")]
    pub inspect_timeout_seconds: u64,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            max_virtual_size_gb: 1024,
            inspect_timeout_seconds: 30,
        }
    }
}

/// The image cache: the first volume made from an image on a backend leaves
/// a raw copy there; later ones are copies (reflinks) of it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageCacheConfig {
    /// On by default.
    pub enabled: bool,
    /// Per backend; least recently used entries are evicted past it, GiB.
    pub max_size_gb: u64,
}

impl Default for ImageCacheConfig {
    fn default() -> Self {
        ImageCacheConfig {
            enabled: true,
            max_size_gb: 50,
        }
    }
}

/// Default limits; `-1` means unlimited.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaDefaults {
    /// Number of volumes.
    #[serde(deserialize_with = "limit")]
    pub volumes: i64,
    /// GiB of volumes and snapshots.
    #[serde(deserialize_with = "limit")]
    pub gigabytes: i64,
    /// Number of snapshots.
    #[serde(deserialize_with = "limit")]
    pub snapshots: i64,
    /// Largest single volume, GiB.
    #[serde(deserialize_with = "limit")]
    pub per_volume_gigabytes: i64,
    /// Seconds after which an uncommitted reservation expires.
    pub reservation_expire: u64,
}

impl Default for QuotaDefaults {
    fn default() -> Self {
        QuotaDefaults {
            volumes: 10,
            gigabytes: 1000,
            snapshots: 10,
            per_volume_gigabytes: -1,
            reservation_expire: 86_400,
        }
    }
}

/// Scheduler settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// Scheduling attempts per volume in all (1 disables rescheduling).
    #[serde(deserialize_with = "at_least_one")]
    pub max_attempts: u32,
    /// Zone for requests that name none and have no source (`None`: any).
    pub default_availability_zone: Option<String>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_attempts: 3,
            default_availability_zone: None,
        }
    }
}

/// Which driver a backend uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// Sparse files, attached as loop devices.
    Loopback,
    /// LVM logical volumes.
    Lvm,
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriverKind::Loopback => "loopback",
            DriverKind::Lvm => "lvm",
        })
    }
}

/// One backend.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    pub name: Spanned<String>,
    /// The driver.
    pub driver: DriverKind,
    /// Loopback: the directory holding volume files (default
    /// `<state-dir>/backends/<name>`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Capacity to report, GiB (default: the filesystem's size).
    #[serde(default, deserialize_with = "positive_opt")]
    pub capacity_gb: Option<f64>,
    /// Thin provisioning (sparse files, thin pool).
    #[serde(default = "yes")]
    pub thin: bool,
    /// How far thin volumes may over-subscribe the real capacity.
    #[serde(default = "default_ratio", deserialize_with = "ratio")]
    pub max_over_subscription_ratio: f64,
    /// Percentage of capacity kept free.
    #[serde(default, deserialize_with = "percentage")]
    pub reserved_percentage: u32,
    /// Availability zone.
    #[serde(default = "default_zone")]
    pub availability_zone: String,
    /// Capabilities matched against volume type extra specs.
    #[serde(default, deserialize_with = "capability_map")]
    pub capabilities: BTreeMap<String, Capability>,
    /// LVM: the volume group.
    #[serde(default)]
    pub volume_group: Option<String>,
    /// LVM: a thin pool in the volume group.
    #[serde(default)]
    pub thin_pool: Option<String>,
    /// LVM: how long capacity figures (slow lvm2 reports) are cached in the
    /// store, seconds; every change volctl makes refreshes them.
    #[serde(default = "default_stats_cache")]
    pub stats_cache_seconds: u64,
    /// LVM, thick: zero a volume's LV when it is deleted, so that no new
    /// volume shows an old one's data.
    #[serde(default = "yes")]
    pub clear_on_delete: bool,
    /// What is done to a volume's data when it is deleted (a volume type's
    /// `volctl:wipe` extra spec overrides it); see [`BackendConfig::default_wipe`].
    #[serde(default)]
    pub wipe: Option<Wipe>,
    /// Loopback: whether volctl may make `path` when it is missing — only
    /// inside the state directory (set when the configuration is loaded).
    #[serde(skip)]
    pub make_dir: bool,
}

crate::string_enum! {
    /// What deleting a volume does to its data.
    Wipe {
        /// Nothing: the object is removed (loopback: its blocks are freed;
        /// a new sparse file never shows them, it reads as holes).
        None = "none",
        /// Discarded first (loopback: holes punched; LVM: BLKDISCARD): fast,
        /// the space handed back to the device below (TRIM).
        Discard = "discard",
        /// Overwritten with zeros first (loopback: its data extents only;
        /// LVM: BLKZEROOUT over the whole LV): costs a full write.
        Zero = "zero",
    }
}

impl BackendConfig {
    /// The backend's wipe policy: `wipe` when set, else `zero` for thick LVM
    /// with `clear_on_delete` (a new thick LV could show an old one's
    /// blocks), `none` otherwise.
    pub fn default_wipe(&self) -> Wipe {
        self.wipe.unwrap_or(
            if self.driver == DriverKind::Lvm && self.thin_pool.is_none() && self.clear_on_delete {
                Wipe::Zero
            } else {
                Wipe::None
            },
        )
    }
}

fn default_stats_cache() -> u64 {
    10
}

/// A volume type from the configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeTypeConfig {
    /// Unique name.
    pub name: Spanned<String>,
    /// Extra specs matched against backend capabilities.
    #[serde(default, deserialize_with = "scalar_map")]
    pub extra_specs: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}
fn default_ratio() -> f64 {
    20.0
}
fn default_zone() -> String {
    "nova".to_string()
}

/// An integer in `min..=max`, read wide so that any integer written gets
/// the range in the message, not a deserializer's type name.
fn in_range<'de, D: Deserializer<'de>>(
    d: D,
    min: i64,
    max: i64,
) -> std::result::Result<i64, D::Error> {
    let v = i64::deserialize(d)?;
    if !(min..=max).contains(&v) {
        return Err(serde::de::Error::custom(format!(
            "is out of range: a whole number from {min} to {max} (got {v})"
        )));
    }
    Ok(v)
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    Ok(in_range(d, 1, i64::from(u32::MAX))? as u32)
}

fn at_least_one_u64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    Ok(in_range(d, 1, i64::MAX)? as u64)
}

fn percentage<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    Ok(in_range(d, 0, 100)? as u32)
}

/// A quota limit: -1 (unlimited) or more.
fn limit<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    in_range(d, -1, i64::MAX)
}

fn ratio<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v >= 1.0 && v.is_finite()) {
        return Err(serde::de::Error::custom(format!(
            "must be a number of at least 1.0 (got {v})"
        )));
    }
    Ok(v)
}

fn positive_opt<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(serde::de::Error::custom(format!(
            "must be a positive number (got {v})"
        )));
    }
    Ok(Some(v))
}

/// A table of scalars, kept as strings for capability matching.
fn scalar_map<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    // Extra specs are matched as text: the capability rules, stringified.
    Ok(capability_map(d)?
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect())
}

/// A backend capability's value, of the TOML type it was written with (so
/// JSON shows `true` and `5000`, not strings). Extra specs match it by its
/// text, Cinder's: `True`/`False` for a boolean (`<is> True`), the digits
/// of a number.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Capability {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Capability::Text(s) => f.write_str(s),
            Capability::Integer(i) => write!(f, "{i}"),
            Capability::Float(x) => write!(f, "{x}"),
            Capability::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
        }
    }
}

fn capability_map<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, Capability>, D::Error> {
    let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            let c = match v {
                toml::Value::String(s) => Capability::Text(s),
                toml::Value::Integer(i) => Capability::Integer(i),
                toml::Value::Float(f) => Capability::Float(f),
                toml::Value::Boolean(b) => Capability::Bool(b),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "`{k}` must be a string, number or boolean, not {}",
                        other.type_str()
                    )));
                }
            };
            Ok((k, c))
        })
        .collect()
}

/// Whether `name` is usable in file names and queue topics.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

impl Config {
    /// The built-in configuration: one thin loopback backend named `default`
    /// under `<state-dir>/backends/default`.
    pub fn builtin() -> Config {
        Config {
            quota: QuotaDefaults::default(),
            scheduler: SchedulerConfig::default(),
            backends: Vec::new(),
            volume_types: Vec::new(),
            images: ImagesConfig::default(),
            image_cache: ImageCacheConfig::default(),
            policy: PolicyConfig::default(),
            events: EventsConfig::default(),
            retention: RetentionConfig::default(),
            recovery: RecoveryConfig::default(),
            source: None,
        }
    }

    /// Parses `text` (read from `path`), checks it, and fills defaults that
    /// depend on the state directory.
    pub fn parse(text: &str, path: &Path, state_dir: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            Error::invalid(format!("config {}: {}", path.display(), explain(&e, text)))
        })?;
        cfg.source = Some(path.to_path_buf());
        cfg.check(text)
            .map_err(|m| Error::invalid(format!("config {}: {m}", path.display())))?;
        cfg.fill_defaults(state_dir);
        cfg.check_paths(text)
            .map_err(|m| Error::invalid(format!("config {}: {m}", path.display())))?;
        cfg.check_shared_storage()
            .map_err(|m| Error::invalid(format!("config {}: {m}", path.display())))?;
        Ok(cfg)
    }

    /// A loopback backend's path must not be anything but a directory. A
    /// missing one is not an error here — a disk not mounted yet must not
    /// stop every command — but volctl makes it only inside the state
    /// directory (a typo would otherwise fill the root filesystem): the
    /// backend cannot be used, and says why, until it exists.
    /// [`Config::missing_paths`] lists those for `config check`.
    fn check_paths(&self, text: &str) -> std::result::Result<(), String> {
        for b in &self.backends {
            let Some(p) = &b.path else { continue };
            let at = line_of(text, b.name.span());
            // A symlink to a directory is a directory (its target is
            // checked, as the state directory's is, when it is used).
            if let Ok(m) = std::fs::metadata(p)
                && !m.is_dir()
            {
                return Err(format!(
                    "line {at}: backend `{}`: path {} is not a directory",
                    b.name(),
                    p.display()
                ));
            }
        }
        Ok(())
    }

    /// The backends whose directory is missing and that volctl will not
    /// make (outside the state directory), each with why.
    pub fn missing_paths(&self) -> Vec<String> {
        self.backends
            .iter()
            .filter_map(|b| {
                let p = b.path.as_ref()?;
                (!b.make_dir && !p.exists()).then(|| missing_dir_message(b.name(), p))
            })
            .collect()
    }

    /// Two backends on the same storage would each take the other's objects
    /// for orphans: the same directory (after defaults), or the same VG and
    /// pool, is a configuration error.
    fn check_shared_storage(&self) -> std::result::Result<(), String> {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for b in &self.backends {
            let key = match b.driver {
                DriverKind::Loopback => b.path.as_ref().map(|p| {
                    let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                    format!("directory {}", p.display())
                }),
                DriverKind::Lvm => b.volume_group.as_ref().map(|vg| match &b.thin_pool {
                    Some(pool) => format!("thin pool {vg}/{pool}"),
                    None => format!("volume group {vg} (thick)"),
                }),
            };
            if let Some(key) = key
                && let Some(other) = seen.insert(key.clone(), b.name())
            {
                return Err(format!(
                    "backends `{other}` and `{}` use the same {key}: each backend needs storage of its own",
                    b.name()
                ));
            }
        }
        Ok(())
    }

    /// Loads the configuration: `explicit` if given (it must exist), else
    /// `<state_dir>/config.toml` if it exists, else the built-in one.
    pub fn load(explicit: Option<&Path>, state_dir: &Path) -> Result<Config> {
        let implicit = state_dir.join("config.toml");
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if implicit.exists() => implicit,
            None => {
                let mut cfg = Config::builtin();
                cfg.fill_defaults(state_dir);
                return Ok(cfg);
            }
        };
        let text = crate::trust::read_file(&path, "config", crate::trust::MAX_CONFIG_BYTES)?;
        Config::parse(&text, &path, state_dir)
    }

    fn fill_defaults(&mut self, state_dir: &Path) {
        if self.backends.is_empty() {
            self.backends.push(BackendConfig {
                name: Spanned::new(0..0, "default".to_string()),
                driver: DriverKind::Loopback,
                path: None,
                capacity_gb: None,
                thin: true,
                max_over_subscription_ratio: default_ratio(),
                reserved_percentage: 0,
                availability_zone: default_zone(),
                capabilities: BTreeMap::new(),
                volume_group: None,
                thin_pool: None,
                stats_cache_seconds: default_stats_cache(),
                clear_on_delete: true,
                wipe: None,
                make_dir: false,
            });
        }
        for b in &mut self.backends {
            if b.driver == DriverKind::Loopback && b.path.is_none() {
                b.path = Some(state_dir.join("backends").join(b.name.get_ref()));
            }
            b.make_dir = b.path.as_ref().is_some_and(|p| p.starts_with(state_dir));
            // An LVM backend is thin exactly when it has a thin pool.
            if b.driver == DriverKind::Lvm {
                b.thin = b.thin_pool.is_some();
            }
        }
    }

    /// Cross-field checks, each naming the line of the offending entry.
    fn check(&self, text: &str) -> std::result::Result<(), String> {
        let line = |span: std::ops::Range<usize>| line_of(text, span);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for b in &self.backends {
            let name = b.name.get_ref().as_str();
            let at = line(b.name.span());
            if !valid_name(name) {
                return Err(format!(
                    "line {at}: backend.name `{name}` must be 1-64 letters, digits, `-`, `_` or `.`"
                ));
            }
            if let Some(first) = seen.insert(name, at) {
                return Err(format!(
                    "line {at}: backend.name `{name}` is already used on line {first}"
                ));
            }
            match b.driver {
                DriverKind::Loopback => {
                    if b.volume_group.is_some() || b.thin_pool.is_some() {
                        return Err(format!(
                            "line {at}: backend `{name}`: volume_group and thin_pool are for driver = \"lvm\""
                        ));
                    }
                    if let Some(p) = &b.path
                        && !p.is_absolute()
                    {
                        return Err(format!(
                            "line {at}: backend `{name}`: path must be absolute (got {})",
                            p.display()
                        ));
                    }
                    // `..` would let a path look inside the state directory
                    // (where volctl makes missing directories) and be outside.
                    if let Some(p) = &b.path
                        && p.components().any(|c| c == std::path::Component::ParentDir)
                    {
                        return Err(format!(
                            "line {at}: backend `{name}`: path must not contain `..` (got {})",
                            p.display()
                        ));
                    }
                }
                DriverKind::Lvm => {
                    if b.volume_group.is_none() {
                        return Err(format!(
                            "line {at}: backend `{name}`: driver = \"lvm\" needs volume_group"
                        ));
                    }
                    if b.path.is_some() {
                        return Err(format!(
                            "line {at}: backend `{name}`: path is for driver = \"loopback\""
                        ));
                    }
                }
            }
        }
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &self.volume_types {
            let name = t.name.get_ref().as_str();
            let at = line(t.name.span());
            if !valid_name(name) {
                return Err(format!(
                    "line {at}: volume_type.name `{name}` must be 1-64 letters, digits, `-`, `_` or `.`"
                ));
            }
            if let Some(first) = types.insert(name, at) {
                return Err(format!(
                    "line {at}: volume_type.name `{name}` is already used on line {first}"
                ));
            }
            for key in t.extra_specs.keys() {
                crate::store::types::check_spec_key(key)
                    .map_err(|m| format!("line {at}: volume_type `{name}`: {m}"))?;
            }
        }
        Ok(())
    }

    /// The backend named `name`.
    pub fn backend(&self, name: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.name.get_ref() == name)
    }

    /// Every availability zone a backend is in.
    pub fn zones(&self) -> Vec<&str> {
        let mut z: Vec<&str> = self
            .backends
            .iter()
            .map(|b| b.availability_zone.as_str())
            .collect();
        z.sort_unstable();
        z.dedup();
        z
    }
}

/// Why a loopback backend cannot be used while its directory is missing.
pub fn missing_dir_message(backend: &str, path: &Path) -> String {
    format!(
        "backend `{backend}`: directory {} does not exist; volctl makes backend directories only \
         inside its state directory: make it, or correct `path`",
        path.display()
    )
}

/// The line (from 1) where `span` starts in `text`.
fn line_of(text: &str, span: std::ops::Range<usize>) -> usize {
    text[..span.start.min(text.len())].lines().count().max(1)
}

/// A TOML or type error in volctl's words: the line, the key, and what the
/// value must be, not the deserializer's Rust type names.
fn explain(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim().replace(" as i128", "");
    let msg = msg.as_str();
    let Some(span) = e.span() else {
        return msg.to_string();
    };
    let at = line_of(text, span.clone())
        + usize::from(text[..span.start.min(text.len())].ends_with('\n'));
    let line = text.lines().nth(at - 1).unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let wording = [
        ("expected f64", "must be a number"),
        ("expected f32", "must be a number"),
        ("expected u64", "must be a whole number, 0 or more"),
        ("expected u32", "must be a whole number, 0 or more"),
        ("expected u16", "must be a whole number, 0 or more"),
        ("expected u8", "must be a whole number, 0 or more"),
        ("expected i64", "must be a whole number"),
        ("expected i32", "must be a whole number"),
        ("expected a boolean", "must be true or false"),
        ("expected a string", "must be a string in quotes"),
        ("number too large to fit in target type", "is too large"),
        ("number too small to fit in target type", "is too small"),
    ];
    let ranges = [
        ("expected u8", u64::from(u8::MAX)),
        ("expected u16", u64::from(u16::MAX)),
        ("expected u32", u64::from(u32::MAX)),
        ("expected u64", u64::MAX),
    ];
    let out_of_range = msg
        .contains("invalid value: integer")
        .then(|| ranges.iter().find(|(rust, _)| msg.contains(rust)))
        .flatten()
        .map(|(_, max)| format!("is out of range: a whole number from 0 to {max}"));
    let explained = out_of_range.or_else(|| {
        wording
            .iter()
            .find(|(rust, _)| msg.contains(rust))
            .map(|(_, ours)| {
                let got = msg
                    .split_once("invalid type: ")
                    .or_else(|| msg.split_once("invalid value: "))
                    .map(|(_, rest)| rest.split(", expected").next().unwrap_or(rest))
                    .map(|g| format!(" (got {g})"))
                    .unwrap_or_default();
                format!("{ours}{got}")
            })
    });
    match (key, explained) {
        (Some(k), Some(x)) => format!("line {at}: `{k}` {x}"),
        (None, Some(x)) => format!("line {at}: the value {x}"),
        (Some(k), None) => format!("line {at}: `{k}`: {msg}"),
        (None, None) => format!("line {at}: {msg}"),
    }
}

impl BackendConfig {
    /// The backend's name.
    pub fn name(&self) -> &str {
        self.name.get_ref()
    }
}

/// Every setting of the configuration file, with what it means: the
/// volctl.toml(5) page and `config show` are made from it and from
/// [`Config::builtin`]'s values (a test checks it names every setting).
pub const REFERENCE: &[(&str, &str)] = &[
    (
        "quota.volumes",
        "Default limit on the number of volumes of a project (-1: unlimited).",
    ),
    (
        "quota.gigabytes",
        "Default limit on the GiB of a project's volumes and snapshots (-1: unlimited).",
    ),
    (
        "quota.snapshots",
        "Default limit on the number of snapshots of a project (-1: unlimited).",
    ),
    (
        "quota.per_volume_gigabytes",
        "Largest single volume, GiB (-1: unlimited).",
    ),
    (
        "quota.reservation_expire",
        "Seconds after which a reservation no flow committed is given back.",
    ),
    (
        "scheduler.max_attempts",
        "Scheduling attempts per volume in all; 1 disables rescheduling onto another backend.",
    ),
    (
        "scheduler.default_availability_zone",
        "Zone for requests that name none and have no source (default: any).",
    ),
    (
        "backend[].name",
        "Unique name of the backend (letters, digits, -, _ and .).",
    ),
    (
        "backend[].driver",
        "\"loopback\" (sparse files in a directory) or \"lvm\" (logical volumes of a volume group).",
    ),
    (
        "backend[].path",
        "Loopback: the directory of volume files; an existing directory, or one inside the state directory (default <state-dir>/backends/<name>).",
    ),
    (
        "backend[].capacity_gb",
        "Capacity to report, GiB (default: the filesystem's or the volume group's size).",
    ),
    (
        "backend[].thin",
        "Thin provisioning (sparse files; for LVM, set by thin_pool).",
    ),
    (
        "backend[].max_over_subscription_ratio",
        "How far thin volumes may over-subscribe the real capacity: up to capacity × ratio is handed out.",
    ),
    (
        "backend[].reserved_percentage",
        "Percentage of the capacity kept free (0-100).",
    ),
    (
        "backend[].availability_zone",
        "The zone of the backend: a named group of backends a request can ask for.",
    ),
    (
        "backend[].capabilities",
        "What the backend offers, matched by volume types' extra specs: { tier = \"ssd\", iops = 5000 }.",
    ),
    ("backend[].volume_group", "LVM: the volume group."),
    (
        "backend[].thin_pool",
        "LVM: a thin pool in the volume group (thin volumes); without it, volumes are thick LVs.",
    ),
    (
        "backend[].stats_cache_seconds",
        "How long capacity figures are cached in the store, seconds; every change volctl makes refreshes them.",
    ),
    (
        "backend[].clear_on_delete",
        "LVM, thick: zero a volume's LV when it is deleted, so no new volume shows old data.",
    ),
    (
        "backend[].wipe",
        "What deleting a volume does to its data: \"none\", \"discard\" or \"zero\" (a type's volctl:wipe overrides it).",
    ),
    (
        "volume_type[].name",
        "Name of a volume type defined by the configuration.",
    ),
    (
        "volume_type[].extra_specs",
        "Its extra specs: requirements a backend's capabilities must meet (\"capabilities:tier\" = \"ssd\"), or volctl's own settings (\"volctl:wipe\").",
    ),
    (
        "images.max_virtual_size_gb",
        "Largest virtual size of an image accepted into the catalog, GiB.",
    ),
    (
        "images.inspect_timeout_seconds",
        "Wall-clock limit of each inspection of an image (qemu-img info, check), seconds.",
    ),
    (
        "image_cache.enabled",
        "Keep a copy of each image on each backend it was used on, so the next create from it is a copy.",
    ),
    (
        "image_cache.max_size_gb",
        "Largest size of a backend's image cache, GiB; least recently used entries are evicted past it.",
    ),
    (
        "policy.retry_in_place",
        "Failure kinds retried on the same backend first, and how many times: { transient = 2 }.",
    ),
    (
        "policy.reschedule",
        "Failure kinds that reschedule a create onto another backend (backend, no_space, transient).",
    ),
    (
        "policy.backoff_ms",
        "First wait before a retry in place, milliseconds (doubling).",
    ),
    (
        "policy.max_backoff_ms",
        "Longest wait between retries in place, milliseconds.",
    ),
    (
        "events.jsonl",
        "A file every event is appended to, as a JSON line.",
    ),
    (
        "events.exec",
        "A shell command every event is piped to, as JSON lines on its stdin.",
    ),
    (
        "events.exec_timeout_seconds",
        "How long events.exec may run before it is killed (its events are sent again next time).",
    ),
    (
        "retention.flows",
        "How long finished flows are kept (7d, 12h, 30m).",
    ),
    (
        "retention.events",
        "How long events are kept once every sink has them.",
    ),
    (
        "recovery.grace",
        "How long a flow stopped half-way (its process gone) stays untouched before it is settled by policy.",
    ),
    (
        "recovery.revert_retries",
        "How many times a failed revert is tried again before its flow is marked as needing a person.",
    ),
    (
        "recovery.revert_backoff",
        "The wait before a failed revert is tried again (doubling each time).",
    ),
    (
        "recovery.policy",
        "Rules over the built-in ones: default, an operation (create) or \"operation/step\" (a flow or task of it) = \"resume\", \"rollback\" or \"leave\".",
    ),
];

/// The [`REFERENCE`] entry a dotted key (`backend[0].path`,
/// `policy.retry_in_place.transient`) falls under.
pub fn reference_of(key: &str) -> Option<&'static str> {
    let mut general = String::new();
    let mut rest = key;
    while let Some(open) = rest.find('[') {
        general.push_str(&rest[..open]);
        general.push_str("[]");
        rest = rest[open..].split_once(']').map(|(_, r)| r).unwrap_or("");
    }
    general.push_str(rest);
    REFERENCE
        .iter()
        .filter(|(k, _)| general == *k || general.starts_with(&format!("{k}.")))
        .map(|(_, d)| *d)
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/v.toml"), Path::new("/state"))
    }

    #[test]
    fn builtin_has_one_loopback_backend_under_the_state_dir() {
        let cfg = Config::load(None, Path::new("/nonexistent-state")).unwrap();
        assert_eq!(cfg.backends.len(), 1);
        let b = &cfg.backends[0];
        assert_eq!(b.name(), "default");
        assert_eq!(b.driver, DriverKind::Loopback);
        assert_eq!(
            b.path.as_deref(),
            Some(Path::new("/nonexistent-state/backends/default"))
        );
        assert_eq!(cfg.quota.volumes, 10);
        assert_eq!(cfg.scheduler.max_attempts, 3);
    }

    #[test]
    fn the_documented_example_parses() {
        let cfg = parse(
            r#"
[quota]
volumes = 10
gigabytes = 1000
per_volume_gigabytes = -1
[scheduler]
max_attempts = 3
[[backend]]
name = "fast"
driver = "loopback"
path = "/state/fast"
capacity_gb = 100
thin = true
max_over_subscription_ratio = 20.0
reserved_percentage = 0
availability_zone = "nova"
capabilities = { tier = "ssd", iops = 5000, replicated = true }
[[volume_type]]
name = "fast"
extra_specs = { "capabilities:tier" = "ssd" }
"#,
        )
        .unwrap();
        let b = cfg.backend("fast").unwrap();
        assert_eq!(b.capacity_gb, Some(100.0));
        assert_eq!(b.capabilities["iops"], Capability::Integer(5000));
        assert_eq!(b.capabilities["replicated"].to_string(), "True");
        assert_eq!(
            serde_json::to_value(&b.capabilities).unwrap(),
            serde_json::json!({"tier": "ssd", "iops": 5000, "replicated": true})
        );
        assert_eq!(cfg.volume_types[0].extra_specs["capabilities:tier"], "ssd");
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e =
            parse("[[backend]]\nname = \"a\"\ndriver = \"loopback\"\nreserved_percentage = 150\n")
                .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Invalid);
        assert!(e.message.contains("/etc/v.toml"), "{}", e.message);
        assert!(e.message.contains("line 4"), "{}", e.message);
        assert!(e.message.contains("reserved_percentage"), "{}", e.message);
        assert!(
            e.message.contains("from 0 to 100 (got 150)"),
            "{}",
            e.message
        );

        let e = parse("[quota]\nvolumez = 3\n").unwrap_err();
        assert!(
            e.message.contains("line 2") && e.message.contains("volumez"),
            "{}",
            e.message
        );

        let e = parse("[[backend]]\nname = \"a\"\ndriver = \"floppy\"\n").unwrap_err();
        assert!(
            e.message.contains("line 3") && e.message.contains("floppy"),
            "{}",
            e.message
        );

        let e = parse(
            "[[backend]]\nname = \"a\"\ndriver = \"loopback\"\n[[backend]]\nname = \"a\"\ndriver = \"loopback\"\n",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("line 5: backend.name `a` is already used on line 2"),
            "{}",
            e.message
        );

        let e = parse("[[backend]]\nname = \"a b\"\ndriver = \"loopback\"\n").unwrap_err();
        assert!(e.message.contains("line 2: backend.name"), "{}", e.message);

        let e = parse("[[backend]]\nname = \"v\"\ndriver = \"lvm\"\n").unwrap_err();
        assert!(e.message.contains("needs volume_group"), "{}", e.message);

        let e = parse("[scheduler]\nmax_attempts = 0\n").unwrap_err();
        assert!(
            e.message.contains("max_attempts") && e.message.contains("from 1 to"),
            "{}",
            e.message
        );
    }

    #[test]
    fn policy_kinds_are_typed_and_checked() {
        let cfg = parse("[policy]\nretry_in_place = { transient = 3, backend = 1 }\nreschedule = [\"no_space\"]\n").unwrap();
        assert_eq!(cfg.policy.retry_in_place[&ErrorKind::Transient], 3);
        assert_eq!(cfg.policy.reschedule, vec![ErrorKind::NoSpace]);
        let e = parse("[policy]\nreschedule = [\"bad_image\"]\n").unwrap_err();
        assert!(
            e.message.contains("line 2")
                && e.message.contains("`bad_image` is not a backend fault"),
            "{}",
            e.message
        );
        let e = parse("[policy]\nretry_in_place = { sometimes = 1 }\n").unwrap_err();
        assert!(
            e.message.contains("line 2") && e.message.contains("sometimes"),
            "{}",
            e.message
        );
        let d = Config::builtin();
        assert_eq!(d.policy.reschedule, BACKEND_FAULTS.to_vec());
    }

    #[test]
    fn missing_explicit_config_is_an_error_naming_it() {
        let e = Config::load(Some(Path::new("/no/such.toml")), Path::new("/s")).unwrap_err();
        assert!(e.message.contains("/no/such.toml"));
    }

    #[test]
    fn a_backend_path_must_be_a_directory_and_is_made_only_inside_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let cfg = |path: &Path| {
            format!(
                "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"{}\"\n",
                path.display()
            )
        };
        let err = parse(&cfg(&file)).unwrap_err().message;
        assert!(
            err.contains("line 2: backend `b`: path") && err.contains("is not a directory"),
            "{err}"
        );
        let missing = parse(&cfg(Path::new("/nonexistent/dir/x"))).unwrap();
        assert!(!missing.backends[0].make_dir);
        assert_eq!(missing.missing_paths().len(), 1);
        assert!(missing.missing_paths()[0].contains("does not exist"));
        assert!(parse(&cfg(dir.path())).unwrap().missing_paths().is_empty());
        let inside = parse(&cfg(Path::new("/state/backends/new"))).unwrap();
        assert!(inside.backends[0].make_dir && inside.missing_paths().is_empty());
    }

    #[test]
    fn a_misspelt_extra_spec_scope_is_an_error_with_a_suggestion() {
        let err = parse(
            "[[volume_type]]\nname = \"t\"\nextra_specs = { \"capabilites:tier\" = \"ssd\" }\n",
        )
        .unwrap_err()
        .message;
        assert!(
            err.contains("line 2: volume_type `t`: extra spec `capabilites:tier`: unknown scope `capabilites` (did you mean `capabilities`?)"),
            "{err}"
        );
        let err =
            parse("[[volume_type]]\nname = \"t\"\nextra_specs = { \"volctl:wip\" = \"zero\" }\n")
                .unwrap_err()
                .message;
        assert!(err.contains("did you mean `volctl:wipe`?"), "{err}");
    }

    #[test]
    fn out_of_range_and_mistyped_numbers_are_explained_with_key_and_line() {
        let err = parse("[scheduler]\nmax_attempts = 99999999999\n")
            .unwrap_err()
            .message;
        assert!(
            err.contains(
                "line 2: `max_attempts`: is out of range: a whole number from 1 to 4294967295 (got 99999999999)"
            ),
            "{err}"
        );
        let err = parse("[scheduler]\nmax_attempts = 99999999999999999999\n")
            .unwrap_err()
            .message;
        assert!(
            err.contains("line 2: `max_attempts`") && !err.contains("i128"),
            "{err}"
        );
        for (text, want) in [
            (
                "[scheduler]\nmax_attempts = 0\n",
                "from 1 to 4294967295 (got 0)",
            ),
            (
                "[scheduler]\nmax_attempts = -1\n",
                "from 1 to 4294967295 (got -1)",
            ),
            (
                "[quota]\nvolumes = -7\n",
                "`volumes`: is out of range: a whole number from -1 to",
            ),
            (
                "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\nreserved_percentage = -1\n",
                "`reserved_percentage`: is out of range: a whole number from 0 to 100 (got -1)",
            ),
        ] {
            let err = parse(text).unwrap_err().message;
            assert!(err.contains(want), "{text}: {err}");
        }
        let err =
            parse("[[backend]]\nname = \"b\"\ndriver = \"loopback\"\ncapacity_gb = \"ten\"\n")
                .unwrap_err()
                .message;
        assert!(
            err.contains("line 4: `capacity_gb` must be a number (got string \"ten\")"),
            "{err}"
        );
        assert!(!err.contains("f64"), "{err}");
        let err = parse("[[backend]]\nname = \"b\"\ndriver = \"loopback\"\nthin = 1\n")
            .unwrap_err()
            .message;
        assert!(
            err.contains("line 4: `thin` must be true or false"),
            "{err}"
        );
    }

    #[test]
    fn the_reference_names_every_setting() {
        let mut cfg = Config::builtin();
        cfg.fill_defaults(Path::new("/state"));
        let full = parse(
            "[scheduler]\ndefault_availability_zone = \"z\"\n[events]\njsonl = \"/tmp/e\"\nexec = \"cat\"\n\
             [[backend]]\nname = \"l\"\ndriver = \"lvm\"\nvolume_group = \"vg\"\nthin_pool = \"p\"\ncapacity_gb = 1\nwipe = \"zero\"\n\
             [[volume_type]]\nname = \"t\"\nextra_specs = { a = \"b\" }\n",
        )
        .unwrap();
        fn keys(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) if !m.is_empty() => {
                    for (k, v) in m {
                        keys(
                            &if prefix.is_empty() {
                                k.clone()
                            } else {
                                format!("{prefix}.{k}")
                            },
                            v,
                            out,
                        )
                    }
                }
                serde_json::Value::Array(a) if a.iter().all(|e| e.is_object()) && !a.is_empty() => {
                    for (i, v) in a.iter().enumerate() {
                        keys(&format!("{prefix}[{i}]"), v, out)
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let mut all = Vec::new();
        keys("", &serde_json::to_value(&cfg).unwrap(), &mut all);
        keys("", &serde_json::to_value(&full).unwrap(), &mut all);
        for key in all.iter().filter(|k| *k != "volume_type") {
            assert!(
                reference_of(key).is_some(),
                "config::REFERENCE does not explain `{key}`"
            );
        }
    }
}
