#!/usr/bin/env bash
# Whole-process benchmarks of idp: each a ratio against a floor measured side
# by side in the same run (hyperfine), with a target. Prints a table and
# writes it to bench/results.md. See docs/performance.md.
#
#   bench/run.sh                               # full sizes (long: see docs/performance.md)
#   N_BULK=500 N_BIG=2000 bench/run.sh         # a quick run
#   ONLY="plan bulk" bench/run.sh              # a subset: plan, big, bulk, push
#
# Environment (defaults in brackets):
#   N_BULK [10000]   requests in the bulk apply / verify benchmarks
#   N_BIG [100000]   placements in the big state repo (cached in bench/.cache/)
#   N_PIPELINES [16] concurrent `apply --push` pipelines
#   RUNS [100]       hyperfine runs of the fast benchmarks (plan): a few ms each, so
#                    medians of many runs, which a noisy VM needs
#   ROUNDS [10]      the fast benchmarks' runs are split into this many rounds,
#                    alternating which command goes first (see `side_by_side`)
#   BULK_RUNS [3]    hyperfine runs of the bulk benchmarks (apply, git)
#   VERIFY_RUNS [BULK_RUNS] hyperfine runs of verify
#   VERIFY_TIMEOUT [7200] seconds before the verify benchmark is given up
#   BIG_RUNS [RUNS]  hyperfine runs of the big-repo plan benchmark
#   PUSH_ROUNDS [3]  rounds of the concurrent-push benchmark
#   BIG_CHUNK [5000] requests per `idp apply` when building the big repo
#   BIG_BUILD [union] how to build it: union or sequential (see below); `check`
#                    compares the two for N_CHECK [300] requests and exits
#   SKIP_BUILD [0]   1: use target/release/idp as it is
#   KEEP [0]         1: keep the scratch directory
#   ONLY [all]       which benchmarks: plan big bulk push
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N_BULK=${N_BULK:-10000}
N_BIG=${N_BIG:-100000}
N_PIPELINES=${N_PIPELINES:-16}
RUNS=${RUNS:-100}
ROUNDS=${ROUNDS:-10}
BULK_RUNS=${BULK_RUNS:-3}
VERIFY_RUNS=${VERIFY_RUNS:-$BULK_RUNS}
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-7200}
BIG_RUNS=${BIG_RUNS:-$RUNS}
PUSH_ROUNDS=${PUSH_ROUNDS:-3}
BIG_CHUNK=${BIG_CHUNK:-5000}
ONLY=${ONLY:-plan big bulk push}
CACHE=$ROOT/bench/.cache
IDP=$ROOT/target/release/idp
GEN=$ROOT/bench/gen-requests
RESULTS=$ROOT/bench/results.md

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }

# --- tools -------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
command -v git >/dev/null || need+=(git)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/idp-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then say "scratch: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$CACHE"
# A private copy: a rebuild during the run must not change what is measured.
cp "$IDP" "$WORK/idp"
IDP=$WORK/idp
IDP_SHA=$(sha256sum "$IDP" | cut -c1-12)

# One identity for idp (libgit2 reads the repo config) and the git CLI, and
# no user or system git config in the measurements.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$WORK/gitconfig
git config --file "$GIT_CONFIG_GLOBAL" user.name bench
git config --file "$GIT_CONFIG_GLOBAL" user.email bench@localhost
git config --file "$GIT_CONFIG_GLOBAL" init.defaultBranch main
# No background `git gc --auto` after the floor's big commit: it would race
# the next run's clean-up and steal CPU from the next measurement.
git config --file "$GIT_CONFIG_GLOBAL" gc.auto 0
git config --file "$GIT_CONFIG_GLOBAL" maintenance.auto false
export NO_COLOR=1
unset IDP_REPO

# A state repo made by `idp init`, with the identity in its config.
new_state() {
  "$IDP" -q init "$1" >/dev/null
  git -C "$1" config user.name bench
  git -C "$1" config user.email bench@localhost
}

