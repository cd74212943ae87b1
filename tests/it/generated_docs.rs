//! `man/` and `completions/` are generated from the clap definitions and
//! checked in; this test fails when they are stale. Regenerate with
//! `VOLCTL_UPDATE_GENERATED=1 cargo test --test it generated_docs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Escapes text for roff.
fn roff(text: &str) -> String {
    text.replace('\\', "\\e")
        .replace('-', "\\-")
        .lines()
        .map(|l| match l.starts_with('.') || l.starts_with('\'') {
            true => format!("\\&{l}"),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `.TP` entries: a bold term, then its text.
fn entries<'a>(out: &mut String, items: impl IntoIterator<Item = (String, &'a str)>) {
    for (term, text) in items {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(&term), roff(text)));
    }
}

/// A command's page: clap_mangen's sections (not its EXTRA: the help's
/// trailing text), then EXAMPLES, EXIT STATUS, ENVIRONMENT, FILES and SEE
/// ALSO from `volctl::cli::docs` and the exit-code table.
fn man_page(cmd: &clap::Command, path: &str, parent: Option<&str>) -> Vec<u8> {
    use volctl::cli::docs;
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out).unwrap();
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out).unwrap();
    }
    let aliases: Vec<&str> = cmd.get_visible_aliases().collect();
    let mut more = String::new();
    if !aliases.is_empty() {
        more.push_str(&format!(".SH ALIASES\n{}\n", roff(&aliases.join(", "))));
    }
    let examples: Vec<_> = docs::examples_for(path).collect();
    if !examples.is_empty() {
        more.push_str(".SH EXAMPLES\n");
        entries(
            &mut more,
            examples.iter().map(|e| (e.run.to_string(), e.does)),
        );
    }
    more.push_str(".SH \"EXIT STATUS\"\n");
    entries(
        &mut more,
        volctl::error::EXIT_CODES
            .iter()
            .map(|(code, meaning)| (code.to_string(), *meaning)),
    );
    more.push_str(".SH ENVIRONMENT\n");
    entries(
        &mut more,
        docs::ENVIRONMENT.iter().map(|(k, v)| (k.to_string(), *v)),
    );
    more.push_str(".SH FILES\n");
    entries(
        &mut more,
        docs::FILES.iter().map(|(k, v)| (k.to_string(), *v)),
    );
    let mut see = vec!["volctl(1)".to_string(), "volctl.toml(5)".to_string()];
    if let Some(p) = parent {
        see.insert(1, format!("{p}(1)"));
    }
    see.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{}(1)", s.get_display_name().unwrap_or(s.get_name()))),
    );
    let own = format!("{}(1)", cmd.get_display_name().unwrap_or(cmd.get_name()));
    see.retain(|s| *s != own);
    see.dedup();
    more.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", roff(&see.join(", "))));
    out.extend_from_slice(more.as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out).unwrap();
    }
    out
}

