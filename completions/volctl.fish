complete -c volctl -s h -l help -d 'Print help'
complete -c volctl -s V -l version -d 'Print version'
