//! What `--help` and the man pages say beyond the options: examples, the
//! environment, the files. One definition, used by both.

/// An example of a command.
pub struct Example {
    /// The command it is an example of (`create`, `snapshot create`).
    pub command: &'static str,
    /// What to type.
    pub run: &'static str,
    /// What it does.
    pub does: &'static str,
}

/// Every example, by command.
pub const EXAMPLES: &[Example] = &[
    Example {
        command: "",
        run: "volctl create --size 10G --name scratch",
        does: "make a 10 GiB volume (a sparse file under the state directory)",
    },
    Example {
        command: "",
        run: "volctl list --json",
        does: "every volume of the project, as one JSON document",
    },
    Example {
        command: "create",
        run: "volctl create --size 10G --name scratch",
        does: "a 10 GiB raw volume named scratch",
    },
    Example {
        command: "create",
        run: "volctl create --from-image debian-12.qcow2 --size 20G --attach",
        does: "a disk made from an image in the catalog, grown to 20 GiB, attached to a loop device",
    },
    Example {
        command: "create",
        run: "volctl create --name ci-42 --size 2G --ttl 2h --if-not-exists --json",
        does: "idempotent, for a CI job: the same volume on a retry; `volctl gc` deletes it after 2 hours",
    },
    Example {
        command: "list",
        run: "volctl ls --status error --label team=ci",
        does: "the volumes in error among those labelled team=ci",
    },
    Example {
        command: "delete",
        run: "volctl rm scratch ci-42 --ignore-not-found",
        does: "delete two volumes; one already gone is not an error",
    },
    Example {
        command: "extend",
        run: "volctl extend scratch --size 20G",
        does: "grow scratch to 20 GiB (attached or not)",
    },
    Example {
        command: "attach",
        run: "volctl attach scratch --read-only",
        does: "expose scratch as a read-only /dev/loopN",
    },
    Example {
        command: "snapshot create",
        run: "volctl snapshot create scratch --name before-upgrade",
        does: "a point-in-time copy of scratch",
    },
    Example {
        command: "snapshot revert",
        run: "volctl snapshot revert before-upgrade",
        does: "put scratch back as it was when the snapshot was taken",
    },
    Example {
        command: "image import",
        run: "volctl image import ./debian-12.qcow2 --name debian-12",
        does: "add an image to the catalog (checked, copied in)",
    },
    Example {
        command: "apply",
        run: "volctl apply --file volumes.toml --prune",
        does: "create what the file declares and is missing, delete what it no longer declares",
    },
    Example {
        command: "flow list",
        run: "volctl flow list",
        does: "flows a crash or Ctrl-C stopped, to resume or roll back",
    },
    Example {
        command: "resume",
        run: "volctl resume --all",
        does: "finish every flow whose process died",
    },
    Example {
        command: "check",
        run: "volctl check --repair",
        does: "prove the store and the backends agree, fixing what is safe to fix",
    },
    Example {
        command: "type create",
        run: "volctl type create fast --spec capabilities:tier=ssd",
        does: "a volume type whose volumes go only to backends with tier = \"ssd\"",
    },
    Example {
        command: "quota set",
        run: "volctl quota set --volumes 50 --gigabytes 500",
        does: "the project's limits: 50 volumes, 500 GiB",
    },
    Example {
        command: "show",
        run: "volctl show scratch --json",
        does: "one volume, by name, id or an id prefix of 8 or more",
    },
    Example {
        command: "rename",
        run: "volctl rename scratch build-cache",
        does: "give scratch a new name (names are unique per project)",
    },
    Example {
        command: "label",
        run: "volctl label scratch keep=yes stale-",
        does: "set the label keep=yes and remove the label stale",
    },
    Example {
        command: "gc",
        run: "volctl gc --dry-run",
        does: "list the volumes whose --ttl has passed, without deleting them",
    },
    Example {
        command: "wait",
        run: "volctl wait ci-42 --for available --timeout 60s",
        does: "block until ci-42 is available (exit 8 after 60 s)",
    },
    Example {
        command: "export",
        run: "volctl export scratch disk.qcow2 --format qcow2 --compress",
        does: "write scratch to a compressed qcow2 file (never over an existing file without --force)",
    },
    Example {
        command: "migrate",
        run: "volctl migrate scratch --backend lvm-thin",
        does: "copy scratch to another backend, verify it, switch to it; same id",
    },
    Example {
        command: "retype",
        run: "volctl retype scratch --type fast --migrate",
        does: "give scratch the type fast, moving it if its backend cannot hold that type",
    },
    Example {
        command: "manage",
        run: "volctl manage old.img --backend default",
        does: "take a raw file already in the backend's directory in as a volume",
    },
    Example {
        command: "unmanage",
        run: "volctl unmanage old",
        does: "forget the volume, keep its data (renamed unmanaged-<id>)",
    },
    Example {
        command: "detach",
        run: "volctl detach scratch",
        does: "release its loop device (nothing may have it open)",
    },
    Example {
        command: "snapshot list",
        run: "volctl snapshot list --volume scratch",
        does: "the snapshots of one volume",
    },
    Example {
        command: "snapshot delete",
        run: "volctl snapshot delete before-upgrade",
        does: "delete a snapshot (its quota is returned)",
    },
    Example {
        command: "image create",
        run: "volctl image create --name golden --from-volume scratch --format qcow2",
        does: "make an image in the catalog from a volume",
    },
    Example {
        command: "image list",
        run: "volctl image list",
        does: "the catalog: each image's format, sizes and status",
    },
    Example {
        command: "events",
        run: "volctl events --follow --volume scratch",
        does: "what happens to scratch, as it happens (--json: one event per line)",
    },
    Example {
        command: "flow show",
        run: "volctl flow show scratch",
        does: "every flow of scratch: each task's state, tries, time and result",
    },
    Example {
        command: "flow prune",
        run: "volctl flow prune --older-than 1d",
        does: "forget finished flows older than a day (every command forgets a few)",
    },
    Example {
        command: "rollback",
        run: "volctl rollback scratch",
        does: "undo the stopped flows of scratch, from where they stopped",
    },
    Example {
        command: "quota show",
        run: "volctl quota show --project ci",
        does: "limits, usage and reservations of the project ci",
    },
    Example {
        command: "quota unset",
        run: "volctl quota unset volumes gigabytes",
        does: "back to the configured defaults for those two",
    },
    Example {
        command: "backend list",
        run: "volctl backend list",
        does: "capacity, allocated and free space, provisioning and status of each backend",
    },
    Example {
        command: "type list",
        run: "volctl type list --json",
        does: "every volume type with its extra specs",
    },
    Example {
        command: "config show",
        run: "volctl config show",
        does: "every setting in effect, with the file line, variable or default it came from",
    },
    Example {
        command: "config check",
        run: "volctl config check /etc/volctl/config.toml",
        does: "validate a file before using it (the store is not opened)",
    },
];

