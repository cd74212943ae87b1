//! `create`, `list`, `show`, `delete`, `attach`, `detach`.

use clap::Args;

use super::Ctx;
use super::output::{self, or_dash};
use crate::api::{CreateRequest, SourceRef};
use crate::backends::AttachMode;
use crate::error::{Error, Result};
use crate::ops::DryRun;
use crate::store::volumes::Volume;

/// A volume size argument (`512M`, `10G`, `1.5T`; a plain number is GiB).
fn size_arg(s: &str) -> std::result::Result<crate::units::Bytes, String> {
    crate::units::parse_volume_size(s).map_err(|e| e.message)
}

/// `volctl create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Size: with a binary unit (512M, 8G, 1.5T), a plain number is GiB;
    /// rounded up to a whole MiB [default: the source's, when there is one]
    #[arg(long, short, value_parser = size_arg)]
    size: Option<crate::units::Bytes>,
    /// Name, unique in the project
    #[arg(long, short)]
    name: Option<String>,
    /// Volume type (name or id)
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    volume_type: Option<String>,
    /// Availability zone: a named group of backends (each backend says
    /// which it is in; the default is `nova`, as in OpenStack); the volume
    /// goes to a backend in this one [default: any]
    #[arg(long, short = 'z')]
    zone: Option<String>,
    /// Make it from an image in the catalog (name or id)
    #[arg(long, value_name = "IMAGE", group = "source")]
    from_image: Option<String>,
    /// Make it from a snapshot (name or id)
    #[arg(long, value_name = "SNAPSHOT", group = "source")]
    from_snapshot: Option<String>,
    /// Make it a clone of another volume (name or id)
    #[arg(long, value_name = "VOLUME", group = "source")]
    from_volume: Option<String>,
    /// Also attach it to a loop device
    #[arg(long)]
    attach: bool,
    /// A label KEY=VALUE (repeatable)
    #[arg(long = "label", short = 'l', value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Let `volctl gc` delete it after this long (90s, 15m, 2h, 7d)
    #[arg(long, value_name = "DURATION", conflicts_with = "expires_at")]
    ttl: Option<String>,
    /// Let `volctl gc` delete it after this time (RFC 3339, UTC)
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,
    /// If a volume of this name exists with the same size, type and source,
    /// it is the result (exit 0; one still being made is waited for); with
    /// another spec, exit 6 naming the difference
    #[arg(long, requires = "name", conflicts_with = "dry_run")]
    if_not_exists: bool,
    /// Only validate and schedule: print every backend's filter verdicts,
    /// with the figures behind them, and the weights; create nothing
    #[arg(long, conflicts_with = "attach")]
    dry_run: bool,
}

impl CreateArgs {
    fn source(&self) -> Option<SourceRef> {
        self.from_image
            .clone()
            .map(SourceRef::Image)
            .or_else(|| self.from_snapshot.clone().map(SourceRef::Snapshot))
            .or_else(|| self.from_volume.clone().map(SourceRef::Volume))
    }
}

/// `volctl list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Volumes of every project
    #[arg(long)]
    all_projects: bool,
    #[command(flatten)]
    filter: FilterArgs,
    /// Print only the ids, one per line
    #[arg(long, conflicts_with = "json")]
    ids: bool,
}

/// Which volumes (`list`, `delete`): every filter given must match.
#[derive(Args, Debug, Default)]
pub struct FilterArgs {
    /// In this status (available, in-use, error, downloading — being
    /// filled from an image —, ...)
    #[arg(long)]
    status: Option<crate::store::volumes::VolumeStatus>,
    /// Named so: a glob (* any run, ? one character)
    #[arg(long = "name", value_name = "GLOB")]
    name_glob: Option<String>,
    /// On this backend
    #[arg(long)]
    backend: Option<String>,
    /// Of this volume type
    #[arg(long = "type", value_name = "TYPE")]
    type_name: Option<String>,
    /// Carrying this label (repeatable: all of them)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
}

