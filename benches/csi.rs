//! CreateVolume and DeleteVolume over the CSI socket: p50 and p99, one
//! caller at a time and 100 callers at once (what a provisioner does when
//! many pods start), on a store in a temporary directory.
//!
//! `cargo bench --bench csi` (`CSI_RUNS=N` sequential calls, default 200;
//! `CSI_ROUNDS=N` rounds of 100 concurrent calls, default 3).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use volctl::csi::proto::controller_client::ControllerClient;
use volctl::csi::proto::*;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(state: &Path, socket: &Path) -> Server {
    // Room for 100 volumes at once (the default quota is 10).
    let config = state.with_extension("toml");
    std::fs::write(&config, "[quota]\nvolumes = 1000\ngigabytes = 1000\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_volctl"))
        .args(["csi", "serve", "--node-id", "bench"])
        .arg("--endpoint")
        .arg(format!("unix://{}", socket.display()))
        .env("VOLCTL_STATE_DIR", state)
        .env("VOLCTL_CONFIG", &config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(Instant::now() < until, "no socket");
        std::thread::sleep(Duration::from_millis(10));
    }
    Server(child)
}

async fn channel(socket: PathBuf) -> tonic::transport::Channel {
    tonic::transport::Endpoint::try_from("http://[::]:50051")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let socket = socket.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(socket).await?,
                ))
            }
        }))
        .await
        .unwrap()
}

fn create(name: String) -> CreateVolumeRequest {
    CreateVolumeRequest {
        name,
        capacity_range: Some(CapacityRange {
            required_bytes: 16 << 20,
            limit_bytes: 0,
        }),
        volume_capabilities: vec![VolumeCapability {
            access_type: Some(volume_capability::AccessType::Block(
                volume_capability::BlockVolume {},
            )),
            access_mode: Some(volume_capability::AccessMode {
                mode: volume_capability::access_mode::Mode::SingleNodeWriter as i32,
            }),
        }],
        ..Default::default()
    }
}

fn pct(v: &mut [Duration], p: f64) -> String {
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    format!("{:.2} ms", v[i].as_secs_f64() * 1000.0)
}

/// Runs `n` callers at once, each one call; returns their latencies and
/// the ids they got.
async fn wave(ch: &tonic::transport::Channel, names: Vec<String>) -> (Vec<Duration>, Vec<String>) {
    let hs: Vec<_> = names
        .into_iter()
        .map(|name| {
            let mut c = ControllerClient::new(ch.clone());
            tokio::spawn(async move {
                let t = Instant::now();
                let v = c.create_volume(create(name)).await.unwrap().into_inner();
                (t.elapsed(), v.volume.unwrap().volume_id)
            })
        })
        .collect();
    let mut out = (Vec::new(), Vec::new());
    for h in hs {
        let (d, id) = h.await.unwrap();
        out.0.push(d);
        out.1.push(id);
    }
    out
}

async fn delete_wave(ch: &tonic::transport::Channel, ids: Vec<String>) -> Vec<Duration> {
    let hs: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let mut c = ControllerClient::new(ch.clone());
            tokio::spawn(async move {
                let t = Instant::now();
                c.delete_volume(DeleteVolumeRequest {
                    volume_id: id,
                    ..Default::default()
                })
                .await
                .unwrap();
                t.elapsed()
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in hs {
        out.push(h.await.unwrap());
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (runs, rounds) = (env("CSI_RUNS", 200), env("CSI_ROUNDS", 3));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("csi.sock");
    let _server = start(&dir.path().join("state"), &socket);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ch = channel(socket.clone()).await;
        let (mut c1, mut d1) = (Vec::new(), Vec::new());
        for i in 0..runs {
            let (d, ids) = wave(&ch, vec![format!("seq-{i}")]).await;
            c1.extend(d);
            d1.extend(delete_wave(&ch, ids).await);
        }
        let (mut c100, mut d100) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let (d, ids) = wave(&ch, (0..100).map(|i| format!("par-{r}-{i}")).collect()).await;
            c100.extend(d);
            d100.extend(delete_wave(&ch, ids).await);
        }
        println!("| call | callers | calls | p50 | p99 |");
        println!("|---|---|---|---|---|");
        for (what, callers, v) in [
            ("CreateVolume", 1, &mut c1),
            ("DeleteVolume", 1, &mut d1),
            ("CreateVolume", 100, &mut c100),
            ("DeleteVolume", 100, &mut d100),
        ] {
            let n = v.len();
            println!(
                "| {what} | {callers} | {n} | {} | {} |",
                pct(v, 0.5),
                pct(v, 0.99)
            );
        }
    });
}
