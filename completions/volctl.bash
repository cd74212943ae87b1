# bash completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Source it, or put it in
# /usr/share/bash-completion/completions/volctl.
_volctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n' out
    out=$("${COMP_WORDS[0]}" __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    if [[ $out == ":files" ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$out" -- "$cur"))
    fi
}
complete -F _volctl volctl
