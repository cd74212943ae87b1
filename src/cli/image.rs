//! `volctl image import|create|list|show|delete`.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::output::{self, or_dash};
use crate::backends::Format;
use crate::error::Result;
use crate::store::images::{self, CacheEntry, Image};

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Import an image file (raw or qcow2) into the catalog
    Import {
        /// The image file
        file: PathBuf,
        /// Name [default: the file's name]
        #[arg(long, short)]
        name: Option<String>,
        /// Expected format: raw or qcow2 [default: detected from the content]
        #[arg(long, value_parser = ["raw", "qcow2"])]
        format: Option<String>,
    },
    /// Make an image of a volume or a snapshot (Cinder's upload-to-image),
    /// so new volumes can be made from it
    Create {
        /// Its name
        #[arg(long, short)]
        name: String,
        /// The volume (id, id prefix or name); it must not be in use
        #[arg(
            long,
            value_name = "VOLUME",
            required_unless_present = "from_snapshot",
            conflicts_with = "from_snapshot"
        )]
        from_volume: Option<String>,
        /// A snapshot instead (a consistent copy of an in-use volume)
        #[arg(long, value_name = "SNAPSHOT")]
        from_snapshot: Option<String>,
        /// The catalog copy's format
        #[arg(long, default_value = "raw", value_parser = ["raw", "qcow2"])]
        format: String,
    },
    /// List images
    #[command(visible_alias = "ls")]
    List,
    /// Show one image and where it is cached
    Show {
        /// Image name or id
        image: String,
    },
    /// Delete an image and its cache entries
    #[command(visible_alias = "rm")]
    Delete {
        /// Image name or id
        image: String,
    },
}

/// `image show --json`: the image and its cache entries.
#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    image: Image,
    cache: Vec<CacheEntry>,
}

fn gib(bytes: u64) -> String {
    crate::units::Bytes(bytes).human()
}

/// An image as `import` and `create` print it: its id, and a summary
/// (ending in `more`) for a person.
fn print_image(ctx: &Ctx, image: &Image, more: &str) {
    ctx.render(image, || {
        ctx.note(&format!(
            "image {} `{}`: {}, virtual size {}{more}",
            image.id,
            image.name,
            image.format,
            gib(image.virtual_size)
        ));
        output::line(&image.id);
    });
}

pub fn run(ctx: &Ctx, cmd: &ImageCommand) -> Result<()> {
    let db = ctx.svc.store.db();
    match cmd {
        ImageCommand::Import { file, name, format } => {
            let format = format.as_deref().map(Format::parse).transpose()?;
            let source = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            let image = ctx
                .ops()
                .image_import(&source.to_string_lossy(), name.as_deref(), format)
                .map_err(|e| e.context(format!("image {}", file.display())))?;
            print_image(ctx, &image, "");
        }
        ImageCommand::Create {
            name,
            from_volume,
            from_snapshot,
            format,
        } => {
            use crate::manager::export_volume::Source;
            let (source, id) = match (from_volume, from_snapshot) {
                (Some(v), _) => (Source::Volume, super::volume::find(ctx, v)?.id),
                (None, Some(s)) => (
                    Source::Snapshot,
                    crate::store::snapshots::find(&db.lock(), Some(&ctx.global.project), s)?.id,
                ),
                (None, None) => {
                    return Err(crate::error::Error::invalid(
                        "give --from-volume or --from-snapshot",
                    ));
                }
            };
            let image = ctx
                .ops()
                .image_from_volume(name, source, &id, Format::parse(format)?)?;
            print_image(ctx, &image, &format!(", from {id}"));
        }
        ImageCommand::List => {
            let all = images::list(&db.lock())?;
            ctx.render(&all, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|i| {
                        vec![
                            i.name.clone(),
                            i.id.clone(),
                            i.format.to_string(),
                            gib(i.virtual_size),
                            gib(i.size),
                            super::style::state(&i.status.to_string()),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "NAME",
                        "ID",
                        "FORMAT",
                        "VIRTUAL SIZE",
                        "FILE SIZE",
                        "STATUS",
                    ],
                    &rows,
                );
            });
        }
        ImageCommand::Show { image } => {
            let conn = db.lock();
            let image = images::find(&conn, image)?;
            let cache = images::cache_list(&conn, None, Some(&image.id))?;
            drop(conn);
            let shown = Shown { image, cache };
            let Shown { image, cache } = &shown;
            ctx.render(&shown, || {
                output::fields(&[
                    ("id", image.id.clone()),
                    ("name", image.name.clone()),
                    ("format", image.format.to_string()),
                    (
                        "virtual_size",
                        format!("{} ({} bytes)", gib(image.virtual_size), image.virtual_size),
                    ),
                    ("file_size", gib(image.size)),
                    (
                        "compressed",
                        if image.compressed { "yes" } else { "no" }.to_string(),
                    ),
                    ("volumes_made", image.uses.to_string()),
                    ("status", super::style::state(&image.status.to_string())),
                    ("path", image.path.clone()),
                    ("source", or_dash(image.source.as_deref())),
                    ("created_at", image.created_at.clone()),
                    (
                        "cached_on",
                        if cache.is_empty() {
                            "-".into()
                        } else {
                            cache
                                .iter()
                                .map(|c| {
                                    format!(
                                        "{} ({})",
                                        c.backend,
                                        crate::units::count(c.hits, "use", "uses")
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ),
                ]);
            });
        }
        ImageCommand::Delete { image } => {
            let image = images::find(&db.lock(), image)?;
            ctx.ops().image_delete(&image.id)?;
            ctx.render(&image, || {
                output::line(&image.id);
            });
        }
    }
    Ok(())
}