/// The environment volctl reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "VOLCTL_STATE_DIR",
        "the state directory, as --state-dir (default /var/lib/volctl for root, else $XDG_DATA_HOME/volctl)",
    ),
    ("VOLCTL_CONFIG", "the configuration file, as --config"),
    ("VOLCTL_PROJECT", "the project, as --project"),
    (
        "VOLCTL_LOG",
        "a tracing filter for diagnostics on stderr (`debug`, `volctl::backends=trace`)",
    ),
    (
        "NO_COLOR",
        "when set and not empty, no colour (unless --color always)",
    ),
];

/// The files volctl uses.
pub const FILES: &[(&str, &str)] = &[
    (
        "<state-dir>/config.toml",
        "the configuration, when --config is not given (see volctl.toml(5))",
    ),
    (
        "<state-dir>/volctl.db",
        "the store: volumes, snapshots, images, quotas, flows and events (SQLite)",
    ),
    (
        "<state-dir>/backends/<name>/",
        "a loopback backend's volume files, unless its path is configured",
    ),
    ("<state-dir>/images/", "the image catalog's copies"),
];

/// The examples of `command` (a path such as `snapshot create`).
pub fn examples_for(command: &str) -> impl Iterator<Item = &'static Example> + '_ {
    EXAMPLES.iter().filter(move |e| e.command == command)
}

/// The examples of `command` as `--help` shows them, if it has any.
pub fn examples_help(command: &str) -> Option<String> {
    let lines: Vec<String> = examples_for(command)
        .map(|e| format!("  {}\n      {}", e.run, e.does))
        .collect();
    (!lines.is_empty()).then(|| format!("Examples:\n{}", lines.join("\n")))
}

/// Adds each command's examples to its help, below what it has.
pub fn with_examples(cmd: clap::Command, path: &str) -> clap::Command {
    let mut cmd = match examples_help(path) {
        Some(ex) => {
            let text = match cmd.get_after_help() {
                Some(before) => format!("{before}\n\n{ex}"),
                None => ex,
            };
            cmd.after_help(text)
        }
        None => cmd,
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = match path {
            "" => name.clone(),
            p => format!("{p} {name}"),
        };
        cmd = cmd.mut_subcommand(&name, |s| with_examples(s, &sub_path));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_parses_and_names_its_command() {
        for e in EXAMPLES {
            let args = e.run.split_whitespace();
            let m = super::super::command()
                .try_get_matches_from(args)
                .unwrap_or_else(|err| panic!("`{}` does not parse: {err}", e.run));
            let mut path = Vec::new();
            let mut at = &m;
            while let Some((name, sub)) = at.subcommand() {
                path.push(name);
                at = sub;
            }
            // The top page's examples may show any command.
            if !e.command.is_empty() {
                assert_eq!(path.join(" "), e.command, "`{}`", e.run);
            }
        }
    }
}