impl FilterArgs {
    fn filter(&self, project: Option<&str>) -> Result<crate::scripts::Filter> {
        Ok(crate::scripts::Filter {
            project: project.map(String::from),
            status: self.status,
            name: self.name_glob.clone(),
            backend: self.backend.clone(),
            type_name: self.type_name.clone(),
            labels: crate::labels::parse_all(&self.labels)?,
        })
    }
}

/// A command on one volume.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Volume id, id prefix or name
    volume: String,
}

/// `volctl delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Volume ids, id prefixes or names
    #[arg(required_unless_present = "labels")]
    volumes: Vec<String>,
    /// Every volume of the project carrying this label (repeatable: all of
    /// them), as a CI job cleans up after itself
    #[arg(long = "label", value_name = "KEY=VALUE", conflicts_with = "volumes")]
    labels: Vec<String>,
    /// A volume that does not exist is not an error (it is what was asked)
    #[arg(long)]
    ignore_not_found: bool,
    /// Also delete attached volumes, detaching them first (a mounted or
    /// held device is never detached, even so)
    #[arg(long)]
    force: bool,
    /// Delete the volumes' snapshots first (in the same flow)
    #[arg(long)]
    cascade: bool,
}

/// `volctl extend`.
#[derive(Args, Debug)]
pub struct ExtendArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// The new size, as `create --size` takes it (larger than now; the
    /// size it already has is a no-op). An attached volume grows in place:
    /// its device shows the new size at once
    #[arg(long, value_parser = size_arg)]
    size: crate::units::Bytes,
}

/// `volctl export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// VOLUME FILE, or with --snapshot just FILE
    #[arg(num_args = 1..=2, required = true, value_names = ["VOLUME", "FILE"])]
    targets: Vec<String>,
    /// Export this snapshot (id, prefix or name) instead of a volume
    #[arg(long, value_name = "SNAPSHOT")]
    snapshot: Option<String>,
    /// The file's format
    #[arg(long, default_value = "raw", value_parser = ["raw", "qcow2"])]
    format: String,
    /// Compress (qcow2 only)
    #[arg(long)]
    compress: bool,
    /// Replace an existing file; export an in-use volume (whatever is on
    /// disk at each moment: snapshot it first for a consistent copy)
    #[arg(long)]
    force: bool,
}

/// `volctl manage`.
#[derive(Args, Debug)]
pub struct ManageArgs {
    /// A raw file in the backend's directory (loopback) or an LV name in
    /// its VG (LVM)
    object: String,
    /// The backend it is on
    #[arg(long)]
    backend: String,
    /// The volume's name
    #[arg(long, short)]
    name: Option<String>,
}

/// `volctl migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// The backend to move it to
    #[arg(long)]
    backend: String,
}

/// `volctl retype`.
#[derive(Args, Debug)]
pub struct RetypeArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// The new volume type
    #[arg(long = "type", value_name = "TYPE")]
    volume_type: String,
    /// If its backend does not satisfy the type, move it to one that does
    #[arg(long)]
    migrate: bool,
}

/// `volctl rename`.
#[derive(Args, Debug)]
pub struct RenameArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// Its new name
    name: String,
}

/// `volctl attach`.
#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Volume id, id prefix or name
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    volume: Option<String>,
    /// Re-establish every attachment that should exist: each `in-use`
    /// volume whose device is gone (after a reboot) is attached again
    #[arg(long)]
    all: bool,
    /// With --all: the volumes of every project (what a boot-time unit wants)
    #[arg(long, requires = "all")]
    all_projects: bool,
    /// Refuse writes through the device (the kernel does; on LVM the LV's
    /// permission becomes read-only until it is detached)
    #[arg(long, conflicts_with = "all")]
    read_only: bool,
    /// Make a device per partition of the volume's partition table
    /// (`/dev/loopNpM`; loop devices only)
    #[arg(long, conflicts_with = "all")]
    partscan: bool,
}

