complete --keep-order --exclusive --command idp --arguments "(IDP_COMPLETE=fish idp -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
