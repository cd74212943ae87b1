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
