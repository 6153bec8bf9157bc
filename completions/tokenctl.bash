# bash completion for tokenctl                                  -*- shell-script -*-
#
# Completes commands, each command's options, option values (-o text|json, files for --config,
# --token-cache and netrc --file), profile names (for -p and `use`), git-credential's
# get|store|erase, `databricks auth token` and `databricks version` (the Databricks CLI protocol)
# with their flags, and, after `exec ... --`, the command to run and its own arguments (with
# that command's completion when the bash-completion package is loaded).
# Profile names are read from the [profiles.NAME] headers of the config file that tokenctl
# itself would read (--config on the command line, TOKENCTL_CONFIG, $XDG_CONFIG_HOME, ~/.config),
# with sed: no tokenctl process is started while you type.
#
# Works with or without the bash-completion package: its helpers are used when loaded,
# plain compgen otherwise.

_tokenctl_commands="login token refresh revoke list show netrc exec git-credential status use databricks"
_tokenctl_global_options="-p --profile --config --token-cache -o --output -v --verbose -q --quiet
  --version -h --help"
# Options that take a value in the next word (or after '=').
_tokenctl_value_options="-p --profile --config --token-cache -o --output --host --client-id
  --scopes --account-id --port --timeout --min-ttl --file --login --scope --resource --audience
  --workspace-id"

# Print the subcommands that may follow the command path $1 ("databricks", "databricks auth").
_tokenctl_subcommands()
{
    case $1 in
        databricks) echo "auth version" ;;
        "databricks auth") echo "token" ;;
    esac
}

# Print the options of command $1 (a command path for nested ones: "databricks auth token"),
# one word each.
_tokenctl_command_options()
{
    case $1 in
        login) echo "--host --client-id --scopes --account-id --port --no-browser --device --no-qr --timeout" ;;
        token) echo "--min-ttl --header --exec-credential --id-token --scope --resource --audience" ;;
        refresh) echo "--all" ;;
        revoke) echo "--all --local" ;;
        show) echo "--reveal" ;;
        netrc) echo "--all --write --file --login --scope --resource --audience" ;;
        exec) echo "--min-ttl --scope --resource --audience" ;;
        git-credential) echo "--scope --resource --audience" ;;
        status) echo "--check" ;;
        "databricks auth token")
            echo "--host --account-id --force-refresh --workspace-id --experimental-is-unified-host" ;;
    esac
}

