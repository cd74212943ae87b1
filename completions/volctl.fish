# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_volctl_global_optspecs
    string join \n state-dir= config= project= json q/quiet v/verbose color= h/help V/version
end

function __fish_volctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_volctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_volctl_using_subcommand
    set -l cmd (__fish_volctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c volctl -n "__fish_volctl_needs_command" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_needs_command" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_needs_command" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_needs_command" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_needs_command" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_needs_command" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_needs_command" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_needs_command" -s V -l version -d 'Print version'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "create" -d 'Create a volume'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "list" -d 'List volumes'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "ls" -d 'List volumes'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "show" -d 'Show one volume'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "delete" -d 'Delete volumes (attached ones only with --force)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "rm" -d 'Delete volumes (attached ones only with --force)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "extend" -d 'Grow a volume (attached or not) to a new size'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "rename" -d 'Give a volume a new name'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "label" -d 'Set (KEY=VALUE) or remove (KEY-) labels of a volume'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "gc" -d 'Delete the volumes whose expiry (create --ttl) has passed'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "wait" -d 'Wait until a volume is available, in use or deleted'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "apply" -d 'Make the volumes a file declares so: create what is missing (in parallel), leave what matches, report what differs'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "export" -d 'Write a volume or a snapshot to a file (raw or qcow2)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "migrate" -d 'Move a volume to another backend (copied, verified, then switched)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "retype" -d 'Give a volume another volume type (--migrate: moving it if need be)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "manage" -d 'Take an existing raw file or LV on a backend in as a volume'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "unmanage" -d 'Forget a volume but keep its data (renamed unmanaged-<id>)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "attach" -d 'Attach a volume to a loop device (or every volume that should be attached, with --all)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "detach" -d 'Detach a volume from its loop device'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "snapshot" -d 'Snapshots of volumes'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "image" -d 'The image catalog'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "events" -d 'Show events: what happened to volumes, snapshots and images'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "flow" -d 'Flows: what ran, what stopped, and why'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "resume" -d 'Continue flows stopped by a crash or Ctrl-C'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "rollback" -d 'Undo flows stopped by a crash or Ctrl-C, from where they stopped'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "check" -d 'Prove the store and the backends agree (exit 0 only if they do)'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "type" -d 'Volume types'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "quota" -d 'Quotas'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "backend" -d 'Backends'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "config" -d 'The configuration: what is in effect and where each value came from; check a file before using it'
complete -c volctl -n "__fish_volctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand create" -s s -l size -d 'Size: with a binary unit (512M, 8G, 1.5T), a plain number is GiB; rounded up to a whole MiB [default: the source\'s, when there is one]' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -s n -l name -d 'Name, unique in the project' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -s t -l type -d 'Volume type (name or id)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -s z -l zone -d 'Availability zone: a named group of backends (each backend says which it is in; the default is `nova`, as in OpenStack); the volume goes to a backend in this one [default: any]' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l from-image -d 'Make it from an image in the catalog (name or id)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l from-snapshot -d 'Make it from a snapshot (name or id)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l from-volume -d 'Make it a clone of another volume (name or id)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -s l -l label -d 'A label KEY=VALUE (repeatable)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l ttl -d 'Let `volctl gc` delete it after this long (90s, 15m, 2h, 7d)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l expires-at -d 'Let `volctl gc` delete it after this time (RFC 3339, UTC)' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand create" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand create" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand create" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand create" -l attach -d 'Also attach it to a loop device'
complete -c volctl -n "__fish_volctl_using_subcommand create" -l if-not-exists -d 'If a volume of this name exists with the same size, type and source, it is the result (exit 0; one still being made is waited for); with another spec, exit 6 naming the difference'
complete -c volctl -n "__fish_volctl_using_subcommand create" -l dry-run -d 'Only validate and schedule: print every backend\'s filter verdicts, with the figures behind them, and the weights; create nothing'
complete -c volctl -n "__fish_volctl_using_subcommand create" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand create" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand create" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand list" -l status -d 'In this status (available, in-use, error, downloading — being filled from an image —, ...)' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l name -d 'Named so: a glob (* any run, ? one character)' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l backend -d 'On this backend' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l type -d 'Of this volume type' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l label -d 'Carrying this label (repeatable: all of them)' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand list" -l all-projects -d 'Volumes of every project'
complete -c volctl -n "__fish_volctl_using_subcommand list" -l ids -d 'Print only the ids, one per line'
complete -c volctl -n "__fish_volctl_using_subcommand list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l status -d 'In this status (available, in-use, error, downloading — being filled from an image —, ...)' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l name -d 'Named so: a glob (* any run, ? one character)' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l backend -d 'On this backend' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l type -d 'Of this volume type' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l label -d 'Carrying this label (repeatable: all of them)' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l all-projects -d 'Volumes of every project'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l ids -d 'Print only the ids, one per line'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l label -d 'Every volume of the project carrying this label (repeatable: all of them), as a CI job cleans up after itself' -r
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l ignore-not-found -d 'A volume that does not exist is not an error (it is what was asked)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l force -d 'Also delete attached volumes, detaching them first (a mounted or held device is never detached, even so)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l cascade -d 'Delete the volumes\' snapshots first (in the same flow)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l label -d 'Every volume of the project carrying this label (repeatable: all of them), as a CI job cleans up after itself' -r
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l ignore-not-found -d 'A volume that does not exist is not an error (it is what was asked)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l force -d 'Also delete attached volumes, detaching them first (a mounted or held device is never detached, even so)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l cascade -d 'Delete the volumes\' snapshots first (in the same flow)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l size -d 'The new size, as `create --size` takes it (larger than now; the size it already has is a no-op). An attached volume grows in place: its device shows the new size at once' -r
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand extend" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand extend" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand extend" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand extend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand rename" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rename" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rename" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand rename" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand rename" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand rename" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand rename" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand label" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand label" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand label" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand label" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand label" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand label" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand label" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand label" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l dry-run -d 'Only list what would be deleted'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l all-projects -d 'The expired volumes of every project (what a timer wants)'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l for -d 'The state to wait for: available, in-use or deleted' -r
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l timeout -d 'Give up after this long (exit 8): 90s, 15m, 2h' -r
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand wait" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand wait" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand wait" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -s f -l file -d 'The file of `[[volume]]` tables (name, size, type, image|snapshot| volume, labels, ttl)' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l dry-run -d 'Only print the plan'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l prune -d 'Also delete the volumes that carry the labels every volume of the file carries but that the file no longer lists'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l force -d 'Make the changes apply can make (grow a volume, change its labels) instead of reporting them'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand export" -l snapshot -d 'Export this snapshot (id, prefix or name) instead of a volume' -r
complete -c volctl -n "__fish_volctl_using_subcommand export" -l format -d 'The file\'s format' -r -f -a "raw\t''
qcow2\t''"
complete -c volctl -n "__fish_volctl_using_subcommand export" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand export" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand export" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand export" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand export" -l compress -d 'Compress (qcow2 only)'
complete -c volctl -n "__fish_volctl_using_subcommand export" -l force -d 'Replace an existing file; export an in-use volume (whatever is on disk at each moment: snapshot it first for a consistent copy)'
complete -c volctl -n "__fish_volctl_using_subcommand export" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand export" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand export" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l backend -d 'The backend to move it to' -r
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l type -d 'The new volume type' -r
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l migrate -d 'If its backend does not satisfy the type, move it to one that does'
complete -c volctl -n "__fish_volctl_using_subcommand retype" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand retype" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand retype" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand retype" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l backend -d 'The backend it is on' -r
complete -c volctl -n "__fish_volctl_using_subcommand manage" -s n -l name -d 'The volume\'s name' -r
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand manage" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand manage" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand manage" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand manage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand unmanage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l all -d 'Re-establish every attachment that should exist: each `in-use` volume whose device is gone (after a reboot) is attached again'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l all-projects -d 'With --all: the volumes of every project (what a boot-time unit wants)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l read-only -d 'Refuse writes through the device (the kernel does; on LVM the LV\'s permission becomes read-only until it is detached)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l partscan -d 'Make a device per partition of the volume\'s partition table (`/dev/loopNpM`; loop devices only)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand attach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand detach" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand detach" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand detach" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand detach" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand detach" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand detach" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand detach" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand detach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "create" -d 'Snapshot a volume'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "list" -d 'List snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "ls" -d 'List snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "show" -d 'Show one snapshot'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "revert" -d 'Put a snapshot\'s data back into its volume, in place (the volume keeps its id, name and path; it must be detached)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "delete" -d 'Delete snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "rm" -d 'Delete snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and not __fish_seen_subcommand_from create list ls show revert delete rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s n -l name -d 'Name' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l force -d 'Snapshot even an attached volume (the copy is only crash-consistent: detach, or quiesce its filesystem, for better)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l volume -d 'Only those of this volume' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l volume -d 'Only those of this volume' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l force -d 'Revert an attached volume: its device is rebound (the same path when it is still free) with the snapshot\'s data. Only while nothing has the device mounted or open'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from revert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "create" -d 'Snapshot a volume'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "list" -d 'List snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one snapshot'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "revert" -d 'Put a snapshot\'s data back into its volume, in place (the volume keeps its id, name and path; it must be detached)'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "import" -d 'Import an image file (raw or qcow2) into the catalog'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "create" -d 'Make an image of a volume or a snapshot (Cinder\'s upload-to-image), so new volumes can be made from it'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "list" -d 'List images'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "ls" -d 'List images'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "show" -d 'Show one image and where it is cached'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "delete" -d 'Delete an image and its cache entries'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "rm" -d 'Delete an image and its cache entries'
complete -c volctl -n "__fish_volctl_using_subcommand image; and not __fish_seen_subcommand_from import create list ls show delete rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -s n -l name -d 'Name [default: the file\'s name]' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l format -d 'Expected format: raw or qcow2 [default: detected from the content]' -r -f -a "raw\t''
qcow2\t''"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -s n -l name -d 'Its name' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l from-volume -d 'The volume (id, id prefix or name); it must not be in use' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l from-snapshot -d 'A snapshot instead (a consistent copy of an in-use volume)' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l format -d 'The catalog copy\'s format' -r -f -a "raw\t''
qcow2\t''"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import an image file (raw or qcow2) into the catalog'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make an image of a volume or a snapshot (Cinder\'s upload-to-image), so new volumes can be made from it'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "list" -d 'List images'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one image and where it is cached'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete an image and its cache entries'
complete -c volctl -n "__fish_volctl_using_subcommand image; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand events" -l volume -d 'Only events of this volume (id, id prefix or name)' -r
complete -c volctl -n "__fish_volctl_using_subcommand events" -l after -d 'Only events after this event id' -r
complete -c volctl -n "__fish_volctl_using_subcommand events" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand events" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand events" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand events" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand events" -s f -l follow -d 'Keep printing new events as they happen (until interrupted)'
complete -c volctl -n "__fish_volctl_using_subcommand events" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand events" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand events" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -f -a "list" -d 'List unfinished flows (and whether their process is alive)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -f -a "ls" -d 'List unfinished flows (and whether their process is alive)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -f -a "show" -d 'Show a flow\'s tasks — state, attempts, duration, result, failure — and a timeline; given a volume, every flow of it'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -f -a "prune" -d 'Forget finished flows (and delivered events) older than an age (`[retention]`, 7 days by default; every command forgets a few)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and not __fish_seen_subcommand_from list ls show prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l all -d 'Finished flows too'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l all -d 'Finished flows too'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l older-than -d 'The age, e.g. 7d, 12h, 0s for every finished flow' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from help" -f -a "list" -d 'List unfinished flows (and whether their process is alive)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a flow\'s tasks — state, attempts, duration, result, failure — and a timeline; given a volume, every flow of it'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Forget finished flows (and delivered events) older than an age (`[retention]`, 7 days by default; every command forgets a few)'
complete -c volctl -n "__fish_volctl_using_subcommand flow; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l all -d 'Every orphaned flow and queued request (a cast: the message one flow leaves for the next, such as api\'s request to the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand resume" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand resume" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand resume" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l all -d 'Every orphaned flow and queued request (a cast: the message one flow leaves for the next, such as api\'s request to the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand check" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand check" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand check" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand check" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand check" -l repair -d 'Fix what can be fixed safely, and say what was done (objects without a volume are moved aside, never deleted)'
complete -c volctl -n "__fish_volctl_using_subcommand check" -l purge-orphans -d 'Delete for good the objects an earlier repair moved aside'
complete -c volctl -n "__fish_volctl_using_subcommand check" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand check" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand check" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "create" -d 'Create a volume type: a named set of extra specs, the requirements a backend must meet to hold the type\'s volumes'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "list" -d 'List volume types'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "ls" -d 'List volume types'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "delete" -d 'Delete a volume type no volume uses'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "rm" -d 'Delete a volume type no volume uses'
complete -c volctl -n "__fish_volctl_using_subcommand type; and not __fish_seen_subcommand_from create list ls delete rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l spec -d 'An extra spec (repeatable): a requirement KEY=VALUE that a backend\'s capability must meet, e.g. `capabilities:tier=ssd` or `volume_backend_name=fast` (a value may compare: `<= 100`, `<in> a b`); or one of volctl\'s own settings, `volctl:wipe=zero`' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a volume type: a named set of extra specs, the requirements a backend must meet to hold the type\'s volumes'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from help" -f -a "list" -d 'List volume types'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a volume type no volume uses'
complete -c volctl -n "__fish_volctl_using_subcommand type; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -f -a "show" -d 'Show limits and usage of a project'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -f -a "set" -d 'Set limits of a project (-1: unlimited)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and not __fish_seen_subcommand_from show set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l volumes -d 'Number of volumes' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l gigabytes -d 'GiB of volumes and snapshots' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l snapshots -d 'Number of snapshots' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l per-volume-gigabytes -d 'Largest single volume, GiB' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l resource -d 'Any resource, e.g. `gigabytes_fast=100` for volumes of type `fast`' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show limits and usage of a project'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set limits of a project (-1: unlimited)'
complete -c volctl -n "__fish_volctl_using_subcommand quota; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -f -a "list" -d 'List backends: capacity, allocated, free, capabilities (read fresh, refreshing the figures cached for the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -f -a "ls" -d 'List backends: capacity, allocated, free, capabilities (read fresh, refreshing the figures cached for the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and not __fish_seen_subcommand_from list ls help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from help" -f -a "list" -d 'List backends: capacity, allocated, free, capabilities (read fresh, refreshing the figures cached for the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand backend; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -f -a "show" -d 'Print the effective configuration: every setting, with where its value came from (a line of the file, the environment, a flag, or the built-in default)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -f -a "check" -d 'Check a configuration file without opening the store (exit 0 if it is valid, 2 with the reason if not)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and not __fish_seen_subcommand_from show check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -l state-dir -d 'State directory (store, default backend) [default: /var/lib/volctl for root, else $XDG_DATA_HOME/volctl]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: <state-dir>/config.toml if it exists, else one loopback backend under the state directory]' -r -F
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -l project -d 'Project that owns the volumes and their quota' -r
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -l color -d 'Colour states and verdicts: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless `NO_COLOR` is set'
always\t'Always, even in a pipe'
never\t'Never'"
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Print results as JSON (one document on stdout)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but the result (and errors)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Show every task with its time and output; -vv adds every flow and task transition and every external command (VOLCTL_LOG, a tracing filter, overrides)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective configuration: every setting, with where its value came from (a line of the file, the environment, a flag, or the built-in default)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a configuration file without opening the store (exit 0 if it is valid, 2 with the reason if not)'
complete -c volctl -n "__fish_volctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "create" -d 'Create a volume'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "list" -d 'List volumes'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "show" -d 'Show one volume'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "delete" -d 'Delete volumes (attached ones only with --force)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "extend" -d 'Grow a volume (attached or not) to a new size'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "rename" -d 'Give a volume a new name'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "label" -d 'Set (KEY=VALUE) or remove (KEY-) labels of a volume'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "gc" -d 'Delete the volumes whose expiry (create --ttl) has passed'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "wait" -d 'Wait until a volume is available, in use or deleted'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "apply" -d 'Make the volumes a file declares so: create what is missing (in parallel), leave what matches, report what differs'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "export" -d 'Write a volume or a snapshot to a file (raw or qcow2)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "migrate" -d 'Move a volume to another backend (copied, verified, then switched)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "retype" -d 'Give a volume another volume type (--migrate: moving it if need be)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "manage" -d 'Take an existing raw file or LV on a backend in as a volume'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "unmanage" -d 'Forget a volume but keep its data (renamed unmanaged-<id>)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "attach" -d 'Attach a volume to a loop device (or every volume that should be attached, with --all)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "detach" -d 'Detach a volume from its loop device'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "snapshot" -d 'Snapshots of volumes'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "image" -d 'The image catalog'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "events" -d 'Show events: what happened to volumes, snapshots and images'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "flow" -d 'Flows: what ran, what stopped, and why'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "resume" -d 'Continue flows stopped by a crash or Ctrl-C'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "rollback" -d 'Undo flows stopped by a crash or Ctrl-C, from where they stopped'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "check" -d 'Prove the store and the backends agree (exit 0 only if they do)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "type" -d 'Volume types'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "quota" -d 'Quotas'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "backend" -d 'Backends'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "config" -d 'The configuration: what is in effect and where each value came from; check a file before using it'
complete -c volctl -n "__fish_volctl_using_subcommand help; and not __fish_seen_subcommand_from create list show delete extend rename label gc wait apply export migrate retype manage unmanage attach detach snapshot image events flow resume rollback check type quota backend config help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "create" -d 'Snapshot a volume'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "list" -d 'List snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "show" -d 'Show one snapshot'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "revert" -d 'Put a snapshot\'s data back into its volume, in place (the volume keeps its id, name and path; it must be detached)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "delete" -d 'Delete snapshots'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "import" -d 'Import an image file (raw or qcow2) into the catalog'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "create" -d 'Make an image of a volume or a snapshot (Cinder\'s upload-to-image), so new volumes can be made from it'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "list" -d 'List images'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "show" -d 'Show one image and where it is cached'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from image" -f -a "delete" -d 'Delete an image and its cache entries'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from flow" -f -a "list" -d 'List unfinished flows (and whether their process is alive)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from flow" -f -a "show" -d 'Show a flow\'s tasks — state, attempts, duration, result, failure — and a timeline; given a volume, every flow of it'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from flow" -f -a "prune" -d 'Forget finished flows (and delivered events) older than an age (`[retention]`, 7 days by default; every command forgets a few)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from type" -f -a "create" -d 'Create a volume type: a named set of extra specs, the requirements a backend must meet to hold the type\'s volumes'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from type" -f -a "list" -d 'List volume types'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from type" -f -a "delete" -d 'Delete a volume type no volume uses'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from quota" -f -a "show" -d 'Show limits and usage of a project'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from quota" -f -a "set" -d 'Set limits of a project (-1: unlimited)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from backend" -f -a "list" -d 'List backends: capacity, allocated, free, capabilities (read fresh, refreshing the figures cached for the scheduler)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective configuration: every setting, with where its value came from (a line of the file, the environment, a flag, or the built-in default)'
complete -c volctl -n "__fish_volctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check a configuration file without opening the store (exit 0 if it is valid, 2 with the reason if not)'
