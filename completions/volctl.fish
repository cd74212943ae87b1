# fish completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Put it in ~/.config/fish/completions/.
function __volctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (command $words[1] __complete -- $words[2..-1] 2>/dev/null)
    if test "$out[1]" = ":files"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $out
    end
end
complete -c volctl -f -a '(__volctl_complete)'