fn summary(v: &Volume) -> String {
    format!(
        "volume {} {}: {} on {} at {}{}",
        v.id,
        v.status,
        v.size.human(),
        or_dash(v.backend.as_deref()),
        or_dash(v.path.as_deref()),
        v.device
            .as_deref()
            .map(|d| format!(", attached to {d} ({})", v.attach_mode.unwrap_or_default()))
            .unwrap_or_default()
    )
}

fn print_volume(ctx: &Ctx, v: &Volume, line: String) {
    ctx.render(v, || {
        ctx.note(&summary(v));
        output::line(&line);
    });
}

pub fn create(ctx: &Ctx, a: &CreateArgs) -> Result<()> {
    let ops = ctx.ops();
    let expires_at = match (&a.ttl, &a.expires_at) {
        (Some(ttl), _) => Some(crate::wait::expiry_in(crate::wait::parse_duration(ttl)?)?),
        (None, Some(t)) => Some(crate::wait::check_timestamp(t)?),
        (None, None) => None,
    };
    let req = CreateRequest {
        size: a.size,
        name: a.name.clone(),
        volume_type: a.volume_type.clone(),
        zone: a.zone.clone(),
        project: ctx.global.project.clone(),
        source: a.source(),
        labels: crate::labels::parse_all(&a.labels)?,
        expires_at,
    };
    if a.dry_run {
        return dry_run(ctx, &ops.dry_run(&req)?);
    }
    // `existing`: with --if-not-exists, whether the volume was there.
    let (mut v, existing) = if a.if_not_exists {
        let e = ops.ensure(&req)?;
        (e.volume, Some(e.existing))
    } else {
        (ops.create(&req)?, None)
    };
    if a.attach {
        v = ops.attach(&v.id, AttachMode::default()).map_err(|e| {
            let how = if existing == Some(true) {
                "exists"
            } else {
                "was created"
            };
            e.context(format!("volume {} {how} but attaching it failed", v.id))
        })?;
    }
    let line = match &v.device {
        Some(d) => format!("{} {d}", v.id),
        None => v.id.clone(),
    };
    match existing {
        None => print_volume(ctx, &v, line),
        Some(existing) => {
            let e = crate::scripts::Ensured {
                volume: v,
                existing,
            };
            ctx.render(&e, || {
                if e.existing {
                    ctx.note(&format!(
                        "volume `{}` exists already",
                        e.volume.name.as_deref().unwrap_or("")
                    ));
                }
                ctx.note(&summary(&e.volume));
                output::line(&line);
            });
        }
    }
    Ok(())
}

fn dry_run(ctx: &Ctx, d: &DryRun) -> Result<()> {
    let r = &d.request;
    ctx.render(d, || {
        output::line(&format!(
            "request: {}, type {}, zone {}, from {}{}",
            r.size.human(),
            or_dash(r.type_name.as_deref()),
            r.zone.as_deref().unwrap_or("any"),
            r.source_kind.as_str(),
            r.pinned_backend
                .as_deref()
                .map(|b| format!(" (pinned to {b})"))
                .unwrap_or_default()
        ));
        output::line("quota: ok");
        output::line("backends:");
        print!("{}", d.decision.explain(true));
        match &d.decision.chosen {
            Some(b) => output::line(&format!("would create it on: {b}")),
            None => output::line("would create it on: nothing — no valid backend"),
        }
    });
    match &d.decision.chosen {
        Some(_) => Ok(()),
        None => Err(Error::new(
            crate::error::ErrorKind::NoValidBackend,
            "dry run: no valid backend",
        )),
    }
}