# Median (s) of command $2 (0-based) in hyperfine export $1.
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.2f}")' "$1" "$2"; }
# "PASS" when $1 <= $2.
verdict() { python3 -c 'import sys; print("PASS" if float(sys.argv[1]) <= float(sys.argv[2]) else "FAIL")' "$1" "$2"; }
human() { python3 -c '
import sys
s = float(sys.argv[1])
print(f"{s*1e3:.1f} ms" if s < 1 else f"{s:.2f} s")' "$1"; }

ROWS=()
NOTES=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# -N (no shell) for the millisecond commands: the shell-startup correction
# is noisier than git rev-parse itself on a loaded machine.
hf() { hyperfine --style basic --warmup "${WARMUP:-0}" "$@" >&2; }

# side_by_side OUT RUNS NAME1 CMD1 NAME2 CMD2: two millisecond commands, their
# runs split into $ROUNDS hyperfine rounds that alternate which goes first,
# every run's time pooled into OUT (hyperfine's export shape). One hyperfine
# call runs all of one command, then all of the other, so a slow spell of a
# shared VM lands on one of them and moves the ratio; interleaved, it slows
# both alike. Each round warms up 10 runs: the first command of a hyperfine
# call runs slow for longer than 3.
side_by_side() {
  local out=$1 runs=$2 n1=$3 c1=$4 n2=$5 c2=$6 r
  local per=$((runs / ROUNDS > 0 ? runs / ROUNDS : 1))
  for ((r = 0; r < ROUNDS; r++)); do
    if ((r % 2 == 0)); then
      WARMUP=10 hf -N --runs "$per" --export-json "$out.$r" -n "$n1" "$c1" -n "$n2" "$c2"
    else
      WARMUP=10 hf -N --runs "$per" --export-json "$out.$r" -n "$n2" "$c2" -n "$n1" "$c1"
    fi
  done
  python3 - "$out" "$ROUNDS" "$n1" "$n2" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {n: [] for n in names}
for r in range(rounds):
    for result in json.load(open(f"{out}.{r}"))["results"]:
        times[result["command"]] += result["times"]
json.dump({"results": [{"command": n, "median": statistics.median(times[n]), "times": times[n]} for n in names]}, open(out, "w"))
PY
}

say "generator check: every (cell, tier, ha, drProfile) against $IDP"
"$GEN" --check "$IDP" >&2

# --- 1. plan vs git rev-parse ------------------------------------------------
if wants plan; then
  say "1. idp plan of one request vs git rev-parse HEAD"
  new_state "$WORK/plan-repo"
  "$GEN" "$WORK/plan-req" 1 --start 9000000
  req=$(ls "$WORK"/plan-req/*.yaml)
  side_by_side "$WORK/plan.json" "$RUNS" \
    "idp plan" "$IDP plan -f $req --repo $WORK/plan-repo -o json" \
    "git rev-parse HEAD" "git -C $WORK/plan-repo rev-parse HEAD"
  a=$(median "$WORK/plan.json" 0) b=$(median "$WORK/plan.json" 1) r=$(ratio "$a" "$b")
  row "plan one request vs \`git rev-parse HEAD\`" "$(human "$a")" "$(human "$b")" "$r×" "≤ 3×" "$(verdict "$r" 3)"
fi

# --- 2. plan against a big repo vs a fresh one -------------------------------
# The big repo is bare (a checkout of N_BIG placements is ~6 N_BIG files that
# plan never reads: it reads the object database at HEAD), and so is its
# fresh counterpart; both are packed (`git gc`), as a served repo would be.
#
# Two ways to build it, both from files idp itself writes:
#   sequential: `idp apply` of BIG_CHUNK requests at a time onto the growing
#     repo, one commit per chunk: the honest way, but each apply pays for the
#     size of the repo (see docs/performance.md), far too slow for 100,000.
#   union (default): `idp apply` of each chunk into its own fresh copy of the
#     `idp init` repo, then one commit of the union of their trees, built with
#     git plumbing (update-index --index-info, write-tree, commit-tree). A MySQL
#     request's files depend only on the request and the policy, never on the
#     other placements, and no two requests share a file, so the union is the
#     tree sequential applies produce (checked for small N by
#     `BIG_BUILD=check`). The last request is then applied by idp on top, so
#     HEAD is an ordinary one-request idp commit, as in a repo that grew by
#     many small applies.
big_chunks() { # dir n: split requests 0..n-1 into dir.chunks/NNN/
  local dir=$1 n=$2 c=0
  for ((i = 0; i < n; i += BIG_CHUNK)); do
    "$GEN" "$dir.chunks/$(printf %04d $c)" "$((i + BIG_CHUNK < n ? BIG_CHUNK : n - i))" --start "$i"
    c=$((c + 1))
  done
}

build_big_sequential() {
  local dir=$1 n=$2
  big_chunks "$dir" "$n"
  new_state "$dir.seed"
  git clone -q --bare "$dir.seed" "$dir"
  for chunk in "$dir".chunks/*; do
    say "   chunk ${chunk##*/}"
    /usr/bin/time -f "   %e s, %M KB max RSS" "$IDP" -q apply -f "$chunk" --repo "$dir" --yes -o json >/dev/null
  done
  rm -rf "$dir.seed" "$dir.chunks"
}

