# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_idp_global_optspecs
    string join \n repo= policy= o/output= q/quiet color= no-headers h/help V/version
end

function __fish_idp_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_idp_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_idp_using_subcommand
    set -l cmd (__fish_idp_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c idp -n "__fish_idp_needs_command" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_needs_command" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_needs_command" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_needs_command" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_needs_command" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_needs_command" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_needs_command" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_needs_command" -s V -l version -d 'Print version'
complete -c idp -n "__fish_idp_needs_command" -f -a "init" -d 'Create a state repo: policy, Argo CD bootstrap, README, first commit'
complete -c idp -n "__fish_idp_needs_command" -f -a "plan" -d 'Validate requests, schedule them and show where they would land and why'
complete -c idp -n "__fish_idp_needs_command" -f -a "apply" -d 'Plan requests and commit the result to the state repo as one commit'
complete -c idp -n "__fish_idp_needs_command" -f -a "render" -d 'Print the manifests a request renders to, as one YAML stream (or JSON with -o json); writes nothing'
complete -c idp -n "__fish_idp_needs_command" -f -a "status" -d 'Show where a request is placed and why, or what a cell runs and on which side'
complete -c idp -n "__fish_idp_needs_command" -f -a "delete" -d 'Remove a request\'s files in one commit (Argo CD prunes the resources)'
complete -c idp -n "__fish_idp_needs_command" -f -a "failover" -d 'Move a cell\'s data, compute and traffic to its secondary cloud, as one commit'
complete -c idp -n "__fish_idp_needs_command" -f -a "failback" -d 'Return a failed-over cell to its primary cloud, as one commit'
complete -c idp -n "__fish_idp_needs_command" -f -a "history" -d 'Show idp\'s commits as an audit log: who placed what, where, and when'
complete -c idp -n "__fish_idp_needs_command" -f -a "rollback" -d 'Revert one idp commit as a new commit (default: the newest)'
complete -c idp -n "__fish_idp_needs_command" -f -a "verify" -d 'Check a whole state repo: the CI gate (exit 1 on any finding)'
complete -c idp -n "__fish_idp_needs_command" -f -a "policy" -d 'Inspect and check the placement policy'
complete -c idp -n "__fish_idp_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c idp -n "__fish_idp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c idp -n "__fish_idp_using_subcommand init" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand init" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand init" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand init" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand init" -l force -d 'Adopt a repository that already has commits or files (existing files are kept)'
complete -c idp -n "__fish_idp_using_subcommand init" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand init" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand plan" -s f -l file -d 'Request file or directory (repeatable; `-` reads stdin)' -r -F
complete -c idp -n "__fish_idp_using_subcommand plan" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand plan" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand plan" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand plan" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand plan" -l detailed-exitcode -d 'Exit 2 when the plan has changes, 0 when there are none'
complete -c idp -n "__fish_idp_using_subcommand plan" -l diff -d 'Show unified diffs of the files that would change'
complete -c idp -n "__fish_idp_using_subcommand plan" -l reschedule -d 'Plan moving sticky placements that a changed request no longer fits'
complete -c idp -n "__fish_idp_using_subcommand plan" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand plan" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand apply" -s f -l file -d 'Request file or directory (repeatable; `-` reads stdin)' -r -F
complete -c idp -n "__fish_idp_using_subcommand apply" -s m -l message -d 'Extra text for the commit message body' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l remote -d 'The remote (a name or a URL)' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l branch -d 'Commit onto this branch (created from --base) for a pull request' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l base -d 'The branch to build on (default: the current branch; with --branch, the remote\'s default branch)' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l max-retries -d 'Attempts before giving up when other pipelines keep pushing first' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l timeout -d 'Give up when a network remote stays silent this long (connecting, or between two reads or writes)' -r
complete -c idp -n "__fish_idp_using_subcommand apply" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand apply" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand apply" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand apply" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand apply" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c idp -n "__fish_idp_using_subcommand apply" -l reschedule -d 'Move sticky placements that a changed request no longer fits'
complete -c idp -n "__fish_idp_using_subcommand apply" -l push -d 'Push the commit to a remote, re-planning and retrying when another pipeline pushed first'
complete -c idp -n "__fish_idp_using_subcommand apply" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand apply" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand render" -s f -l file -d 'Request file or directory (repeatable; `-` reads stdin)' -r -F
complete -c idp -n "__fish_idp_using_subcommand render" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand render" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand render" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand render" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand render" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand render" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand render" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand status" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand status" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand status" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand status" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand status" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand status" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand delete" -l remote -d 'The remote (a name or a URL)' -r
complete -c idp -n "__fish_idp_using_subcommand delete" -l branch -d 'Commit onto this branch (created from --base) for a pull request' -r
complete -c idp -n "__fish_idp_using_subcommand delete" -l base -d 'The branch to build on (default: the current branch; with --branch, the remote\'s default branch)' -r
complete -c idp -n "__fish_idp_using_subcommand delete" -l max-retries -d 'Attempts before giving up when other pipelines keep pushing first' -r
complete -c idp -n "__fish_idp_using_subcommand delete" -l timeout -d 'Give up when a network remote stays silent this long (connecting, or between two reads or writes)' -r
complete -c idp -n "__fish_idp_using_subcommand delete" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand delete" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand delete" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand delete" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c idp -n "__fish_idp_using_subcommand delete" -l push -d 'Push the commit to a remote, re-planning and retrying when another pipeline pushed first'
complete -c idp -n "__fish_idp_using_subcommand delete" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand delete" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand delete" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand failover" -l cell -d 'The cell to move' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l env -d 'Its environment (aliases such as prod work)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l replication-lag -d 'Observed replication lag in seconds (your reading)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l lag-url -d 'A Prometheus-compatible API to read the lag from (instant query)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l lag-query -d 'The query to send to --lag-url ($cell and $environment are substituted)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l reason -d 'Why: recorded in the cell\'s state file and the commit' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l remote -d 'The remote (a name or a URL)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l branch -d 'Commit onto this branch (created from --base) for a pull request' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l base -d 'The branch to build on (default: the current branch; with --branch, the remote\'s default branch)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l max-retries -d 'Attempts before giving up when other pipelines keep pushing first' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l timeout -d 'Give up when a network remote stays silent this long (connecting, or between two reads or writes)' -r
complete -c idp -n "__fish_idp_using_subcommand failover" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand failover" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand failover" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand failover" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand failover" -l force -d 'Proceed without a lag reading or above RPO; recorded in the commit'
complete -c idp -n "__fish_idp_using_subcommand failover" -l dry-run -d 'Show the runbook and the changes; write nothing'
complete -c idp -n "__fish_idp_using_subcommand failover" -s y -l yes -d 'Do not ask for the cell name (required without a terminal)'
complete -c idp -n "__fish_idp_using_subcommand failover" -l push -d 'Push the commit to a remote, re-planning and retrying when another pipeline pushed first'
complete -c idp -n "__fish_idp_using_subcommand failover" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand failover" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand failover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand failback" -l cell -d 'The cell to move' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l env -d 'Its environment (aliases such as prod work)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l replication-lag -d 'Observed replication lag in seconds (your reading)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l lag-url -d 'A Prometheus-compatible API to read the lag from (instant query)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l lag-query -d 'The query to send to --lag-url ($cell and $environment are substituted)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l reason -d 'Why: recorded in the cell\'s state file and the commit' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l remote -d 'The remote (a name or a URL)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l branch -d 'Commit onto this branch (created from --base) for a pull request' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l base -d 'The branch to build on (default: the current branch; with --branch, the remote\'s default branch)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l max-retries -d 'Attempts before giving up when other pipelines keep pushing first' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l timeout -d 'Give up when a network remote stays silent this long (connecting, or between two reads or writes)' -r
complete -c idp -n "__fish_idp_using_subcommand failback" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand failback" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand failback" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand failback" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand failback" -l force -d 'Proceed without a lag reading or above RPO; recorded in the commit'
complete -c idp -n "__fish_idp_using_subcommand failback" -l dry-run -d 'Show the runbook and the changes; write nothing'
complete -c idp -n "__fish_idp_using_subcommand failback" -s y -l yes -d 'Do not ask for the cell name (required without a terminal)'
complete -c idp -n "__fish_idp_using_subcommand failback" -l push -d 'Push the commit to a remote, re-planning and retrying when another pipeline pushed first'
complete -c idp -n "__fish_idp_using_subcommand failback" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand failback" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand failback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand history" -l namespace -d 'Only requests in this namespace' -r
complete -c idp -n "__fish_idp_using_subcommand history" -l name -d 'Only requests with this name' -r
complete -c idp -n "__fish_idp_using_subcommand history" -l cell -d 'Only requests in this cell' -r
complete -c idp -n "__fish_idp_using_subcommand history" -s n -l limit -d 'At most N entries, newest first' -r
complete -c idp -n "__fish_idp_using_subcommand history" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand history" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand history" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand history" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand history" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand history" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand history" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand rollback" -l remote -d 'The remote (a name or a URL)' -r
complete -c idp -n "__fish_idp_using_subcommand rollback" -l branch -d 'Commit onto this branch (created from --base) for a pull request' -r
complete -c idp -n "__fish_idp_using_subcommand rollback" -l base -d 'The branch to build on (default: the current branch; with --branch, the remote\'s default branch)' -r
complete -c idp -n "__fish_idp_using_subcommand rollback" -l max-retries -d 'Attempts before giving up when other pipelines keep pushing first' -r
complete -c idp -n "__fish_idp_using_subcommand rollback" -l timeout -d 'Give up when a network remote stays silent this long (connecting, or between two reads or writes)' -r
complete -c idp -n "__fish_idp_using_subcommand rollback" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand rollback" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand rollback" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand rollback" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand rollback" -l force -d 'Revert a commit that idp did not write'
complete -c idp -n "__fish_idp_using_subcommand rollback" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c idp -n "__fish_idp_using_subcommand rollback" -l push -d 'Push the commit to a remote, re-planning and retrying when another pipeline pushed first'
complete -c idp -n "__fish_idp_using_subcommand rollback" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand rollback" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand verify" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand verify" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand verify" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand verify" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand verify" -l strict -d 'Treat warnings (cordoned candidates, policy drift) as errors'
complete -c idp -n "__fish_idp_using_subcommand verify" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand verify" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "show" -d 'Show the policy in force: tiers, gates, weights and candidates'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "explain" -d 'Show what a request of a tier would get, and why, without a request file'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "test" -d 'Run the Rego tests (`*_test.rego`) of the policy rules'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "diff" -d 'Show which placements in the state repo a policy change would decide differently'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "validate" -d 'Check a policy file (default: the policy in force) and report every problem'
complete -c idp -n "__fish_idp_using_subcommand policy; and not __fish_seen_subcommand_from show explain test diff validate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -l costs -d 'Show the price table used for cost estimates instead'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l cell -d 'Plan within this cell\'s candidates (default: the whole pool)' -r
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l dr-profile -d 'As for a request naming this drProfile' -r
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l ha -d 'As for a request with ha: true (adds the multi_az gate)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from explain" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the policy in force: tiers, gates, weights and candidates'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "explain" -d 'Show what a request of a tier would get, and why, without a request file'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run the Rego tests (`*_test.rego`) of the policy rules'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show which placements in the state repo a policy change would decide differently'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check a policy file (default: the policy in force) and report every problem'
complete -c idp -n "__fish_idp_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c idp -n "__fish_idp_using_subcommand completions" -l repo -d 'The state repo (default: the current directory, when it is one)' -r -F
complete -c idp -n "__fish_idp_using_subcommand completions" -l policy -d 'A policy file to use instead of the state repo\'s policy/policy.yaml' -r -F
complete -c idp -n "__fish_idp_using_subcommand completions" -s o -l output -d 'Output format of results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c idp -n "__fish_idp_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR is honoured by `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c idp -n "__fish_idp_using_subcommand completions" -s q -l quiet -d 'Silence notes on stderr (warnings and errors still show)'
complete -c idp -n "__fish_idp_using_subcommand completions" -l no-headers -d 'Leave out table headers, for scripts'
complete -c idp -n "__fish_idp_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "init" -d 'Create a state repo: policy, Argo CD bootstrap, README, first commit'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "plan" -d 'Validate requests, schedule them and show where they would land and why'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "apply" -d 'Plan requests and commit the result to the state repo as one commit'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "render" -d 'Print the manifests a request renders to, as one YAML stream (or JSON with -o json); writes nothing'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "status" -d 'Show where a request is placed and why, or what a cell runs and on which side'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "delete" -d 'Remove a request\'s files in one commit (Argo CD prunes the resources)'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "failover" -d 'Move a cell\'s data, compute and traffic to its secondary cloud, as one commit'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "failback" -d 'Return a failed-over cell to its primary cloud, as one commit'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "history" -d 'Show idp\'s commits as an audit log: who placed what, where, and when'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "rollback" -d 'Revert one idp commit as a new commit (default: the newest)'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "verify" -d 'Check a whole state repo: the CI gate (exit 1 on any finding)'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "policy" -d 'Inspect and check the placement policy'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c idp -n "__fish_idp_using_subcommand help; and not __fish_seen_subcommand_from init plan apply render status delete failover failback history rollback verify policy completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c idp -n "__fish_idp_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "show" -d 'Show the policy in force: tiers, gates, weights and candidates'
complete -c idp -n "__fish_idp_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "explain" -d 'Show what a request of a tier would get, and why, without a request file'
complete -c idp -n "__fish_idp_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "test" -d 'Run the Rego tests (`*_test.rego`) of the policy rules'
complete -c idp -n "__fish_idp_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "diff" -d 'Show which placements in the state repo a policy change would decide differently'
complete -c idp -n "__fish_idp_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "validate" -d 'Check a policy file (default: the policy in force) and report every problem'
