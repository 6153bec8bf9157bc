# fish completion for tokenctl.
#
# Completes commands, each command's options, option values (-o text|json) and profile names.
# Profile names are read from the [profiles.NAME] headers of the config file that tokenctl
# itself would read (--config on the command line, TOKENCTL_CONFIG, $XDG_CONFIG_HOME, ~/.config),
# with sed: no tokenctl process is started while you type.
#
# Later landings add revoke, netrc, exec and git-credential: add them to the command list and
# give each its options below.

# Print the config file path tokenctl would read for the line being completed.
function __tokenctl_config_file
    set -l file
    set -l words (commandline -opc)
    set -l count (count $words)
    for i in (seq 2 $count)
        switch $words[$i]
            case --config
                if test $i -lt $count
                    set file $words[(math $i + 1)]
                end
            case '--config=*'
                set file (string replace -- --config= '' $words[$i])
        end
    end
    if test -z "$file"
        if set -q TOKENCTL_CONFIG; and test -n "$TOKENCTL_CONFIG"
            set file $TOKENCTL_CONFIG
        else if set -q XDG_CONFIG_HOME; and string match -q -- '/*' $XDG_CONFIG_HOME
            set file $XDG_CONFIG_HOME/tokenctl/config.toml
        else if set -q HOME; and test -n "$HOME"
            set file $HOME/.config/tokenctl/config.toml
        end
    end
    if string match -q -- '~/*' $file
        set file $HOME/(string sub -s 3 -- $file)
    end
    printf '%s\n' $file
end

# Print the profile names of the config file, in file order, each once.
function __tokenctl_profiles
    set -l file (__tokenctl_config_file)
    test -n "$file"; and test -r "$file"; or return 0
    sed -n -E \
        -e "s/^[[:space:]]*\[[[:space:]]*profiles[[:space:]]*\.[[:space:]]*(\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))[[:space:]]*[].].*/\2\3\4/p" \
        -- $file 2>/dev/null | string match -r -- '^[A-Za-z0-9._-]{1,64}$' | awk '!seen[$0]++'
end

set -l __tokenctl_commands login token refresh list show

complete -c tokenctl -f

# Commands, until one is on the line.
set -l no_command "not __fish_seen_subcommand_from $__tokenctl_commands"
complete -c tokenctl -n $no_command -a login -d 'Log in in the browser and save the token set'
complete -c tokenctl -n $no_command -a token -d 'Print the access token, refreshed first if needed'
complete -c tokenctl -n $no_command -a refresh -d 'Refresh the token set now'
complete -c tokenctl -n $no_command -a list -d 'Show every profile and its token status'
complete -c tokenctl -n $no_command -a show -d 'Show one profile in detail'

# Global options: before and after the command.
complete -c tokenctl -s p -l profile -x -a '(__tokenctl_profiles)' -d 'Profile to use'
complete -c tokenctl -l config -r -F -d 'Configuration file'
complete -c tokenctl -l token-cache -r -F -d 'Token cache file'
complete -c tokenctl -s o -l output -x -a 'text json' -d 'Output format'
complete -c tokenctl -s v -l verbose -d 'Show the HTTP exchange on stderr, tokens redacted'
complete -c tokenctl -s q -l quiet -d 'Print no progress or status messages'
complete -c tokenctl -l version -d 'Print the version and exit'
complete -c tokenctl -s h -l help -d 'Print a usage summary and exit'

# login
set -l login '__fish_seen_subcommand_from login'
complete -c tokenctl -n $login -l host -x -d 'Authorization server URL'
complete -c tokenctl -n $login -l client-id -x -d 'OAuth client id'
complete -c tokenctl -n $login -l scopes -x -d 'Scopes to request, space separated, as one argument'
complete -c tokenctl -n $login -l account-id -x -d 'Databricks account id (account-level login)'
complete -c tokenctl -n $login -l port -x -d 'Loopback port of the redirect URI (0: any free port)'
complete -c tokenctl -n $login -l no-browser -d 'Do not start a browser; print the URL only'
complete -c tokenctl -n $login -l timeout -x -d 'How long to wait for the browser (default 5m)'

# token
set -l token '__fish_seen_subcommand_from token'
complete -c tokenctl -n $token -l min-ttl -x -d 'Least time the token must have left (90s, 5m, 1h)'
complete -c tokenctl -n $token -l header -d 'Print "Authorization: Bearer TOKEN"'

# refresh, show
complete -c tokenctl -n '__fish_seen_subcommand_from refresh' -l all -d 'Refresh every profile that has a token set'
complete -c tokenctl -n '__fish_seen_subcommand_from show' -l reveal -d 'Show the tokens in full'