build_big_union() {
  local dir=$1 n=$2
  big_chunks "$dir" "$((n - 1))"
  new_state "$dir.seed"
  git clone -q --bare "$dir.seed" "$dir"
  git clone -q --bare "$dir.seed" "$dir.fresh"
  : >"$dir.entries"
  for chunk in "$dir".chunks/*; do
    local c=${chunk##*/}
    say "   chunk $c"
    rm -rf "$dir.c" && cp -a "$dir.fresh" "$dir.c"
    /usr/bin/time -f "   %e s, %M KB max RSS" "$IDP" -q apply -f "$chunk" --repo "$dir.c" --yes -o json >/dev/null
    git -C "$dir" fetch -q "$dir.c" "main:refs/chunks/$c"
    git -C "$dir" ls-tree -r "refs/chunks/$c" >>"$dir.entries"
  done
  sort -u "$dir.entries" | GIT_INDEX_FILE=$dir.index git -C "$dir" update-index --add --index-info
  local tree commit
  tree=$(GIT_INDEX_FILE=$dir.index git -C "$dir" write-tree)
  commit=$(git -C "$dir" commit-tree "$tree" -p main -m "bench: $((n - 1)) placements applied by idp in chunks of $BIG_CHUNK")
  git -C "$dir" update-ref refs/heads/main "$commit"
  git -C "$dir" for-each-ref --format='delete %(refname)' refs/chunks | git -C "$dir" update-ref --stdin
  "$GEN" "$dir.last" 1 --start "$((n - 1))"
  "$IDP" -q apply -f "$dir.last" --repo "$dir" --yes -o json >/dev/null
  rm -rf "$dir.seed" "$dir.fresh" "$dir.c" "$dir.chunks" "$dir.entries" "$dir.index" "$dir.last"
}

if [ "${BIG_BUILD:-union}" = check ]; then
  # The union build yields the tree of sequential applies (small N only).
  N=${N_CHECK:-300}
  build_big_sequential "$WORK/seq.git" "$N"
  build_big_union "$WORK/union.git" "$N"
  a=$(git -C "$WORK/seq.git" rev-parse 'HEAD^{tree}') b=$(git -C "$WORK/union.git" rev-parse 'HEAD^{tree}')
  [ "$a" = "$b" ] && say "union build == sequential build for N=$N ($a)" || { say "trees differ: $a vs $b"; exit 1; }
  exit 0
fi

