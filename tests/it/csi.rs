//! `volctl csi serve` over its socket: csi-sanity, and a generated gRPC
//! client for idempotency under concurrency, the error codes, a server
//! killed mid-create, and a mount volume's data through stage and publish.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonic::Code;
use volctl::csi::proto::controller_client::ControllerClient;
use volctl::csi::proto::node_client::NodeClient;
use volctl::csi::proto::*;

use crate::cli_support::*;

/// A running `volctl csi serve` on a socket in the test's directory,
/// killed when dropped.
struct Server {
    child: Child,
    socket: PathBuf,
}

impl Server {
    fn start(v: &Volctl, env: &[(&str, &str)]) -> Server {
        let socket = v.path("csi.sock");
        let endpoint = format!("unix://{}", socket.display());
        let mut cmd = v.cmd(&[
            "csi",
            "serve",
            "--endpoint",
            &endpoint,
            "--node-id",
            "node-1",
        ]);
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
        for (k, val) in env {
            cmd.env(k, val);
        }
        let mut child = cmd.spawn().unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("volctl csi serve exited: {status}");
            }
            assert!(Instant::now() < until, "no socket after 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, socket }
    }

    /// Waits (bounded) for the server to exit on its own.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < until, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn channel(socket: &Path) -> tonic::transport::Channel {
    let socket = socket.to_path_buf();
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

fn mount_cap(fs: &str) -> VolumeCapability {
    VolumeCapability {
        access_type: Some(volume_capability::AccessType::Mount(
            volume_capability::MountVolume {
                fs_type: fs.into(),
                ..Default::default()
            },
        )),
        access_mode: Some(volume_capability::AccessMode {
            mode: volume_capability::access_mode::Mode::SingleNodeWriter as i32,
        }),
    }
}

fn block_cap() -> VolumeCapability {
    VolumeCapability {
        access_type: Some(volume_capability::AccessType::Block(
            volume_capability::BlockVolume {},
        )),
        access_mode: Some(volume_capability::AccessMode {
            mode: volume_capability::access_mode::Mode::SingleNodeWriter as i32,
        }),
    }
}

fn create_req(name: &str, mib: i64) -> CreateVolumeRequest {
    CreateVolumeRequest {
        name: name.into(),
        capacity_range: Some(CapacityRange {
            required_bytes: mib << 20,
            limit_bytes: 0,
        }),
        volume_capabilities: vec![block_cap()],
        ..Default::default()
    }
}

/// The csi-sanity binary: `$VOLCTL_CSI_SANITY`, else the shared tools
/// beside the project.
fn csi_sanity() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VOLCTL_CSI_SANITY") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "VOLCTL_CSI_SANITY={} is not a file",
            p.display()
        );
        return Some(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../shared/tools/csi-sanity/csi-sanity"),
        PathBuf::from("/work/shared/tools/csi-sanity/csi-sanity"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

#[test]
fn csi_sanity_passes_with_mount_and_block_volumes_snapshots_and_expansion() {
    if !need_root("csi_sanity_passes") {
        return;
    }
    let Some(sanity) = csi_sanity() else {
        say_loudly(
            "NOT RUN csi_sanity_passes: no csi-sanity binary (set VOLCTL_CSI_SANITY, or put it in ../shared/tools/csi-sanity/)",
        );
        return;
    };
    let v = Volctl::new();
    let server = Server::start(&v, &[]);
    let report = v.path("sanity.xml");
    let out = Command::new(&sanity)
        .arg("--csi.endpoint")
        .arg(format!("unix://{}", server.socket.display()))
        .arg("--csi.mountdir")
        .arg(v.path("mnt"))
        .arg("--csi.stagingdir")
        .arg(v.path("stage"))
        .args(["--csi.testvolumesize", "1073741824"])
        .args(["--csi.testvolumeexpandsize", "2147483648"])
        .arg("--ginkgo.no-color")
        .arg("--ginkgo.junit-report")
        .arg(&report)
        .args(["--ginkgo.timeout", "10m"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains("Passed |"))
        .unwrap_or("no summary")
        .to_string();
    eprintln!("csi-sanity: {summary}");
    assert!(
        out.status.success() && summary.contains("| 0 Failed |"),
        "csi-sanity failed: {summary}\n{}",
        text.lines()
            .filter(|l| l.contains("[FAIL]") || l.contains("Expected"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let passed: u32 = summary
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 60, "only {passed} specs passed: {summary}");
    drop(server);
    check_passes(&v, "after csi-sanity");
}

#[test]
fn create_and_delete_are_idempotent_by_name_under_100_concurrent_calls() {
    let v = Volctl::new();
    let server = Server::start(&v, &[]);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    // 100 calls at once for 10 names: each name's calls return one volume.
    let ids: Vec<(String, String)> = rt.block_on(async {
        let calls = (0..100).map(|i| {
            let mut c = ControllerClient::new(ch.clone());
            async move {
                let name = format!("pvc-{}", i % 10);
                let r = c.create_volume(create_req(&name, 16)).await;
                let vol = r.unwrap_or_else(|e| panic!("{name}: {e}")).into_inner();
                (name, vol.volume.unwrap().volume_id)
            }
        });
        let mut out = Vec::new();
        for h in calls.map(|f| tokio::spawn(f)).collect::<Vec<_>>() {
            out.push(h.await.unwrap());
        }
        out
    });
    let mut by_name = std::collections::BTreeMap::new();
    for (name, id) in &ids {
        let first = by_name.entry(name.clone()).or_insert_with(|| id.clone());
        assert_eq!(first, id, "{name}: two volumes");
    }
    assert_eq!(by_name.len(), 10);
    let listed = v.json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 10, "{listed}");
    check_passes(&v, "after 100 concurrent creates");

    // 100 deletes at once, each volume 10 times, and an unknown id: all OK.
    rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..100 {
            let mut c = ControllerClient::new(ch.clone());
            let id = by_name[&format!("pvc-{}", i % 10)].clone();
            hs.push(tokio::spawn(async move {
                // As the provisioner does: ABORTED (another call is deleting
                // it right now) is asked again after a while.
                let until = Instant::now() + Duration::from_secs(120);
                loop {
                    let r = c
                        .delete_volume(DeleteVolumeRequest {
                            volume_id: id.clone(),
                            ..Default::default()
                        })
                        .await;
                    match r {
                        Ok(_) => break,
                        Err(e) if e.code() == Code::Aborted && Instant::now() < until => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err(e) => panic!("delete {id}: {e}"),
                    }
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        let mut c = ControllerClient::new(ch.clone());
        c.delete_volume(DeleteVolumeRequest {
            volume_id: "00000000-0000-4000-8000-000000000000".into(),
            ..Default::default()
        })
        .await
        .expect("deleting an unknown volume is OK");
    });
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    check_passes(&v, "after 100 concurrent deletes");
}

#[test]
fn volctl_error_kinds_become_the_grpc_codes_csi_names() {
    let v = Volctl::with_config(
        "[quota]\ngigabytes = 2\n\n[[backend]]\nname = \"small\"\ndriver = \"loopback\"\npath = \"@/small\"\ncapacity_gb = 4\n",
    );
    let server = Server::start(&v, &[]);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    let code = |r: Result<tonic::Response<CreateVolumeResponse>, tonic::Status>| match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    };
    rt.block_on(async {
        let mut c = ControllerClient::new(ch.clone());
        // Invalid: no name; a parameter volctl does not know.
        assert_eq!(
            code(c.create_volume(create_req("", 16)).await),
            Code::InvalidArgument
        );
        let mut bad = create_req("p-bad", 16);
        bad.parameters.insert("colour".into(), "blue".into());
        assert_eq!(code(c.create_volume(bad).await), Code::InvalidArgument);
        // Over quota (2 GiB): RESOURCE_EXHAUSTED, so Kubernetes looks
        // elsewhere.
        assert_eq!(
            code(c.create_volume(create_req("p-big", 3 << 10)).await),
            Code::ResourceExhausted
        );
        // GetCapacity: the scheduler's figure, less what a create takes.
        let capacity = |c: &mut ControllerClient<_>| {
            let mut c = c.clone();
            async move {
                c.get_capacity(GetCapacityRequest::default())
                    .await
                    .unwrap()
                    .into_inner()
            }
        };
        let before = capacity(&mut c).await;
        assert!(before.available_capacity > 0, "{before:?}");
        // The same name with another size: ALREADY_EXISTS.
        assert_eq!(code(c.create_volume(create_req("p-1", 16)).await), Code::Ok);
        let after = capacity(&mut c).await;
        assert_eq!(
            before.available_capacity - after.available_capacity,
            16 << 20,
            "{before:?} {after:?}"
        );
        assert_eq!(
            code(c.create_volume(create_req("p-1", 32)).await),
            Code::AlreadyExists
        );
        // Not found.
        let e = c
            .controller_expand_volume(ControllerExpandVolumeRequest {
                volume_id: "00000000-0000-4000-8000-000000000000".into(),
                capacity_range: Some(CapacityRange {
                    required_bytes: 1 << 30,
                    limit_bytes: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{e}");
        let e = c
            .controller_get_volume(ControllerGetVolumeRequest {
                volume_id: "nope".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{e}");
    });
    drop(server);
    check_passes(&v, "after the refused calls");
    // Nothing refused left anything: one volume, 16 MiB of quota.
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_create_retried_after_the_server_was_killed_mid_create_finishes_it() {
    let v = Volctl::with_config("[recovery]\ngrace = \"0s\"\n");
    let rt = runtime();
    {
        // The server dies (abort(): as kill -9) in the middle of the create.
        let mut server = Server::start(
            &v,
            &[(
                "VOLCTL_CRASH_AT",
                "volume_create_manager/CreateVolumeFromSpec/success",
            )],
        );
        let ch = rt.block_on(channel(&server.socket));
        let r = rt.block_on(ControllerClient::new(ch).create_volume(create_req("pvc-k", 16)));
        assert!(r.is_err(), "the call cannot have succeeded: {r:?}");
        assert!(!server.wait_exit().success());
    }
    let server = Server::start(&v, &[]);
    let ch = rt.block_on(channel(&server.socket));
    let vol = rt
        .block_on(ControllerClient::new(ch.clone()).create_volume(create_req("pvc-k", 16)))
        .expect("the retry finishes the orphaned create")
        .into_inner()
        .volume
        .unwrap();
    let shown = v.json(&["show", &vol.volume_id]);
    assert_eq!(shown["status"], "available", "{shown}");
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 1, "one volume");
    assert_eq!(v.json(&["flow", "list"]), serde_json::json!([]));
    drop(server);
    check_passes(&v, "after the retried create");

    // Likewise a delete: killed after the backend object went, the retry
    // finishes the delete.
    let delete = DeleteVolumeRequest {
        volume_id: vol.volume_id.clone(),
        ..Default::default()
    };
    {
        let mut server = Server::start(
            &v,
            &[(
                "VOLCTL_CRASH_AT",
                "volume_delete/DeleteBackendObject/success",
            )],
        );
        let ch = rt.block_on(channel(&server.socket));
        let r = rt.block_on(ControllerClient::new(ch).delete_volume(delete.clone()));
        assert!(r.is_err(), "the call cannot have succeeded: {r:?}");
        assert!(!server.wait_exit().success());
    }
    let server = Server::start(&v, &[]);
    let ch = rt.block_on(channel(&server.socket));
    rt.block_on(ControllerClient::new(ch).delete_volume(delete))
        .expect("the retry finishes the orphaned delete");
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    assert_eq!(v.json(&["flow", "list"]), serde_json::json!([]));
    drop(server);
    check_passes(&v, "after the retried delete");
}

#[test]
fn a_mount_volume_keeps_its_data_through_stage_publish_unpublish_unstage() {
    if !need_root("a_mount_volume_keeps_its_data") {
        return;
    }
    let v = Volctl::new();
    let server = Server::start(&v, &[]);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    let stage = v.path("stage");
    let target = v.path("target");
    let other = v.path("other");
    let (s, t, o) = (
        stage.display().to_string(),
        target.display().to_string(),
        other.display().to_string(),
    );
    std::fs::create_dir_all(&stage).unwrap();
    rt.block_on(async {
        let mut c = ControllerClient::new(ch.clone());
        let mut n = NodeClient::new(ch.clone());
        let mut req = create_req("pvc-data", 64);
        req.volume_capabilities = vec![mount_cap("ext4")];
        let vol = c
            .create_volume(req)
            .await
            .unwrap()
            .into_inner()
            .volume
            .unwrap();
        let id = vol.volume_id.clone();
        let staged = |n: &mut NodeClient<_>| {
            let mut n = n.clone();
            let (id, s) = (id.clone(), s.clone());
            async move {
                n.node_stage_volume(NodeStageVolumeRequest {
                    volume_id: id,
                    staging_target_path: s,
                    volume_capability: Some(mount_cap("ext4")),
                    ..Default::default()
                })
                .await
                .unwrap();
            }
        };
        let publish = |n: &mut NodeClient<_>, path: String, read_only: bool| {
            let mut n = n.clone();
            let (id, s) = (id.clone(), s.clone());
            async move {
                n.node_publish_volume(NodePublishVolumeRequest {
                    volume_id: id,
                    staging_target_path: s,
                    target_path: path,
                    volume_capability: Some(mount_cap("ext4")),
                    readonly: read_only,
                    ..Default::default()
                })
                .await
                .unwrap();
            }
        };
        staged(&mut n).await;
        staged(&mut n).await; // idempotent
        publish(&mut n, t.clone(), false).await;
        std::fs::write(target.join("hello.txt"), b"kept").unwrap();
        n.node_unpublish_volume(NodeUnpublishVolumeRequest {
            volume_id: id.clone(),
            target_path: t.clone(),
        })
        .await
        .unwrap();
        n.node_unstage_volume(NodeUnstageVolumeRequest {
            volume_id: id.clone(),
            staging_target_path: s.clone(),
        })
        .await
        .unwrap();
        assert!(
            !target.join("hello.txt").exists(),
            "unpublished: nothing is mounted at the target"
        );
        // Staged again (the filesystem is kept, not made anew), published
        // read-only elsewhere: the data is there and cannot be written.
        staged(&mut n).await;
        publish(&mut n, o.clone(), true).await;
        assert_eq!(std::fs::read(other.join("hello.txt")).unwrap(), b"kept");
        assert!(
            std::fs::write(other.join("new.txt"), b"x").is_err(),
            "read-only"
        );
        let stats = n
            .node_get_volume_stats(NodeGetVolumeStatsRequest {
                volume_id: id.clone(),
                volume_path: o.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!stats.usage.is_empty(), "{stats:?}");
        n.node_unpublish_volume(NodeUnpublishVolumeRequest {
            volume_id: id.clone(),
            target_path: o.clone(),
        })
        .await
        .unwrap();
        n.node_unstage_volume(NodeUnstageVolumeRequest {
            volume_id: id.clone(),
            staging_target_path: s.clone(),
        })
        .await
        .unwrap();
        c.delete_volume(DeleteVolumeRequest {
            volume_id: id,
            ..Default::default()
        })
        .await
        .unwrap();
    });
    drop(server);
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    check_passes(&v, "after stage, publish and delete");
}

#[test]
fn the_server_never_removes_what_it_did_not_bind() {
    let v = Volctl::new();
    std::fs::create_dir_all(v.path("")).unwrap();
    // A regular file at the endpoint: refused, and still there.
    let file = v.path("precious");
    std::fs::write(&file, b"keep me").unwrap();
    let r = v.run(&[
        "csi",
        "serve",
        "--endpoint",
        &format!("unix://{}", file.display()),
        "--node-id",
        "n",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a socket"), "{}", r.stderr);
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    // A second server on a live socket: refused; the first still answers.
    let server = Server::start(&v, &[]);
    let r = v.run(&[
        "csi",
        "serve",
        "--endpoint",
        &format!("unix://{}", server.socket.display()),
        "--node-id",
        "n",
    ]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("another server"), "{}", r.stderr);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    rt.block_on(
        volctl::csi::proto::identity_client::IdentityClient::new(ch).probe(ProbeRequest::default()),
    )
    .expect("the first server still serves");
    // A directory others may write to is refused.
    let open = v.path("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let r = v.run(&[
        "csi",
        "serve",
        "--endpoint",
        &format!("unix://{}/csi.sock", open.display()),
        "--node-id",
        "n",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("writable by nobody else"), "{}", r.stderr);
}

#[test]
fn staging_never_formats_a_block_volume_or_one_the_cli_made() {
    if !need_root("staging_never_formats") {
        return;
    }
    let v = Volctl::new();
    let server = Server::start(&v, &[]);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    let stage = v.path("stage");
    std::fs::create_dir_all(&stage).unwrap();
    let cli = v.json(&["create", "--size", "16M", "--name", "raw-data"]);
    let cli_id = cli["id"].as_str().unwrap().to_string();
    rt.block_on(async {
        let mut c = ControllerClient::new(ch.clone());
        let mut n = NodeClient::new(ch.clone());
        let block = c
            .create_volume(create_req("pvc-block", 16))
            .await
            .unwrap()
            .into_inner()
            .volume
            .unwrap()
            .volume_id;
        for (id, says) in [(block, "made for block"), (cli_id, "not formatting")] {
            let e = n
                .node_stage_volume(NodeStageVolumeRequest {
                    volume_id: id.clone(),
                    staging_target_path: stage.display().to_string(),
                    volume_capability: Some(mount_cap("ext4")),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::FailedPrecondition, "{id}: {e}");
            assert!(e.message().contains(says), "{id}: {e}");
            assert!(
                volctl::csi::mounts::mounted_at(&stage).unwrap().is_none(),
                "nothing mounted"
            );
            // Unstaged as the kubelet would after a failure: detached.
            n.node_unstage_volume(NodeUnstageVolumeRequest {
                volume_id: id,
                staging_target_path: stage.display().to_string(),
            })
            .await
            .unwrap();
        }
        // An unknown volume's unstage is NOT_FOUND and touches nothing.
        let e = n
            .node_unstage_volume(NodeUnstageVolumeRequest {
                volume_id: "nope".into(),
                staging_target_path: stage.display().to_string(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{e}");
    });
    drop(server);
    check_passes(&v, "after refused stages");
}

#[test]
fn a_published_block_volume_is_not_detached_under_its_pod() {
    if !need_root("a_published_block_volume_is_not_detached") {
        return;
    }
    let v = Volctl::new();
    let server = Server::start(&v, &[]);
    let rt = runtime();
    let ch = rt.block_on(channel(&server.socket));
    let stage = v.path("stage");
    std::fs::create_dir_all(&stage).unwrap();
    let target = v.path("pod-dev");
    let (s, t) = (stage.display().to_string(), target.display().to_string());
    rt.block_on(async {
        let mut c = ControllerClient::new(ch.clone());
        let mut n = NodeClient::new(ch.clone());
        let id = c
            .create_volume(create_req("pvc-raw", 16))
            .await
            .unwrap()
            .into_inner()
            .volume
            .unwrap()
            .volume_id;
        n.node_stage_volume(NodeStageVolumeRequest {
            volume_id: id.clone(),
            staging_target_path: s.clone(),
            volume_capability: Some(block_cap()),
            ..Default::default()
        })
        .await
        .unwrap();
        let publish = |read_only: bool| NodePublishVolumeRequest {
            volume_id: id.clone(),
            staging_target_path: s.clone(),
            target_path: t.clone(),
            volume_capability: Some(block_cap()),
            readonly: read_only,
            ..Default::default()
        };
        n.node_publish_volume(publish(false)).await.unwrap();
        n.node_publish_volume(publish(false))
            .await
            .expect("published again the same way: OK");
        let e = n.node_publish_volume(publish(true)).await.unwrap_err();
        assert_eq!(e.code(), Code::AlreadyExists, "another way: {e}");
        // The device node bound at the target does not hold the loop
        // device open: unstage must still refuse while it is published.
        let e = n
            .node_unstage_volume(NodeUnstageVolumeRequest {
                volume_id: id.clone(),
                staging_target_path: s.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e}");
        let e = c
            .delete_volume(DeleteVolumeRequest {
                volume_id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e}");
        n.node_unpublish_volume(NodeUnpublishVolumeRequest {
            volume_id: id.clone(),
            target_path: t.clone(),
        })
        .await
        .unwrap();
        n.node_unstage_volume(NodeUnstageVolumeRequest {
            volume_id: id.clone(),
            staging_target_path: s.clone(),
        })
        .await
        .unwrap();
        c.delete_volume(DeleteVolumeRequest {
            volume_id: id,
            ..Default::default()
        })
        .await
        .unwrap();
    });
    drop(server);
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    check_passes(&v, "after the block volume's round trip");
}
