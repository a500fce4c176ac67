#compdef idp

autoload -U is-at-least

_idp() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_idp_commands" \
"*::: :->idp" \
&& ret=0
    case $state in
    (idp)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:idp-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--force[Adopt a repository that already has commits or files (existing files are kept)]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::dir -- Where to create the state repo:_files' \
&& ret=0
;;
(plan)
_arguments "${_arguments_options[@]}" : \
'*-f+[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'*--file=[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--detailed-exitcode[Exit 2 when the plan has changes, 0 when there are none]' \
'--diff[Show unified diffs of the files that would change]' \
'--reschedule[Plan moving sticky placements that a changed request no longer fits]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::kind -- The kind of the requests (required by the flat form)\: mysql:_default' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'*-f+[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'*--file=[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'-m+[Extra text for the commit message body]:TEXT:_default' \
'--message=[Extra text for the commit message body]:TEXT:_default' \
'--remote=[The remote (a name or a URL)]:NAME:_default' \
'--branch=[Commit onto this branch (created from --base) for a pull request]:NAME:_default' \
'--base=[The branch to build on (default\: the current branch; with --branch, the remote'\''s default branch)]:NAME:_default' \
'--max-retries=[Attempts before giving up when other pipelines keep pushing first]:N:_default' \
'--timeout=[Give up when a network remote stays silent this long (connecting, or between two reads or writes)]:SECONDS:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-y[Do not ask for confirmation (required without a terminal)]' \
'--yes[Do not ask for confirmation (required without a terminal)]' \
'--reschedule[Move sticky placements that a changed request no longer fits]' \
'--push[Push the commit to a remote, re-planning and retrying when another pipeline pushed first]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::kind -- The kind of the requests (required by the flat form)\: mysql:_default' \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
'*-f+[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'*--file=[Request file or directory (repeatable; \`-\` reads stdin)]:PATH:_files' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
'::kind -- The kind of the requests (required by the flat form)\: mysql:_default' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':what -- mysql, app, or cell:_default' \
':target -- NAMESPACE/NAME of a request (namespace `default` when omitted), or the CELL:_default' \
'::environment -- The environment (with `cell`):_default' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'--remote=[The remote (a name or a URL)]:NAME:_default' \
'--branch=[Commit onto this branch (created from --base) for a pull request]:NAME:_default' \
'--base=[The branch to build on (default\: the current branch; with --branch, the remote'\''s default branch)]:NAME:_default' \
'--max-retries=[Attempts before giving up when other pipelines keep pushing first]:N:_default' \
'--timeout=[Give up when a network remote stays silent this long (connecting, or between two reads or writes)]:SECONDS:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-y[Do not ask for confirmation (required without a terminal)]' \
'--yes[Do not ask for confirmation (required without a terminal)]' \
'--push[Push the commit to a remote, re-planning and retrying when another pipeline pushed first]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
':kind -- The kind\: mysql:_default' \
':target -- NAMESPACE/NAME (namespace `default` when omitted):_default' \
&& ret=0
;;
(failover)
_arguments "${_arguments_options[@]}" : \
'--cell=[The cell to move]:CELL:_default' \
'--env=[Its environment (aliases such as prod work)]:ENV:_default' \
'(--lag-url)--replication-lag=[Observed replication lag in seconds (your reading)]:SECONDS:_default' \
'--lag-url=[A Prometheus-compatible API to read the lag from (instant query)]:URL:_default' \
'--lag-query=[The query to send to --lag-url (\$cell and \$environment are substituted)]:PROMQL:_default' \
'--reason=[Why\: recorded in the cell'\''s state file and the commit]:TEXT:_default' \
'--remote=[The remote (a name or a URL)]:NAME:_default' \
'--branch=[Commit onto this branch (created from --base) for a pull request]:NAME:_default' \
'--base=[The branch to build on (default\: the current branch; with --branch, the remote'\''s default branch)]:NAME:_default' \
'--max-retries=[Attempts before giving up when other pipelines keep pushing first]:N:_default' \
'--timeout=[Give up when a network remote stays silent this long (connecting, or between two reads or writes)]:SECONDS:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--force[Proceed without a lag reading or above RPO; recorded in the commit]' \
'--dry-run[Show the runbook and the changes; write nothing]' \
'-y[Do not ask for the cell name (required without a terminal)]' \
'--yes[Do not ask for the cell name (required without a terminal)]' \
'--push[Push the commit to a remote, re-planning and retrying when another pipeline pushed first]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(failback)
_arguments "${_arguments_options[@]}" : \
'--cell=[The cell to move]:CELL:_default' \
'--env=[Its environment (aliases such as prod work)]:ENV:_default' \
'(--lag-url)--replication-lag=[Observed replication lag in seconds (your reading)]:SECONDS:_default' \
'--lag-url=[A Prometheus-compatible API to read the lag from (instant query)]:URL:_default' \
'--lag-query=[The query to send to --lag-url (\$cell and \$environment are substituted)]:PROMQL:_default' \
'--reason=[Why\: recorded in the cell'\''s state file and the commit]:TEXT:_default' \
'--remote=[The remote (a name or a URL)]:NAME:_default' \
'--branch=[Commit onto this branch (created from --base) for a pull request]:NAME:_default' \
'--base=[The branch to build on (default\: the current branch; with --branch, the remote'\''s default branch)]:NAME:_default' \
'--max-retries=[Attempts before giving up when other pipelines keep pushing first]:N:_default' \
'--timeout=[Give up when a network remote stays silent this long (connecting, or between two reads or writes)]:SECONDS:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--force[Proceed without a lag reading or above RPO; recorded in the commit]' \
'--dry-run[Show the runbook and the changes; write nothing]' \
'-y[Do not ask for the cell name (required without a terminal)]' \
'--yes[Do not ask for the cell name (required without a terminal)]' \
'--push[Push the commit to a remote, re-planning and retrying when another pipeline pushed first]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(history)
_arguments "${_arguments_options[@]}" : \
'--namespace=[Only requests in this namespace]:NAMESPACE:_default' \
'--name=[Only requests with this name]:NAME:_default' \
'--cell=[Only requests in this cell]:CELL:_default' \
'-n+[At most N entries, newest first]:N:_default' \
'--limit=[At most N entries, newest first]:N:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
'--remote=[The remote (a name or a URL)]:NAME:_default' \
'--branch=[Commit onto this branch (created from --base) for a pull request]:NAME:_default' \
'--base=[The branch to build on (default\: the current branch; with --branch, the remote'\''s default branch)]:NAME:_default' \
'--max-retries=[Attempts before giving up when other pipelines keep pushing first]:N:_default' \
'--timeout=[Give up when a network remote stays silent this long (connecting, or between two reads or writes)]:SECONDS:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--force[Revert a commit that idp did not write]' \
'-y[Do not ask for confirmation (required without a terminal)]' \
'--yes[Do not ask for confirmation (required without a terminal)]' \
'--push[Push the commit to a remote, re-planning and retrying when another pipeline pushed first]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::commit -- The commit to revert (default\: the newest idp commit):_default' \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--strict[Treat warnings (cordoned candidates, policy drift) as errors]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_idp__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:idp-policy-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--costs[Show the price table used for cost estimates instead]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
'--cell=[Plan within this cell'\''s candidates (default\: the whole pool)]:CELL:_default' \
'--dr-profile=[As for a request naming this drProfile]:PROFILE:_default' \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'--ha[As for a request with ha\: true (adds the multi_az gate)]' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
':tier -- The tier:_default' \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
':old -- The policy before\: a file, or a revision of the state repo:_default' \
':new -- The policy after\: a file, or a revision of the state repo:_default' \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help]' \
'--help[Print help]' \
'::file -- The policy file to check:_files' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_idp__subcmd__policy__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:idp-policy-help-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--repo=[The state repo (default\: the current directory, when it is one)]:PATH:_files' \
'--policy=[A policy file to use instead of the state repo'\''s policy/policy.yaml]:FILE:_files' \
'-o+[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--output=[Output format of results on stdout]:OUTPUT:(table json yaml)' \
'--color=[When to use colour (NO_COLOR is honoured by \`auto\`)]:WHEN:(auto always never)' \
'-q[Silence notes on stderr (warnings and errors still show)]' \
'--quiet[Silence notes on stderr (warnings and errors still show)]' \
'--no-headers[Leave out table headers, for scripts]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':shell -- bash, zsh, fish, powershell or elvish:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_idp__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:idp-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(plan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(failover)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(failback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(history)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rollback)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(policy)
_arguments "${_arguments_options[@]}" : \
":: :_idp__subcmd__help__subcmd__policy_commands" \
"*::: :->policy" \
&& ret=0

    case $state in
    (policy)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:idp-help-policy-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(explain)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_idp_commands] )) ||
_idp_commands() {
    local commands; commands=(
'init:Create a state repo\: policy, Argo CD bootstrap, README, first commit' \
'plan:Validate requests, schedule them and show where they would land and why' \
'apply:Plan requests and commit the result to the state repo as one commit' \
'render:Print the manifests a request renders to, as one YAML stream (or JSON with -o json); writes nothing' \
'status:Show where a request is placed and why, or what a cell runs and on which side' \
'delete:Remove a request'\''s files in one commit (Argo CD prunes the resources)' \
'failover:Move a cell'\''s data, compute and traffic to its secondary cloud, as one commit' \
'failback:Return a failed-over cell to its primary cloud, as one commit' \
'history:Show idp'\''s commits as an audit log\: who placed what, where, and when' \
'rollback:Revert one idp commit as a new commit (default\: the newest)' \
'verify:Check a whole state repo\: the CI gate (exit 1 on any finding)' \
'policy:Inspect and check the placement policy' \
'completions:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'idp commands' commands "$@"
}
(( $+functions[_idp__subcmd__apply_commands] )) ||
_idp__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'idp apply commands' commands "$@"
}
(( $+functions[_idp__subcmd__completions_commands] )) ||
_idp__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'idp completions commands' commands "$@"
}
(( $+functions[_idp__subcmd__delete_commands] )) ||
_idp__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'idp delete commands' commands "$@"
}
(( $+functions[_idp__subcmd__failback_commands] )) ||
_idp__subcmd__failback_commands() {
    local commands; commands=()
    _describe -t commands 'idp failback commands' commands "$@"
}
(( $+functions[_idp__subcmd__failover_commands] )) ||
_idp__subcmd__failover_commands() {
    local commands; commands=()
    _describe -t commands 'idp failover commands' commands "$@"
}
(( $+functions[_idp__subcmd__help_commands] )) ||
_idp__subcmd__help_commands() {
    local commands; commands=(
'init:Create a state repo\: policy, Argo CD bootstrap, README, first commit' \
'plan:Validate requests, schedule them and show where they would land and why' \
'apply:Plan requests and commit the result to the state repo as one commit' \
'render:Print the manifests a request renders to, as one YAML stream (or JSON with -o json); writes nothing' \
'status:Show where a request is placed and why, or what a cell runs and on which side' \
'delete:Remove a request'\''s files in one commit (Argo CD prunes the resources)' \
'failover:Move a cell'\''s data, compute and traffic to its secondary cloud, as one commit' \
'failback:Return a failed-over cell to its primary cloud, as one commit' \
'history:Show idp'\''s commits as an audit log\: who placed what, where, and when' \
'rollback:Revert one idp commit as a new commit (default\: the newest)' \
'verify:Check a whole state repo\: the CI gate (exit 1 on any finding)' \
'policy:Inspect and check the placement policy' \
'completions:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'idp help commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__apply_commands] )) ||
_idp__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'idp help apply commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__completions_commands] )) ||
_idp__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'idp help completions commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__delete_commands] )) ||
_idp__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'idp help delete commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__failback_commands] )) ||
_idp__subcmd__help__subcmd__failback_commands() {
    local commands; commands=()
    _describe -t commands 'idp help failback commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__failover_commands] )) ||
_idp__subcmd__help__subcmd__failover_commands() {
    local commands; commands=()
    _describe -t commands 'idp help failover commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__help_commands] )) ||
_idp__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'idp help help commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__history_commands] )) ||
_idp__subcmd__help__subcmd__history_commands() {
    local commands; commands=()
    _describe -t commands 'idp help history commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__init_commands] )) ||
_idp__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'idp help init commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__plan_commands] )) ||
_idp__subcmd__help__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'idp help plan commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy_commands] )) ||
_idp__subcmd__help__subcmd__policy_commands() {
    local commands; commands=(
'show:Show the policy in force\: tiers, gates, weights and candidates' \
'explain:Show what a request of a tier would get, and why, without a request file' \
'test:Run the Rego tests (\`*_test.rego\`) of the policy rules' \
'diff:Show which placements in the state repo a policy change would decide differently' \
'validate:Check a policy file (default\: the policy in force) and report every problem' \
    )
    _describe -t commands 'idp help policy commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy__subcmd__diff_commands] )) ||
_idp__subcmd__help__subcmd__policy__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'idp help policy diff commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy__subcmd__explain_commands] )) ||
_idp__subcmd__help__subcmd__policy__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'idp help policy explain commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy__subcmd__show_commands] )) ||
_idp__subcmd__help__subcmd__policy__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'idp help policy show commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy__subcmd__test_commands] )) ||
_idp__subcmd__help__subcmd__policy__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'idp help policy test commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__policy__subcmd__validate_commands] )) ||
_idp__subcmd__help__subcmd__policy__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'idp help policy validate commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__render_commands] )) ||
_idp__subcmd__help__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'idp help render commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__rollback_commands] )) ||
_idp__subcmd__help__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'idp help rollback commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__status_commands] )) ||
_idp__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'idp help status commands' commands "$@"
}
(( $+functions[_idp__subcmd__help__subcmd__verify_commands] )) ||
_idp__subcmd__help__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'idp help verify commands' commands "$@"
}
(( $+functions[_idp__subcmd__history_commands] )) ||
_idp__subcmd__history_commands() {
    local commands; commands=()
    _describe -t commands 'idp history commands' commands "$@"
}
(( $+functions[_idp__subcmd__init_commands] )) ||
_idp__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'idp init commands' commands "$@"
}
(( $+functions[_idp__subcmd__plan_commands] )) ||
_idp__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'idp plan commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy_commands] )) ||
_idp__subcmd__policy_commands() {
    local commands; commands=(
'show:Show the policy in force\: tiers, gates, weights and candidates' \
'explain:Show what a request of a tier would get, and why, without a request file' \
'test:Run the Rego tests (\`*_test.rego\`) of the policy rules' \
'diff:Show which placements in the state repo a policy change would decide differently' \
'validate:Check a policy file (default\: the policy in force) and report every problem' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'idp policy commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__diff_commands] )) ||
_idp__subcmd__policy__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy diff commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__explain_commands] )) ||
_idp__subcmd__policy__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy explain commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help_commands] )) ||
_idp__subcmd__policy__subcmd__help_commands() {
    local commands; commands=(
'show:Show the policy in force\: tiers, gates, weights and candidates' \
'explain:Show what a request of a tier would get, and why, without a request file' \
'test:Run the Rego tests (\`*_test.rego\`) of the policy rules' \
'diff:Show which placements in the state repo a policy change would decide differently' \
'validate:Check a policy file (default\: the policy in force) and report every problem' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'idp policy help commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__diff_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help diff commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__explain_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__explain_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help explain commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__help_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help help commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__show_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help show commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__test_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help test commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__help__subcmd__validate_commands] )) ||
_idp__subcmd__policy__subcmd__help__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy help validate commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__show_commands] )) ||
_idp__subcmd__policy__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy show commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__test_commands] )) ||
_idp__subcmd__policy__subcmd__test_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy test commands' commands "$@"
}
(( $+functions[_idp__subcmd__policy__subcmd__validate_commands] )) ||
_idp__subcmd__policy__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'idp policy validate commands' commands "$@"
}
(( $+functions[_idp__subcmd__render_commands] )) ||
_idp__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'idp render commands' commands "$@"
}
(( $+functions[_idp__subcmd__rollback_commands] )) ||
_idp__subcmd__rollback_commands() {
    local commands; commands=()
    _describe -t commands 'idp rollback commands' commands "$@"
}
(( $+functions[_idp__subcmd__status_commands] )) ||
_idp__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'idp status commands' commands "$@"
}
(( $+functions[_idp__subcmd__verify_commands] )) ||
_idp__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'idp verify commands' commands "$@"
}

if [ "$funcstack[1]" = "_idp" ]; then
    _idp "$@"
else
    compdef _idp idp
fi