if wants big; then
  big=$CACHE/big-$N_BIG.git
  if [ ! -f "$big/idp-bench-complete" ]; then
    rm -rf "$big"
    build=${BIG_BUILD:-union}
    say "2. building the $N_BIG-placement state repo ($build, chunks of $BIG_CHUNK; cached in $big)"
    start=$(date +%s)
    "build_big_$build" "$big" "$N_BIG"
    git -C "$big" gc -q
    echo "built ($build, chunks of $BIG_CHUNK) in $(($(date +%s) - start)) s on $(date -u +%FT%TZ)" >"$big/idp-bench-complete"
  fi
  NOTES+=("big repo: $(cat "$big/idp-bench-complete"); $(git -C "$big" count-objects -vH | awk '/size-pack/ {print "pack " $2 " " $3}'), $(git -C "$big" ls-tree -r --name-only HEAD | wc -l) files at HEAD")
  new_state "$WORK/fresh-seed"
  git clone -q --bare "$WORK/fresh-seed" "$WORK/fresh.git"
  git -C "$WORK/fresh.git" gc -q
  "$GEN" "$WORK/big-req" 1 --start 9000001
  req=$(ls "$WORK"/big-req/*.yaml)
  say "2. idp plan of one new request: $N_BIG-placement repo vs fresh repo"
  side_by_side "$WORK/big.json" "$BIG_RUNS" \
    "idp plan (big repo)" "$IDP plan -f $req --repo $big -o json" \
    "idp plan (fresh repo)" "$IDP plan -f $req --repo $WORK/fresh.git -o json"
  a=$(median "$WORK/big.json" 0) b=$(median "$WORK/big.json" 1) r=$(ratio "$a" "$b")
  row "plan one new request, $N_BIG-placement repo vs fresh repo" "$(human "$a")" "$(human "$b")" "$r×" "≤ 1.5×" "$(verdict "$r" 1.5)"
  # How the repo itself scales: what one more request's commit adds, and
  # what a clone (what Argo CD's repo server and every pipeline do) costs.
  objs=$(git -C "$big" rev-list --objects HEAD~1..HEAD | cut -d' ' -f1 | git -C "$big" cat-file --batch-check='%(objecttype) %(objectsize)' |
    awk '{n++; s += $2; if ($1 == "tree") {t++; ts += $2}} END {printf "%d objects, %.0f KB (%d trees, %.0f KB)", n, s / 1024, t, ts / 1024}')
  cstart=$(date +%s.%N)
  git clone -q --bare --no-local "$big" "$WORK/clone-bare.git"
  cbare=$(python3 -c "print(f'{$(date +%s.%N) - $cstart:.1f}')")
  cstart=$(date +%s.%N)
  git clone -q --no-local "$big" "$WORK/clone-checkout"
  ccheck=$(python3 -c "print(f'{$(date +%s.%N) - $cstart:.1f}')")
  csize=$(du -sh "$WORK/clone-checkout" | cut -f1)
  rm -rf "$WORK/clone-bare.git" "$WORK/clone-checkout"
  NOTES+=("$N_BIG-placement repo: the last one-request idp commit added $objs (uncompressed); full clone $cbare s bare, $ccheck s with checkout ($csize on disk); platform/ holds $(git -C "$big" ls-tree -r -l HEAD platform | awk '{s += $4} END {printf "%.0f MB", s / 1e6}') of manifests")
fi

# --- 3./4. bulk apply vs git add+commit; verify vs the bulk apply ------------
if wants bulk; then
  say "3. bulk: $N_BULK requests"
  "$GEN" "$WORK/bulk-req" "$N_BULK"
  new_state "$WORK/bulk-fresh"
  # One apply to produce the tree (and the repo that verify reads).
  cp -a "$WORK/bulk-fresh" "$WORK/bulk-done"
  /usr/bin/time -v -o "$WORK/bulk-apply.time" \
    "$IDP" -q apply -f "$WORK/bulk-req" --repo "$WORK/bulk-done" --yes -o json >"$WORK/bulk-apply.json"
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/bulk-apply.time")
  files=$(git -C "$WORK/bulk-done" diff --name-only HEAD~1 HEAD | wc -l)
  # The floor: the git CLI committing exactly those files on the same
  # `idp init` commit, in a fresh copy whose work tree already holds them.
  mkdir "$WORK/bulk-tree"
  git -C "$WORK/bulk-done" archive HEAD | tar -x -C "$WORK/bulk-tree"
  git -C "$WORK/bulk-fresh" status --porcelain | (! grep -q .) # clean seed
  /usr/bin/time -v -o "$WORK/git-commit.time" bash -c "
    cp -a '$WORK/bulk-fresh' '$WORK/git-once' && cp -a '$WORK/bulk-tree/.' '$WORK/git-once/' &&
    cd '$WORK/git-once' && git add -A && git commit -qm bulk"
  git_rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/git-commit.time")
  same=$(git -C "$WORK/git-once" rev-parse HEAD^{tree})
  [ "$same" = "$(git -C "$WORK/bulk-done" rev-parse HEAD^{tree})" ] || {
    echo "the git floor's tree differs from idp's" >&2
    exit 1
  }
  hf --runs "$BULK_RUNS" --export-json "$WORK/bulk.json" \
    --prepare "rm -rf $WORK/a && cp -a $WORK/bulk-fresh $WORK/a" \
    -n "idp apply ($N_BULK requests)" "$IDP -q apply -f $WORK/bulk-req --repo $WORK/a --yes -o json" \
    --prepare "rm -rf $WORK/g && cp -a $WORK/bulk-fresh $WORK/g && cp -a $WORK/bulk-tree/. $WORK/g/" \
    -n "git add -A && git commit" "cd $WORK/g && git add -A && git commit -qm bulk"
  a=$(median "$WORK/bulk.json" 0) g=$(median "$WORK/bulk.json" 1)
  r=$(ratio "$a" "$g")
  row "apply $N_BULK requests (one commit, $files files) vs \`git add -A && git commit\`" "$(human "$a")" "$(human "$g")" "$r×" "≤ 1.5×" "$(verdict "$r" 1.5)"
  mb=$(python3 -c "print(f'{$rss_kb/1024:.0f}')")
  row "apply $N_BULK requests: peak memory (max RSS)" "$mb MB" "$(python3 -c "print(f'{$git_rss_kb/1024:.0f}')") MB (git commit)" "–" "≤ 256 MB" "$(verdict "$mb" 256)"
  NOTES+=("bulk repo: commit message of the $N_BULK-request commit $(git -C "$WORK/bulk-done" cat-file -s HEAD) bytes; platform/ holds $(git -C "$WORK/bulk-done" ls-tree -r -l HEAD platform | awk '{s += $4} END {printf "%.1f MB", s / 1e6}') of manifests (Argo CD's default cap for one directory-type Application is 10M)")
  # verify, right after (same run, same repo); time-boxed: it can take very
  # long (docs/performance.md), and a timed-out run is reported as such.
  say "4. idp verify of the $N_BULK-request repo (runs: $VERIFY_RUNS, time box: ${VERIFY_TIMEOUT}s per run)"
  vstart=$(date +%s.%N)
  if timeout "$VERIFY_TIMEOUT" hyperfine --style basic --runs "$VERIFY_RUNS" --export-json "$WORK/verify.json" \
    -n "idp verify ($N_BULK requests)" "$IDP verify --repo $WORK/bulk-done -o json" >&2; then
    v=$(median "$WORK/verify.json" 0)
    r=$(ratio "$v" "$a")
    row "verify the $N_BULK-request repo vs the apply that produced it" "$(human "$v")" "$(human "$a")" "$r×" "≤ 2×" "$(verdict "$r" 2)"
  else
    v=$(python3 -c "print($(date +%s.%N) - $vstart)")
    row "verify the $N_BULK-request repo vs the apply that produced it" "> $(human "$v") (timed out)" "$(human "$a")" "> $(ratio "$v" "$a")×" "≤ 2×" "FAIL"
  fi
fi

# --- 5. concurrent apply --push ----------------------------------------------
if wants push; then
  say "5. $N_PIPELINES concurrent apply --push pipelines, $PUSH_ROUNDS rounds"
  "$GEN" "$WORK/push-req" "$((N_PIPELINES * PUSH_ROUNDS + 1))" --start 8000000
  mapfile -t reqs < <(ls "$WORK"/push-req/*.yaml)
  walls=() attempts_all=() landed_all=0
  # The floor: one uncontended apply --push (median of 5), for scale.
  new_state "$WORK/solo-seed"
  git clone -q --bare "$WORK/solo-seed" "$WORK/solo.git"
  hf --runs 5 --export-json "$WORK/solo.json" \
    --prepare "rm -rf $WORK/solo && git clone -q $WORK/solo.git $WORK/solo && git -C $WORK/solo config user.name bench && git -C $WORK/solo config user.email bench@localhost && git -C $WORK/solo.git update-ref refs/heads/main \$(git -C $WORK/solo-seed rev-parse HEAD)" \
    -n "idp apply --push (uncontended)" "$IDP -q apply -f ${reqs[-1]} --repo $WORK/solo --yes --push -o json"
  solo=$(median "$WORK/solo.json" 0)
  for ((round = 0; round < PUSH_ROUNDS; round++)); do
    d=$WORK/push-$round
    new_state "$d/seed"
    git clone -q --bare "$d/seed" "$d/remote.git"
    for ((p = 0; p < N_PIPELINES; p++)); do
      git clone -q "$d/remote.git" "$d/p$p"
      git -C "$d/p$p" config user.name "pipeline-$p"
      git -C "$d/p$p" config user.email "p$p@localhost"
    done
    start=$(date +%s.%N)
    pids=()
    for ((p = 0; p < N_PIPELINES; p++)); do
      "$IDP" -q apply -f "${reqs[round * N_PIPELINES + p]}" --repo "$d/p$p" --yes --push -o json >"$d/p$p.json" 2>"$d/p$p.err" &
      pids+=($!)
    done
    fails=0
    for pid in "${pids[@]}"; do wait "$pid" || fails=$((fails + 1)); done
    end=$(date +%s.%N)
    walls+=("$(python3 -c "print(f'{$end - $start:.2f}')")")
    commits=$(git -C "$d/remote.git" rev-list --count main)
    landed=$((commits - 1))
    landed_all=$((landed_all + landed))
    for ((p = 0; p < N_PIPELINES; p++)); do
      attempts_all+=("$(python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["landed"]["attempts"])
except Exception: print("nan")' "$d/p$p.json")")
    done
    say "   round $round: ${walls[-1]} s, $landed/$N_PIPELINES landed, $fails failed"
  done
  read -r wall mean_retries max_attempts < <(python3 -c '
import statistics, sys
walls = [float(x) for x in sys.argv[1].split()]
attempts = [float(x) for x in sys.argv[2].split()]
ok = [a for a in attempts if a == a]
print(statistics.median(walls), statistics.mean(a - 1 for a in ok) if ok else float("nan"), int(max(ok)) if ok else 0)' "${walls[*]}" "${attempts_all[*]}")
  total=$((N_PIPELINES * PUSH_ROUNDS))
  ok=FAIL
  [ "$landed_all" = "$total" ] && ok=PASS
  row "$N_PIPELINES concurrent \`apply --push\` to one bare remote (wall time) vs one uncontended push" "$(human "$wall")" "$(human "$solo")" "$(ratio "$wall" "$solo")×" "all land" "$ok ($landed_all/$total landed)"
  NOTES+=("concurrent push: mean retries per pipeline $(printf '%.2f' "$mean_retries") (landed.attempts − 1, $total pipelines over $PUSH_ROUNDS rounds), max attempts $max_attempts; wall times ${walls[*]} s")
fi

# --- the table ---------------------------------------------------------------
{
  echo "# idp benchmark results"
  echo
  echo "$(date -u +%F), idp $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- src || echo '+dirty') (binary sha256 $IDP_SHA), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)."
  echo "Sizes: N_BULK=$N_BULK, N_BIG=$N_BIG, N_PIPELINES=$N_PIPELINES; hyperfine runs: $RUNS (plan, in $ROUNDS interleaved rounds), $BULK_RUNS (bulk). Medians."
  echo
  echo "| benchmark | idp median | floor median | ratio | target | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  for n in "${NOTES[@]}"; do echo "- $n"; done
} >"$RESULTS"
cat "$RESULTS"
