//! `volctl events [--follow] [--volume V] [--after ID]`.

use std::time::Duration;

use clap::Args;

use super::Ctx;
use super::output;
use crate::error::Result;
use crate::store::events::{self, EventRecord as Event};

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
        output::json(e); // --follow: a stream, one JSON object per line
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

/// Prints events in order. With `--json`, one document (an array of
/// them); with `--follow` too, a stream of them, one JSON object per line.
pub fn run(ctx: &Ctx, a: &EventsArgs) -> Result<()> {
    let volume = match &a.volume {
        Some(key) => Some(ctx.reader().history_id(Some(&ctx.global.project), key)?),
        None => None,
    };
    let mut after = a.after;
    if ctx.global.json && !a.follow {
        output::json(&events::list(
            &ctx.svc.store.db().lock(),
            after,
            volume.as_deref(),
        )?);
        return Ok(());
    }
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
