//! Engine overhead: build + run a linear flow of small tasks that pass values
//! along, in memory and with the SQLite store on a file.
//!
//! `cargo bench --bench flow` → `target/criterion/flow/<function>/`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use volctl::db::Db;
use volctl::flow::*;

#[derive(Serialize, Deserialize)]
struct Spec {
    size: u64,
    name: String,
    kind: String,
}

macro_rules! step {
    ($ty:ident, $name:literal, [$($req:literal),*], $prov:literal, |$ctx:ident| $body:expr) => {
        struct $ty;
        impl Task for $ty {
            fn name(&self) -> &str { $name }
            fn requires(&self) -> Vec<&str> { vec![$($req),*] }
            fn provides(&self) -> Vec<&str> { vec![$prov] }
            fn execute(&self, $ctx: &ExecContext<'_>) -> Result<Values, Failure> {
                Ok(outputs().with_value($prov, $body))
            }
        }
    };
}

step!(Extract, "extract", ["request"], "spec", |ctx| {
    let size: u64 = ctx.get(Sym::new("request"))?;
    Spec {
        size,
        name: "vol".into(),
        kind: "raw".into(),
    }
});
step!(Reserve, "reserve", ["spec"], "reservation", |ctx| {
    let spec: Spec = ctx.get(Sym::new("spec"))?;
    format!("res-{}", spec.size)
});
step!(CreateEntry, "create_entry", ["spec"], "entry_id", |ctx| {
    let spec: Spec = ctx.get(Sym::new("spec"))?;
    format!("{}-{}", spec.name, spec.size)
});
step!(Commit, "commit", ["reservation"], "committed", |ctx| {
    ctx.get(Sym::<String>::new("reservation"))?.len()
});
step!(Cast, "cast", ["entry_id", "spec"], "cast_id", |ctx| {
    let id: String = ctx.get(Sym::new("entry_id"))?;
    let spec: Spec = ctx.get(Sym::new("spec"))?;
    format!("{id}/{}", spec.kind)
});

fn linear5() -> Flow {
    Flow::linear("create")
        .add(Extract)
        .add(Reserve)
        .add(CreateEntry)
        .add(Commit)
        .add(Cast)
}

/// Task i reads `v{i}` and provides `v{i+1}`.
struct Step(usize, String, [String; 2]);
impl Task for Step {
    fn name(&self) -> &str {
        &self.1
    }
    fn requires(&self) -> Vec<&str> {
        vec![&self.2[0]]
    }
    fn provides(&self) -> Vec<&str> {
        vec![&self.2[1]]
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        // Names made at run time: the untyped accessors.
        let v = ctx.value(&self.2[0]).and_then(|v| v.as_u64()).unwrap_or(0);
        Ok(outputs().with_value(&self.2[1], v + self.0 as u64))
    }
}

fn linear(n: usize) -> Flow {
    (0..n).fold(Flow::linear("chain"), |f, i| {
        f.add(Step(
            i,
            format!("step{i}"),
            [format!("v{i}"), format!("v{}", i + 1)],
        ))
    })
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow");

    g.bench_function("linear5_memory", |b| {
        b.iter(|| {
            // A fresh store per run, so the figure does not depend on how
            // many runs came before.
            let engine = Engine::new(Arc::new(MemoryStore::new()));
            let out = engine
                .run(&linear5(), outputs().with_value("request", 10))
                .unwrap();
            black_box(out);
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("bench.db")).unwrap();
    let sqlite = Engine::new(Arc::new(SqliteFlowStore::open(db).unwrap()));
    g.bench_function("linear5_sqlite", |b| {
        b.iter(|| {
            let out = sqlite
                .run(&linear5(), outputs().with_value("request", 10))
                .unwrap();
            black_box(out);
        })
    });

    g.bench_function("linear25_memory", |b| {
        b.iter(|| {
            let engine = Engine::new(Arc::new(MemoryStore::new()));
            let out = engine
                .run(&linear(25), outputs().with_value("v0", 1))
                .unwrap();
            black_box(out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