# Print the config file path: --config in words[1..cword-1], else TOKENCTL_CONFIG, else
# $XDG_CONFIG_HOME/tokenctl/config.toml (absolute only), else ~/.config/tokenctl/config.toml.
_tokenctl_config_file()
{
    local i file=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config) file=${words[i + 1]} ;;
            --config=*) file=${words[i]#--config=} ;;
        esac
    done
    if [[ -z $file ]]; then
        if [[ -n ${TOKENCTL_CONFIG-} ]]; then
            file=$TOKENCTL_CONFIG
        elif [[ ${XDG_CONFIG_HOME-} == /* ]]; then
            file=$XDG_CONFIG_HOME/tokenctl/config.toml
        elif [[ -n ${HOME-} ]]; then
            file=$HOME/.config/tokenctl/config.toml
        fi
    fi
    [[ $file == "~/"* ]] && file=$HOME/${file#"~/"}
    printf '%s\n' "$file"
}

# Print the profile names of the config file, in file order, each once.
# Matches [profiles.NAME], [profiles."NAME"], [profiles.'NAME'] and their subtables.
_tokenctl_profiles()
{
    local file
    file=$(_tokenctl_config_file)
    [[ -n $file && -r $file ]] || return 0
    sed -n -E \
        -e "s/^[[:space:]]*\[[[:space:]]*profiles[[:space:]]*\.[[:space:]]*(\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))[[:space:]]*[].].*/\2\3\4/p" \
        -- "$file" 2>/dev/null |
        grep -E '^[A-Za-z0-9._-]{1,64}$' | awk '!seen[$0]++'
}

# Offer file names for the current word.
_tokenctl_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

# Complete the command line that follows `exec ... --`: the command name (a command on PATH, or
# a file when the word has a '/'), then its arguments: with bash-completion, by the command's
# own completion (_command_offset, which counts in COMP_WORDS), else as file names.
_tokenctl_exec_command()
{
    local i offset=
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            offset=$((i + 1))
            break
        fi
    done
    if [[ -n $offset && $COMP_CWORD -eq $offset && $cur != */* ]]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -c -- "$cur" | awk '!seen[$0]++'))
    elif [[ -n $offset && $COMP_CWORD -gt $offset ]] && declare -F _command_offset >/dev/null; then
        _command_offset "$offset"
    else
        _tokenctl_files
    fi
}

_tokenctl()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n =: || return
    else
        # Without bash-completion, COMP_WORDS is split at '=' (COMP_WORDBREAKS): glue
        # "--opt" "=" "value" back into "--opt=value".
        local i w
        words=()
        for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
            w=${COMP_WORDS[i]}
            if [[ ${#words[@]} -gt 0 && $i -gt 0 &&
                ( $w == "=" && ${words[-1]} == --* && ${words[-1]} != *=* ||
                  ${words[-1]} == --*= && ${COMP_WORDS[i - 1]} == "=" ) ]]; then
                words[-1]+=$w
            else
                words+=("$w")
            fi
            ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
        done
        [[ -z ${cword-} ]] && cword=${#words[@]}
        cur=${words[cword]-}
        prev=${words[cword - 1]-}
    fi

    # The command is the first word that is neither an option nor an option's value; for
    # databricks, the next such words are its subcommands (the command path), for git-credential
    # the operation, for use the profile name. A "--" ends tokenctl's options.
    local i command= cmdpath= operand= dashdash=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --)
                dashdash=$i
                break ;;
            --*=*) ;;
            -*) ;;
            *)
                if [[ " ${_tokenctl_value_options//$'\n'/ } " != *" ${words[i - 1]} "* ]]; then
                    if [[ -z $command ]]; then
                        command=${words[i]}
                        cmdpath=$command
                    elif [[ -z $operand && " $(_tokenctl_subcommands "$cmdpath") " == *" ${words[i]} "* ]]; then
                        cmdpath+=" ${words[i]}"
                    elif [[ -z $operand ]]; then
                        operand=${words[i]}
                    fi
                fi ;;
        esac
    done

    if [[ -n $dashdash ]]; then
        if [[ $command == exec ]]; then
            _tokenctl_exec_command
        else
            COMPREPLY=()
        fi
        return
    fi

    # "--opt=value": complete the value as if it were the next word.
    local value_of=$prev
    if [[ $cur == --*=* ]]; then
        value_of=${cur%%=*}
        cur=${cur#*=}
    elif [[ " ${_tokenctl_value_options//$'\n'/ } " != *" $prev "* ]]; then
        value_of=
    fi

    case $value_of in
        -p | --profile)
            COMPREPLY=($(compgen -W "$(_tokenctl_profiles)" -- "$cur"))
            return ;;
        -o | --output)
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            return ;;
        --config | --token-cache | --file)
            _tokenctl_files
            return ;;
        ?*)
            # A URL, an id, scopes, a port, a duration, a login name, a resource URI, an
            # audience or a Databricks workspace id: nothing to offer.
            COMPREPLY=()
            return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_tokenctl_global_options $(_tokenctl_command_options "$cmdpath")" \
            -- "$cur"))
    elif [[ -z $command ]]; then
        COMPREPLY=($(compgen -W "$_tokenctl_commands" -- "$cur"))
    elif [[ -z $operand && -n $(_tokenctl_subcommands "$cmdpath") ]]; then
        COMPREPLY=($(compgen -W "$(_tokenctl_subcommands "$cmdpath")" -- "$cur"))
    elif [[ $command == git-credential && -z $operand ]]; then
        COMPREPLY=($(compgen -W "get store erase" -- "$cur"))
    elif [[ $command == use && -z $operand ]]; then
        COMPREPLY=($(compgen -W "$(_tokenctl_profiles)" -- "$cur"))
    else
        # exec wants "--" before its command; other commands take no operand.
        COMPREPLY=()
    fi
}

complete -F _tokenctl tokenctl
