# fish completion for tokenctl.
#
# Completes commands, each command's options, option values (-o text|json, files for --config,
# --token-cache and netrc --file), profile names (for -p and `use`), git-credential's
# get|store|erase, `databricks auth token` and `databricks version` (the Databricks CLI protocol)
# with their flags, and, after `exec ... --`, the command to run with its own completion.
# Profile names are read from the [profiles.NAME] headers of the config file that tokenctl
# itself would read (--config on the command line, TOKENCTL_CONFIG, $XDG_CONFIG_HOME, ~/.config),
# with sed: no tokenctl process is started while you type.

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

# Print the words after `exec ... --` (the current one included, even when empty); fail when
# the line is not an exec command past its "--".
function __tokenctl_exec_args
    set -l words (commandline -opc)
    set -l dashdash (contains -i -- -- $words); or return 1
    contains -- exec $words[1..$dashdash]; or return 1
    set -a words (commandline -ct)
    printf '%s\n' $words[(math $dashdash + 1)..-1]
end

# Succeed when the line is `tokenctl ... use` without its profile name yet: the words after the
# command (values of the global options aside) are all options.
function __tokenctl_use_needs_name
    set -l words (commandline -opc)
    set -l command
    set -l skip 0
    for w in $words[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case -p --profile --config --token-cache -o --output
                set skip 1
            case '-*'
            case '*'
                if test -z "$command"
                    set command $w
                else
                    return 1
                end
        end
    end
    test "$command" = use
end

# Print the words of the line that are neither options nor their values (the command, then
# databricks' subcommands, git-credential's operation, use's profile), up to a "--".
function __tokenctl_words
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --
                return 0
            case -p --profile --config --token-cache -o --output --host --client-id --scopes \
                --account-id --port --timeout --min-ttl --file --login --scope --resource \
                --audience --workspace-id
                set skip 1
            case '-*'
            case '*'
                printf '%s\n' $w
        end
    end
end

# Succeed when the command on the line is $argv[1] ("databricks auth token" is not `token`).
function __tokenctl_command_is
    set -l words (__tokenctl_words)
    test "$words[1]" = "$argv[1]"
end

# Succeed when the words of the line are exactly $argv ("databricks auth").
function __tokenctl_path_is
    set -l words (__tokenctl_words)
    test "$words" = "$argv"
end

set -l __tokenctl_commands login token refresh revoke list show netrc exec git-credential status use databricks

complete -c tokenctl -f

# Commands, until one is on the line.
set -l no_command "not __fish_seen_subcommand_from $__tokenctl_commands"
complete -c tokenctl -n $no_command -a login -d 'Log in in the browser and save the token set'
complete -c tokenctl -n $no_command -a token -d 'Print the access token, refreshed first if needed'
complete -c tokenctl -n $no_command -a refresh -d 'Refresh the token set now'
complete -c tokenctl -n $no_command -a revoke -d 'Revoke the tokens at the server and forget them'
complete -c tokenctl -n $no_command -a list -d 'Show every profile and its token status'
complete -c tokenctl -n $no_command -a show -d 'Show one profile in detail'
complete -c tokenctl -n $no_command -a netrc -d 'Print .netrc entries with fresh tokens, or merge them'
complete -c tokenctl -n $no_command -a exec -d 'Run a command with BEARER_TOKEN_FILE kept fresh'
complete -c tokenctl -n $no_command -a git-credential -d 'Git credential helper'
complete -c tokenctl -n $no_command -a status -d 'Say which profile is in effect and the state of its tokens'
complete -c tokenctl -n $no_command -a use -d 'Make a profile the default'
complete -c tokenctl -n $no_command -a databricks -d 'Answer Databricks tools as the Databricks CLI does'

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
complete -c tokenctl -n $login -l no-browser -d 'Do not start a browser; print the URL (or paste the redirect)'
complete -c tokenctl -n $login -l device -d 'Use the device authorization grant (RFC 8628)'
complete -c tokenctl -n $login -l no-qr -d 'With --device, do not draw the address as a QR code'
complete -c tokenctl -n $login -l timeout -x -d 'How long to wait for the browser (default 5m)'

# token
set -l token '__tokenctl_command_is token'
complete -c tokenctl -n $token -l min-ttl -x -d 'Least time the token must have left (90s, 5m, 1h)'
complete -c tokenctl -n "$token; and not __fish_contains_opt exec-credential" -l header \
    -d 'Print "Authorization: Bearer TOKEN"'
complete -c tokenctl -n "$token; and not __fish_contains_opt header" -l exec-credential \
    -d 'Print a kubectl ExecCredential'
complete -c tokenctl -n $token -l id-token -d 'Print the OpenID id token instead (refreshed first when due)'

# A variant of the token set instead of the profile's own token: token, netrc, git-credential,
# and exec before its "--".
function __tokenctl_takes_shape
    set -l words (__tokenctl_words)
    contains -- "$words[1]" token netrc git-credential; and return 0
    __fish_seen_subcommand_from exec; and not __tokenctl_exec_args >/dev/null
end
complete -c tokenctl -n __tokenctl_takes_shape -l scope -x -d 'A token with fewer scopes than the login granted'
complete -c tokenctl -n __tokenctl_takes_shape -l resource -x -d 'A token meant for one API (RFC 8707 resource URI)'
complete -c tokenctl -n __tokenctl_takes_shape -l audience -x -d 'A token exchanged for another audience (RFC 8693)'

# refresh, revoke, show
complete -c tokenctl -n '__fish_seen_subcommand_from refresh' -l all -d 'Refresh every profile that has a token set'
complete -c tokenctl -n '__fish_seen_subcommand_from revoke' -l all -d 'Revoke the tokens of every profile'
complete -c tokenctl -n '__fish_seen_subcommand_from revoke' -l local -d 'Only forget the tokens here'
complete -c tokenctl -n '__fish_seen_subcommand_from show' -l reveal -d 'Show the tokens in full'

# netrc
set -l netrc '__fish_seen_subcommand_from netrc'
complete -c tokenctl -n $netrc -l all -d 'Every profile that holds tokens'
complete -c tokenctl -n $netrc -l write -d 'Merge into the netrc file instead of printing'
complete -c tokenctl -n $netrc -l file -r -F -d 'Netrc file for --write (default $NETRC, ~/.netrc)'
complete -c tokenctl -n $netrc -l login -x -d 'Login to write (default netrc_login, else token)'

# exec: options until "--", then the command to run, completed as fish completes it alone.
complete -c tokenctl -n '__fish_seen_subcommand_from exec; and not __tokenctl_exec_args >/dev/null' \
    -l min-ttl -x -d 'Renew when less than this is left (90s, 5m, 1h)'
complete -c tokenctl -n '__tokenctl_exec_args >/dev/null' \
    -xa '(__fish_complete_subcommand --commandline (__tokenctl_exec_args))'

# git-credential: the operation git asks for, once.
set -l git_credential '__fish_seen_subcommand_from git-credential'
complete -c tokenctl -n "$git_credential; and not __fish_seen_subcommand_from get store erase" \
    -xa 'get store erase'

# status
complete -c tokenctl -n '__fish_seen_subcommand_from status' -l check \
    -d 'Also ask the server who the token belongs to (5 s at most)'

# databricks: the Databricks CLI protocol, `auth token` and `version`.
complete -c tokenctl -n '__tokenctl_path_is databricks' -xa auth -d 'Authentication commands (auth token)'
complete -c tokenctl -n '__tokenctl_path_is databricks' -xa version -d 'Print the Databricks CLI version tokenctl answers as'
complete -c tokenctl -n '__tokenctl_path_is databricks auth' -xa token \
    -d 'Print {access_token, token_type, expiry} for a Databricks tool'
set -l databricks_token '__tokenctl_path_is databricks auth token'
complete -c tokenctl -n $databricks_token -l host -x -d 'Find the profile by its Databricks host'
complete -c tokenctl -n $databricks_token -l account-id -x -d 'With --host: the Databricks account id'
complete -c tokenctl -n $databricks_token -l force-refresh \
    -d 'Refresh first, unless a process did in the last 60 seconds'
complete -c tokenctl -n $databricks_token -l workspace-id -x -d 'Accepted for the Databricks SDKs; not needed'
complete -c tokenctl -n $databricks_token -l experimental-is-unified-host -d 'Accepted for the Databricks SDKs; not needed'

# use: the profile to make the default, once.
complete -c tokenctl -n __tokenctl_use_needs_name -xa '(__tokenctl_profiles)'
