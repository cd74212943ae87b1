# bash completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Source it, or put it in
# /usr/share/bash-completion/completions/volctl.
_volctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    # volctl filters by the prefix itself: its lines are taken as they are,
    # never expanded (a volume may be named `$(...)` or `*`).
    mapfile -t COMPREPLY < <("${COMP_WORDS[0]}" __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    if [[ ${COMPREPLY[0]-} == ":files" ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _volctl volctl