/// volctl.toml(5), from `volctl::config::REFERENCE` and the built-in
/// defaults.
fn config_page() -> Vec<u8> {
    let cfg = volctl::config::Config::load(None, Path::new("<state-dir>")).unwrap();
    let mut defaults = BTreeMap::new();
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match v {
            serde_json::Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::Array(a) if !a.is_empty() && a.iter().all(|e| e.is_object()) => {
                for v in a {
                    walk(&format!("{prefix}[]"), v, out);
                }
            }
            serde_json::Value::Null => {}
            v => {
                out.insert(prefix.to_string(), v.to_string());
            }
        }
    }
    walk("", &serde_json::to_value(&cfg).unwrap(), &mut defaults);
    let mut page = String::from(
        ".TH volctl.toml 5 \"\" \"volctl\"\n.SH NAME\nvolctl.toml \\- the configuration of volctl(1)\n\
         .SH SYNOPSIS\n<state\\-dir>/config.toml, or the file given by \\fB\\-\\-config\\fR or VOLCTL_CONFIG\n\
         .SH DESCRIPTION\nA TOML file. Without one, volctl runs with one thin loopback backend, \\fBdefault\\fR, \
         under the state directory. Every setting is optional; a misspelt key, a value of the wrong type \
         or out of range, a backend path that is not a directory, an unknown extra\\-spec scope: each is an \
         error naming the line (exit 2). \\fBvolctl config check FILE\\fR validates a file; \\fBvolctl config \
         show\\fR prints every setting in effect and where it came from.\n.SH SETTINGS\n",
    );
    let items: Vec<(String, String)> = volctl::config::REFERENCE
        .iter()
        .map(|(key, text)| {
            // A backend's name and driver are required, and its path
            // follows its name: the built-in backend's are no defaults.
            let term = match (*key, defaults.get(*key)) {
                ("backend[].name" | "backend[].driver", _) => format!("{key} (required)"),
                ("backend[].path", _) => format!("{key} (default <state-dir>/backends/<name>)"),
                (_, Some(d)) => format!("{key} (default {d})"),
                (_, None) => key.to_string(),
            };
            (term, text.to_string())
        })
        .collect();
    entries(
        &mut page,
        items.iter().map(|(t, d)| (t.clone(), d.as_str())),
    );
    page.push_str(&format!(
        ".SH EXAMPLE\n.nf\n{}\n.fi\n.SH \"SEE ALSO\"\nvolctl(1), volctl\\-config(1)\n",
        roff(
            "[quota]\nvolumes = 100\ngigabytes = 2000\n\n[[backend]]\nname = \"fast\"\ndriver = \"loopback\"\n\
             path = \"/srv/volctl/fast\"\ncapabilities = { tier = \"ssd\" }\n\n[[backend]]\nname = \"big\"\n\
             driver = \"lvm\"\nvolume_group = \"vg0\"\nthin_pool = \"pool\"\n\n[[volume_type]]\nname = \"fast\"\n\
             extra_specs = { \"capabilities:tier\" = \"ssd\" }"
        )
    ));
    page.into_bytes()
}

fn generated() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    fn pages(
        cmd: &clap::Command,
        path: &str,
        parent: Option<&str>,
        files: &mut BTreeMap<String, Vec<u8>>,
    ) {
        let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
        files.insert(format!("man/{name}.1"), man_page(cmd, path, parent));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let sub_path = match path {
                "" => sub.get_name().to_string(),
                p => format!("{p} {}", sub.get_name()),
            };
            pages(sub, &sub_path, Some(&name), files);
        }
    }
    let mut cmd = volctl::cli::command().disable_help_subcommand(true);
    cmd.build();
    pages(&cmd, "", None, &mut files);
    files.insert("man/volctl.toml.5".to_string(), config_page());
    for (shell, name) in [
        ("bash", "volctl.bash"),
        ("zsh", "_volctl"),
        ("fish", "volctl.fish"),
    ] {
        let script = volctl::cli::complete::script(shell).unwrap();
        files.insert(format!("completions/{name}"), script.as_bytes().to_vec());
    }
    files
}

fn checked_in(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for dir in ["man", "completions"] {
        if let Ok(rd) = fs::read_dir(root.join(dir)) {
            for e in rd {
                let e = e.unwrap();
                files.insert(
                    format!("{dir}/{}", e.file_name().to_string_lossy()),
                    fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    files
}

#[test]
fn man_pages_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = generated();
    if std::env::var_os("VOLCTL_UPDATE_GENERATED").is_some() {
        for dir in ["man", "completions"] {
            let _ = fs::remove_dir_all(root.join(dir));
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for (path, bytes) in &want {
            fs::write(root.join(path), bytes).unwrap();
        }
    }
    let have = checked_in(root);
    let stale: Vec<&String> = want
        .keys()
        .chain(have.keys())
        .filter(|k| want.get(*k) != have.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}\nregenerate with: VOLCTL_UPDATE_GENERATED=1 cargo test --test it generated_docs"
    );
}
