//! `volctl events [--follow] [--volume V] [--after ID]`.

use std::time::Duration;

use clap::Args;

use super::Ctx;
use super::output;
use crate::error::Result;
use crate::store::events::{self, EventRecord as Event};
use crate::store::volumes;

/// `volctl events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Keep printing new events as they happen (until interrupted)
    #[arg(long, short)]
    follow: bool,
    /// Only events of this volume (id, id prefix or name)
    #[arg(long)]
    volume: Option<String>,
    /// Only events after this event id
    #[arg(long, default_value_t = 0)]
    after: i64,
}

fn print(ctx: &Ctx, e: &Event) {
    if ctx.global.json {
        output::json(e);
        return;
    }
    let vol = e
        .volume_id
        .as_deref()
        .map(|v| &v[..v.len().min(8)])
        .unwrap_or("-");
    let payload = serde_json::to_string(&e.payload).unwrap_or_default();
    output::line(&format!(
        "{:>6}  {}  {:<24} {:<8}  {payload}",
        e.id, e.at, e.kind, vol
    ));
}

/// Prints events in order (with `--json`, one JSON object per line).
pub fn run(ctx: &Ctx, a: &EventsArgs) -> Result<()> {
    let volume = match &a.volume {
        Some(key) => {
            match volumes::find(&ctx.svc.store.db().lock(), Some(&ctx.global.project), key) {
                Ok(v) => Some(v.id),
                // A deleted volume's events remain: accept a full id.
                Err(_) if key.len() == 36 => Some(key.clone()),
                Err(e) => return Err(e),
            }
        }
        None => None,
    };
    let mut after = a.after;
    loop {
        let evs = events::list(&ctx.svc.store.db().lock(), after, volume.as_deref())?;
        for e in &evs {
            print(ctx, e);
            after = e.id;
        }
        if !a.follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
