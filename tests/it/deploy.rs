//! The manifests in `deploy/` agree with the binary: the driver's name, the
//! flags of `volctl csi serve`, the socket every container talks to, and
//! the StorageClass parameters the driver reads.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use volctl::csi::DRIVER_NAME;
use yaml_rust2::{Yaml, YamlLoader};

fn deploy(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(rel)
}

/// Every document of every Kubernetes manifest.
fn documents() -> Vec<(String, Yaml)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(deploy("kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let docs = YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", f.display()));
        for d in docs {
            assert!(
                d["apiVersion"].as_str().is_some() && d["kind"].as_str().is_some(),
                "{}: a document without apiVersion and kind",
                f.display()
            );
            out.push((f.display().to_string(), d));
        }
    }
    out
}

fn of_kind<'a>(docs: &'a [(String, Yaml)], kind: &str) -> Vec<&'a Yaml> {
    docs.iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .map(|(_, d)| d)
        .collect()
}

fn strs(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The long flags of `volctl csi serve`.
fn serve_flags() -> BTreeSet<String> {
    let cmd = volctl::cli::command();
    let serve = cmd
        .find_subcommand("csi")
        .and_then(|c| c.find_subcommand("serve"))
        .expect("volctl csi serve");
    serve
        .get_arguments()
        .chain(cmd.get_arguments())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// `--flag=value` arguments as a map; asserts each flag is one of `known`.
fn flags(args: &[String], known: Option<&BTreeSet<String>>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for a in args.iter().filter(|a| a.starts_with("--")) {
        let (k, v) = a.split_once('=').unwrap_or((a, ""));
        if let Some(known) = known {
            assert!(
                known.contains(k),
                "{k} is not a flag of volctl csi serve: {known:?}"
            );
        }
        out.insert(k.to_string(), v.to_string());
    }
    out
}

#[test]
fn the_kubernetes_manifests_agree_with_the_driver() {
    let docs = documents();
    let driver = of_kind(&docs, "CSIDriver");
    assert_eq!(driver.len(), 1);
    let d = driver[0];
    assert_eq!(d["metadata"]["name"].as_str(), Some(DRIVER_NAME));
    assert_eq!(d["spec"]["attachRequired"].as_bool(), Some(false));
    assert_eq!(d["spec"]["storageCapacity"].as_bool(), Some(true));

    let ds = of_kind(&docs, "DaemonSet");
    assert_eq!(ds.len(), 1);
    let pod = &ds[0]["spec"]["template"]["spec"];
    let containers = pod["containers"].as_vec().unwrap();
    let by_name = |n: &str| {
        containers
            .iter()
            .find(|c| c["name"].as_str() == Some(n))
            .unwrap_or_else(|| panic!("no container {n}"))
    };
    // The volctl container serves the socket in the socket volume.
    let volctl = by_name("volctl");
    let args = strs(&volctl["args"]);
    assert_eq!(&args[..2], ["csi", "serve"], "{args:?}");
    let f = flags(&args, Some(&serve_flags()));
    let endpoint = &f["--endpoint"];
    let socket = volctl::csi::server::socket_path(endpoint).unwrap();
    assert!(f.contains_key("--node-id"), "{args:?}");
    let socket_dir = socket.parent().unwrap().to_str().unwrap().to_string();
    let mount_of = |c: &Yaml, path: &str| {
        c["volumeMounts"]
            .as_vec()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"].as_str() == Some(path))
            .and_then(|m| m["name"].as_str().map(String::from))
    };
    let socket_volume = mount_of(volctl, &socket_dir).expect("the socket's directory is mounted");
    // Every sidecar talks to that socket, in the same volume.
    for sidecar in [
        "node-driver-registrar",
        "csi-provisioner",
        "csi-snapshotter",
        "csi-resizer",
    ] {
        let c = by_name(sidecar);
        let f = flags(&strs(&c["args"]), None);
        let addr = f
            .get("--csi-address")
            .unwrap_or_else(|| panic!("{sidecar}: no --csi-address"));
        assert_eq!(
            volctl::csi::server::socket_path(addr).unwrap(),
            socket,
            "{sidecar}"
        );
        assert_eq!(
            mount_of(c, &socket_dir).as_deref(),
            Some(socket_volume.as_str()),
            "{sidecar}"
        );
    }
    // Distributed provisioning: one provisioner per node, with capacity.
    let p = flags(&strs(&by_name("csi-provisioner")["args"]), None);
    for (k, want) in [
        ("--node-deployment", "true"),
        ("--enable-capacity", "true"),
        ("--strict-topology", "true"),
    ] {
        assert_eq!(
            p.get(k).map(String::as_str),
            Some(want),
            "csi-provisioner {k}"
        );
    }
    // The kubelet finds the socket where the socket volume is on the host.
    let volume = pod["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str() == Some(socket_volume.as_str()))
        .unwrap();
    let host_dir = volume["hostPath"]["path"].as_str().unwrap();
    assert!(host_dir.ends_with(DRIVER_NAME), "{host_dir}");
    let reg = flags(&strs(&by_name("node-driver-registrar")["args"]), None);
    assert_eq!(
        reg["--kubelet-registration-path"],
        format!(
            "{host_dir}/{}",
            socket.file_name().unwrap().to_str().unwrap()
        )
    );
    // The node id is the node's name.
    assert!(
        f["--node-id"].contains("KUBE_NODE_NAME"),
        "{:?}",
        f["--node-id"]
    );

    // StorageClasses: this driver, topology-aware binding, parameters the
    // driver reads.
    let classes = of_kind(&docs, "StorageClass");
    assert!(!classes.is_empty());
    for sc in classes {
        let name = sc["metadata"]["name"].as_str().unwrap();
        assert_eq!(sc["provisioner"].as_str(), Some(DRIVER_NAME), "{name}");
        assert_eq!(
            sc["volumeBindingMode"].as_str(),
            Some("WaitForFirstConsumer"),
            "{name}"
        );
        let params: HashMap<String, String> = sc["parameters"]
            .as_hash()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                    .collect()
            })
            .unwrap_or_default();
        volctl::csi::controller::parameters(&params)
            .unwrap_or_else(|e| panic!("{name}: the driver refuses its parameters: {e}"));
    }
    for c in of_kind(&docs, "VolumeSnapshotClass") {
        assert_eq!(c["driver"].as_str(), Some(DRIVER_NAME));
    }
}

#[test]
fn the_nomad_job_agrees_with_the_driver() {
    let text = std::fs::read_to_string(deploy("nomad/volctl-csi.nomad.hcl")).unwrap();
    let plugin = text
        .split("csi_plugin {")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("a csi_plugin block");
    let value = |key: &str| {
        plugin
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| panic!("no {key}"))
    };
    assert_eq!(value("id"), DRIVER_NAME);
    assert_eq!(value("type"), "monolith");
    let mount_dir = value("mount_dir");
    let args: Vec<String> = text
        .split("args = [")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap()
        .split(',')
        .map(|a| a.trim().trim_matches('"').to_string())
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(&args[..2], ["csi", "serve"], "{args:?}");
    let f = flags(&args, Some(&serve_flags()));
    let socket = volctl::csi::server::socket_path(&f["--endpoint"]).unwrap();
    assert_eq!(socket.parent().unwrap(), Path::new(&mount_dir));
    assert!(f.contains_key("--node-id"));
}