pub fn list(ctx: &Ctx, a: &ListArgs) -> Result<()> {
    let project = (!a.all_projects).then_some(ctx.global.project.as_str());
    let vols = ctx.reader().select(&a.filter.filter(project)?)?;
    if ctx.global.json {
        output::json(&vols);
        return Ok(());
    }
    if a.ids {
        for v in &vols {
            output::line(&v.id);
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = vols
        .iter()
        .map(|v| {
            let mut row = vec![
                v.id.clone(),
                or_dash(v.name.as_deref()),
                v.size.human(),
                super::style::state(&v.status.to_string()),
                or_dash(v.backend.as_deref()),
                or_dash(v.device.as_deref()),
                or_dash(v.type_name.as_deref()),
            ];
            if a.all_projects {
                row.push(v.project.clone());
            }
            row
        })
        .collect();
    let mut header = vec!["ID", "NAME", "SIZE", "STATUS", "BACKEND", "DEVICE", "TYPE"];
    if a.all_projects {
        header.push("PROJECT");
    }
    output::table(&header, &rows);
    Ok(())
}

/// A volume of the current project by id, id prefix or name.
pub(crate) fn find(ctx: &Ctx, key: &str) -> Result<Volume> {
    ctx.reader().find_volume(Some(&ctx.global.project), key)
}

pub fn show(ctx: &Ctx, a: &ShowArgs) -> Result<()> {
    let ops = ctx.reader();
    let v = ops.observed(&find(ctx, &a.volume)?);
    ctx.render(&v, || {
        output::volume_fields(&v);
        if let Err(e) = ops.guard(&v.id) {
            output::line(&format!("note        {}", e.message));
        }
    });
    Ok(())
}

pub fn delete(ctx: &Ctx, a: &DeleteArgs) -> Result<()> {
    let ops = ctx.ops();
    let mut first_error: Option<Error> = None;
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    let mut not_found = Vec::new();
    // By label: the project's volumes carrying them, by id.
    let keys: Vec<String> = if a.labels.is_empty() {
        a.volumes.clone()
    } else {
        let filter = FilterArgs {
            labels: a.labels.clone(),
            ..FilterArgs::default()
        };
        ops.select(&filter.filter(Some(&ctx.global.project))?)?
            .into_iter()
            .map(|v| v.id)
            .collect()
    };
    for key in &keys {
        let r =
            find(ctx, key).and_then(|v| ops.delete_with(&v.id, a.force, a.cascade).map(|()| v.id));
        match r {
            Ok(id) => {
                if !ctx.global.json {
                    output::line(&id);
                }
                deleted.push(id);
            }
            // Gone already (or meanwhile): what was asked for.
            Err(e)
                if e.kind == crate::error::ErrorKind::NotFound
                    && (a.ignore_not_found || !a.labels.is_empty()) =>
            {
                not_found.push(key.clone());
            }
            Err(e) => {
                if keys.len() > 1 {
                    output::note(&format!("error: {key}: {}", e.message));
                }
                failed.push(
                    serde_json::json!({ "volume": key, "kind": e.kind, "message": e.message }),
                );
                first_error.get_or_insert(e);
            }
        }
    }
    let Some(e) = first_error else {
        if ctx.global.json {
            output::json(&serde_json::json!({ "deleted": deleted, "not_found": not_found }));
        }
        return Ok(());
    };
    // One JSON document either way: a failure carries what was deleted and
    // what was not, and why, in its details.
    let e = if keys.len() > 1 {
        Error::new(
            e.kind,
            format!("{} of {} volumes not deleted", failed.len(), keys.len()),
        )
    } else {
        e
    };
    Err(e.with_details(
        serde_json::json!({ "deleted": deleted, "failed": failed, "not_found": not_found }),
    ))
}

pub fn attach(ctx: &Ctx, a: &AttachArgs) -> Result<()> {
    let ops = ctx.ops();
    let Some(key) = &a.volume else {
        return attach_all(
            ctx,
            (!a.all_projects).then_some(ctx.global.project.as_str()),
        );
    };
    let v = find(ctx, key)?;
    let mode = AttachMode {
        read_only: a.read_only,
        partscan: a.partscan,
    };
    let v = ops.attach(&v.id, mode)?;
    let device = v.device.clone().unwrap_or_default();
    print_volume(ctx, &v, device);
    Ok(())
}

fn attach_all(ctx: &Ctx, project: Option<&str>) -> Result<()> {
    let ops = ctx.ops();
    let mut failed = 0;
    let mut done = Vec::new();
    for (v, r) in ops.attach_all(project)? {
        match r {
            Ok(anew) => {
                if !ctx.global.json {
                    let how = if anew { "attached again" } else { "attached" };
                    output::line(&format!(
                        "{} {} ({how})",
                        v.id,
                        v.device.as_deref().unwrap_or("-")
                    ));
                }
                done.push(v);
            }
            Err(e) => {
                failed += 1;
                output::note(&format!("error: {}: {}", v.id, e.message));
            }
        }
    }
    if ctx.global.json {
        output::json(&done);
    }
    if failed > 0 {
        return Err(Error::new(
            crate::error::ErrorKind::Backend,
            format!("{failed} volume(s) could not be attached again"),
        ));
    }
    Ok(())
}

pub fn extend(ctx: &Ctx, a: &ExtendArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let v = ctx.ops().extend(&v.id, a.size)?;
    let line = format!("{} {}", v.id, v.size.human());
    print_volume(ctx, &v, line);
    Ok(())
}

pub fn export(ctx: &Ctx, a: &ExportArgs) -> Result<()> {
    use crate::manager::export_volume::{ExportRequest, Source};
    let (source, id, file) = match (&a.snapshot, a.targets.as_slice()) {
        (Some(snap), [file]) => {
            let s = crate::store::snapshots::find(
                &ctx.svc.store.db().lock(),
                Some(&ctx.global.project),
                snap,
            )?;
            (Source::Snapshot, s.id, file)
        }
        (None, [vol, file]) => (Source::Volume, find(ctx, vol)?.id, file),
        (Some(_), _) => return Err(Error::invalid("with --snapshot, give only the FILE")),
        (None, _) => return Err(Error::invalid("give the VOLUME and the FILE")),
    };
    let file = std::path::absolute(file).map_err(|e| Error::invalid(format!("{file}: {e}")))?;
    let req = ExportRequest {
        source,
        id,
        file,
        format: crate::backends::Format::parse(&a.format)?,
        compress: a.compress,
        force: a.force,
    };
    let done = ctx.ops().export(&req)?;
    ctx.render(&done, || output::line(&done.file.display().to_string()));
    Ok(())
}

pub fn manage(ctx: &Ctx, a: &ManageArgs) -> Result<()> {
    let req = crate::manager::manage_volume::ManageRequest {
        backend: a.backend.clone(),
        object: a.object.clone(),
        name: a.name.clone(),
        project: ctx.global.project.clone(),
    };
    let v = ctx.ops().manage(&req)?;
    let id = v.id.clone();
    print_volume(ctx, &v, id);
    Ok(())
}

pub fn unmanage(ctx: &Ctx, a: &ShowArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let path = ctx.ops().unmanage(&v.id)?;
    let doc = serde_json::json!({ "id": v.id, "path": path });
    ctx.render(&doc, || output::line(&path));
    Ok(())
}

pub fn migrate(ctx: &Ctx, a: &MigrateArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let v = ctx.ops().migrate(&v.id, &a.backend)?;
    let line = format!("{} {}", v.id, v.backend.as_deref().unwrap_or("-"));
    print_volume(ctx, &v, line);
    Ok(())
}

pub fn retype(ctx: &Ctx, a: &RetypeArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let v = ctx.ops().retype(&v.id, &a.volume_type, a.migrate)?;
    let line = format!("{} {}", v.id, v.type_name.as_deref().unwrap_or("-"));
    print_volume(ctx, &v, line);
    Ok(())
}

pub fn rename(ctx: &Ctx, a: &RenameArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let v = ctx.ops().rename(&v.id, &a.name)?;
    let line = format!("{} {}", v.id, a.name);
    print_volume(ctx, &v, line);
    Ok(())
}

pub fn detach(ctx: &Ctx, a: &ShowArgs) -> Result<()> {
    let v = find(ctx, &a.volume)?;
    let ops = ctx.ops();
    let v = ops.detach(&v.id)?;
    let id = v.id.clone();
    print_volume(ctx, &v, id);
    Ok(())
}
