#!/usr/bin/env bash
# Whole-process benchmarks of idp: each a ratio against a floor measured side
# by side in the same run (hyperfine), with a target. Prints a table and
# writes it to bench/results.md. See docs/performance.md.
#
# The binary measured is idp's release build, profile-guided (bench/build-pgo);
# the plan is also measured as plain `cargo build --release` builds it, for scale.
#
#   bench/run.sh                               # full sizes (~30 min on 2 cores)
#   N_BULK=500 N_BIG=2000 bench/run.sh         # a quick run
#   ONLY="plan bulk" bench/run.sh              # a subset: plan, bulk, big, push
#
# Environment (defaults in brackets):
#   N_BULK [10000]   requests in the bulk benchmarks (apply, memory, verify, ...)
#   N_BIG [100000]   requests in the big benchmarks: bulk applies of N_BIG-1
#                    into bare repos, one more request on top, then verify,
#                    policy diff, history and plan on it; growth against N_BULK
#   N_PIPELINES [32] concurrent `apply --push` pipelines
#   RUNS [100]       hyperfine runs of the fast benchmarks (plan): a few ms each, so
#                    medians of many runs, which a noisy VM needs
#   ROUNDS [10]      the fast benchmarks' runs are split into this many rounds,
#                    alternating which command goes first (see `side_by_side`)
#   BULK_RUNS [3]    hyperfine runs of the bulk benchmarks (apply, git)
#   VERIFY_RUNS [BULK_RUNS] hyperfine runs of verify
#   VERIFY_TIMEOUT [7200] seconds before a verify is given up
#   BIG_RUNS [RUNS]  hyperfine runs of the big-repo plan benchmark
#   GROWTH_RUNS [3]  runs of each size for the apply, verify and policy diff growth
#   PUSH_ROUNDS [3]  rounds of each concurrent-push benchmark
#   PUSH_PORT [9418+] the git daemon's port (the first free one from 9418)
#   SKIP_BUILD [0]   1: use the binaries as they are (target/pgo/<host>/release/idp,
#                    and target/release/idp for the plain plan row)
#   KEEP [0]         1: keep the scratch directory
#   ONLY [all]       which benchmarks: plan bulk big push
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N_BULK=${N_BULK:-10000}
N_BIG=${N_BIG:-100000}
N_PIPELINES=${N_PIPELINES:-32}
RUNS=${RUNS:-100}
ROUNDS=${ROUNDS:-10}
BULK_RUNS=${BULK_RUNS:-3}
VERIFY_RUNS=${VERIFY_RUNS:-$BULK_RUNS}
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-7200}
BIG_RUNS=${BIG_RUNS:-$RUNS}
GROWTH_RUNS=${GROWTH_RUNS:-3}
PUSH_ROUNDS=${PUSH_ROUNDS:-3}
ONLY=${ONLY:-plan bulk big push}
IDP=$ROOT/target/pgo/$(rustc -vV | sed -n 's/^host: //p')/release/idp
PLAIN=$ROOT/target/release/idp
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
  say "bench/build-pgo (the release binary), cargo build --release (plain, for scale)"
  "$ROOT/bench/build-pgo" >/dev/null
  (cd "$ROOT" && cargo build --release --locked --quiet)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/idp-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then say "scratch: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
# Private copies: a rebuild during the run must not change what is measured.
cp "$IDP" "$WORK/idp"
IDP=$WORK/idp
cp "$PLAIN" "$WORK/idp-plain"
PLAIN=$WORK/idp-plain
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

# True when folder $1 is on ext4 without a journal: no /proc/fs/jbd2 entry
# for its device.
unjournaled_ext4() {
  local source fstype
  read -r source fstype < <(findmnt -n -o SOURCE,FSTYPE --target "$1")
  [ "$fstype" = ext4 ] && ! ls /proc/fs/jbd2/ 2>/dev/null | grep -q "^$(basename "$source")-"
}

# unused_copy LINK: a shell command that copies the bulk seed into a folder
# of $WORK/runs no run used before and points $WORK/LINK at it (a --prepare:
# the previous run's copy stays until the end, see section 2).
unused_copy() {
  echo "mkdir -p $WORK/runs && d=\$(mktemp -d $WORK/runs/$1.XXXXXX) && cp -a $WORK/bulk-fresh/. \$d && ln -sfn \$d $WORK/$1"
}

# side_by_side OUT RUNS NAME1 CMD1 NAME2 CMD2 [NAME3 CMD3 ...]: millisecond
# commands, their runs split into $ROUNDS hyperfine rounds that alternate the
# order (as given, then reversed), every run's time pooled into OUT
# (hyperfine's export shape, in the order given). One hyperfine call runs all
# of one command, then all of the next, so a slow spell of a shared VM lands
# on one of them and moves the ratio; interleaved, it slows them alike. Each
# round warms up WARMUP_OF (10) runs: the first command of a hyperfine call
# runs slow for longer than 3.
side_by_side() {
  local out=$1 runs=$2 r i
  shift 2
  local -a names=() commands=() order
  while (($#)); do
    names+=("$1")
    commands+=("$2")
    shift 2
  done
  local per=$((runs / ROUNDS > 0 ? runs / ROUNDS : 1))
  for ((r = 0; r < ROUNDS; r++)); do
    order=()
    for i in "${!names[@]}"; do
      ((r % 2 == 0)) || i=$((${#names[@]} - 1 - i))
      order+=(-n "${names[i]}" "${commands[i]}")
    done
    WARMUP=${WARMUP_OF:-10} hf -N --runs "$per" --export-json "$out.$r" "${order[@]}"
  done
  python3 - "$out" "$ROUNDS" "${names[@]}" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {n: [] for n in names}
for r in range(rounds):
    for result in json.load(open(f"{out}.{r}"))["results"]:
        times[result["command"]] += result["times"]
json.dump({"results": [{"command": n, "median": statistics.median(times[n]), "times": times[n]} for n in names]}, open(out, "w"))
PY
}

# compare OUT LABEL TARGET NAME1 CMD1 NAME2 CMD2: two millisecond commands side
# by side, and a row with their medians and the first's ratio to the second.
compare() {
  side_by_side "$1" "${RUNS_OF:-$RUNS}" "$4" "$5" "$6" "$7"
  ratio_row "$1" "$2" "$3" 0 1
}

# ratio_row OUT LABEL TARGET I J: a row with the medians of commands I and J
# of a side_by_side export and I's ratio to J (TARGET – : a row for scale).
ratio_row() {
  local out=$1 label=$2 target=$3 a b r
  a=$(median "$out" "$4") b=$(median "$out" "$5") r=$(ratio "$a" "$b")
  if [ "$target" = – ]; then
    row "$label" "$(human "$a")" "$(human "$b")" "$r×" "–" "(for scale)"
  else
    row "$label" "$(human "$a")" "$(human "$b")" "$r×" "≤ $target×" "$(verdict "$r" "$target")"
  fi
}

say "generator check: every (cell, tier, ha, drProfile) against $IDP"
"$GEN" --check "$IDP" >&2

# --- 1. plan vs git rev-parse ------------------------------------------------
if wants plan; then
  say "1. idp plan of one request vs git rev-parse HEAD"
  new_state "$WORK/plan-repo"
  "$GEN" "$WORK/plan-req" 1 --start 9000000
  req=$(ls "$WORK"/plan-req/*.yaml)
  # The profile changes the optimizer's choices, never the output.
  cmp -s <("$IDP" plan -f "$req" --repo "$WORK/plan-repo" -o json) <("$PLAIN" plan -f "$req" --repo "$WORK/plan-repo" -o json) || {
    echo "the PGO and plain builds plan the request differently" >&2
    exit 1
  }
  # The plain build in the same rounds, for scale: measured apart, a slow
  # spell between the two series once made it look faster than the PGO one.
  side_by_side "$WORK/plan.json" "$RUNS" \
    "idp plan" "$IDP plan -f $req --repo $WORK/plan-repo -o json" \
    "git rev-parse HEAD" "git -C $WORK/plan-repo rev-parse HEAD" \
    "idp plan (plain build)" "$PLAIN plan -f $req --repo $WORK/plan-repo -o json"
  ratio_row "$WORK/plan.json" "plan one request vs \`git rev-parse HEAD\`" 3 0 1
  ratio_row "$WORK/plan.json" "plan one request vs \`git rev-parse HEAD\`, plain \`cargo build --release\` (no PGO), in the same rounds" – 2 1
fi

# (rss_mb FILE): max RSS in MB from a `/usr/bin/time -v` report.
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
# (wall_s FILE): elapsed seconds from a `/usr/bin/time -v` report (h:mm:ss or m:ss).
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$1"; }
# (timed NAME CMD...): runs CMD once under /usr/bin/time -v into $WORK/NAME.time.
timed() { local name=$1; shift; /usr/bin/time -v -o "$WORK/$name.time" "$@"; }
# A policy one edit away from the default: the candidate most requests land
# on is cordoned, so that `policy diff` re-decides every placement and moves many.
cordoned_policy() {
  git -C "$1" show HEAD:policy/policy.yaml |
    python3 -c '
import sys
text = sys.stdin.read()
anchor = "  - provider: aws\n    region: us-east-1\n"
assert anchor in text, "the default policy lists aws/us-east-1"
print(text.replace(anchor, anchor + "    cordoned: true\n", 1), end="")' >"$2"
}
# paired NAME SMALL_CMD BIG_CMD: each command GROWTH_RUNS times, alternating
# small, big, small, big, ..., each run under `/usr/bin/time -v` (time-boxed)
# into $WORK/NAME-{small,big}-<i>.time and its output into NAME-{small,big}.out.
# Alternating, a slow spell of the VM lands on both sizes, not on every run
# of one, and the medians drop it (one 142 s verify among 125-132 s ones
# once failed a growth row on its own).
paired() {
  local name=$1 i side cmd
  local -a argv
  for ((i = 0; i < GROWTH_RUNS; i++)); do
    for side in small big; do
      if [ "$side" = small ]; then cmd=$2; else cmd=$3; fi
      read -ra argv <<<"$cmd"
      timeout "$VERIFY_TIMEOUT" /usr/bin/time -v -o "$WORK/$name-$side-$i.time" "${argv[@]}" >"$WORK/$name-$side.out" || true
    done
  done
}
# (paired_s NAME SIDE): the median wall time (s) of a paired side's runs.
paired_s() {
  local f
  for f in "$WORK/$1-$2"-*.time; do wall_s "$f"; done | python3 -c 'import statistics, sys; print(statistics.median(float(l) for l in sys.stdin))'
}
# (paired_mb NAME SIDE): the largest max RSS (MB) of a paired side's runs.
paired_mb() {
  local f
  for f in "$WORK/$1-$2"-*.time; do rss_mb "$f"; echo; done | sort -n | tail -1
}
# growth NAME T_SMALL T_BIG: a row saying how a time grew from N_BULK to N_BIG
# requests; linear or better passes (with 10% for the VM's noise).
growth() {
  local factor scale
  factor=$(python3 -c "print(f'{float($3) / float($2):.1f}')")
  scale=$(python3 -c "print(f'{$N_BIG / $N_BULK:g}')")
  row "$1: $N_BIG vs $N_BULK requests" "$(human "$3")" "$(human "$2")" "$factor×" "≤ ${scale}× (linear)" "$(verdict "$factor" "$(python3 -c "print($scale * 1.1)")")"
}

# --- 2. bulk apply vs git writing the same files; memory; verify ------------
if wants bulk || wants big; then
  say "2. bulk: $N_BULK requests"
  # This section deletes nothing until the run ends, and on ext4 without a
  # journal (this VM's disk) it starts six minutes after the last deletion
  # before it. There, allocating an inode skips every inode freed in the last
  # 60 s, or 360 s while its inode table block is dirty, which creating files
  # beside it makes it: fs/ext4/ialloc.c, find_inode_bit() and
  # recently_deleted(). Creating 18,000 files right after deleting as many
  # took 20 s instead of 1.1 s, 70% of it in recently_deleted() (perf); a
  # run that followed the previous run's `rm -rf` measured the deletion, and
  # so did one that waited only a minute after the clean-up of a full run.
  if unjournaled_ext4 "$WORK"; then
    say "   ext4 without a journal: waiting 361 s for freed inodes to age (see the comment)"
    sync
    sleep 361
  fi
  "$GEN" "$WORK/bulk-req" "$N_BULK"
  new_state "$WORK/bulk-fresh"
  git -C "$WORK/bulk-fresh" status --porcelain | (! grep -q .) # clean seed
  # One apply to produce the tree (and the repo the read benchmarks use).
  cp -a "$WORK/bulk-fresh" "$WORK/bulk-done"
  timed bulk-apply "$IDP" -q apply -f "$WORK/bulk-req" --repo "$WORK/bulk-done" --yes -o json >"$WORK/bulk-apply.json"
  files=$(git -C "$WORK/bulk-done" diff --name-only HEAD~1 HEAD | wc -l)
  message=$(git -C "$WORK/bulk-done" cat-file -s HEAD)
  # The same apply into a bare repo: no work tree, as the big benchmarks run.
  git clone -q --bare "$WORK/bulk-fresh" "$WORK/bulk-bare.git"
  timed bulk-bare "$IDP" -q apply -f "$WORK/bulk-req" --repo "$WORK/bulk-bare.git" --yes -o json >/dev/null
fi
if wants bulk; then
  # The floors: the git CLI writing exactly those files on the same `idp init`
  # commit. (a) all of it: the files extracted from a tar into the work tree,
  # `git add -A`, `git commit`; (b) `git add -A && git commit` alone, the
  # files already in the work tree. Each run writes into a copy of the seed
  # no run used before ($WORK/runs; see the top of this section), after a
  # `sync` so that the previous run's files are not being written back.
  git -C "$WORK/bulk-done" archive -o "$WORK/bulk.tar" HEAD
  bash -c "cp -a '$WORK/bulk-fresh' '$WORK/git-once' && tar -xf '$WORK/bulk.tar' -C '$WORK/git-once' &&
    cd '$WORK/git-once' && /usr/bin/time -v -o '$WORK/git-commit.time' bash -c 'git add -A && git commit -qm bulk'"
  [ "$(git -C "$WORK/git-once" rev-parse HEAD^{tree})" = "$(git -C "$WORK/bulk-done" rev-parse HEAD^{tree})" ] || {
    echo "the git floor's tree differs from idp's" >&2
    exit 1
  }
  hf --runs "$BULK_RUNS" --export-json "$WORK/bulk.json" \
    --prepare "$(unused_copy a) && sync" \
    -n "idp apply ($N_BULK requests)" "$IDP -q apply -f $WORK/bulk-req --repo $WORK/a --yes -o json" \
    --prepare "$(unused_copy g) && sync" \
    -n "tar -x && git add -A && git commit" "tar -xf $WORK/bulk.tar -C $WORK/g && cd $WORK/g && git add -A && git commit -qm bulk" \
    --prepare "$(unused_copy g) && tar -xf $WORK/bulk.tar -C $WORK/g && sync" \
    -n "git add -A && git commit" "cd $WORK/g && git add -A && git commit -qm bulk"
  a=$(median "$WORK/bulk.json" 0) full=$(median "$WORK/bulk.json" 1) commit=$(median "$WORK/bulk.json" 2)
  r=$(ratio "$a" "$full")
  row "apply $N_BULK requests (one commit, $files files) vs git writing them (\`tar -x\`, \`git add -A\`, \`git commit\`)" "$(human "$a")" "$(human "$full")" "$r×" "≤ 0.8×" "$(verdict "$r" 0.8)"
  row "apply $N_BULK requests vs \`git add -A && git commit\` of the files in place" "$(human "$a")" "$(human "$commit")" "$(ratio "$a" "$commit")×" "–" "(for scale)"
  mb=$(rss_mb "$WORK/bulk-apply.time")
  row "apply $N_BULK requests: peak memory (max RSS)" "$mb MB" "$(rss_mb "$WORK/git-commit.time") MB (git add + commit)" "–" "≤ 64 MB" "$(verdict "$mb" 64)"
  row "apply $N_BULK requests: the commit message" "$message bytes" "–" "–" "≤ 16 KB (summary and count)" "$(verdict "$message" 16384)"
  NOTES+=("bulk repo: platform/ holds $(git -C "$WORK/bulk-done" ls-tree -r -l HEAD platform | awk '{s += $4} END {printf "%.1f MB", s / 1e6}') of manifests (Argo CD's default cap for one directory-type Application is 10M); the same apply into a bare repo: $(human "$(wall_s "$WORK/bulk-bare.time")"), $(rss_mb "$WORK/bulk-bare.time") MB max RSS")

  say "2b. idp plan of one new request right after the bulk apply vs in a fresh repo"
  "$GEN" "$WORK/after-req" 1 --start 9000002
  req=$(ls "$WORK"/after-req/*.yaml)
  compare "$WORK/after.json" "plan one new request right after the $N_BULK-request apply vs in a fresh repo" 1.2 \
    "idp plan (after bulk)" "$IDP plan -f $req --repo $WORK/bulk-done -o json" \
    "idp plan (fresh repo)" "$IDP plan -f $req --repo $WORK/bulk-fresh -o json"

  # verify, right after (same run, same repo); time-boxed: a timed-out run is reported as such.
  say "2c. idp verify of the $N_BULK-request repo (runs: $VERIFY_RUNS, time box: ${VERIFY_TIMEOUT}s per run)"
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

# --- 3. N_BIG requests: apply, verify, policy diff, history, plan ------------
# One bulk apply of N_BIG-1 requests into a bare repo (a checkout of N_BIG
# requests is ~7 N_BIG files that none of these commands reads: they read the
# object database at HEAD, as Argo CD's repo server does), then one ordinary
# request on top, so that HEAD is an everyday commit. Each read command runs
# on the N_BULK-request bare repo too, for its growth.
if wants big; then
  say "3. big: $N_BIG requests"
  "$GEN" "$WORK/big-req" "$((N_BIG - 1))"
  "$GEN" "$WORK/big-last" 1 --start "$((N_BIG - 1))"
  # Like the read commands' growth below: GROWTH_RUNS applies of each size,
  # alternating N_BULK and N_BIG-1, each into its own bare clone of the seed,
  # and the medians. One run of each once read 11.3× where the two sizes'
  # CPU time grew 9.0× (docs/performance.md, Results).
  say "3a. idp apply of $N_BULK and $((N_BIG - 1)) requests into bare repos ($GROWTH_RUNS alternating runs)"
  for ((i = 0; i < GROWTH_RUNS; i++)); do
    for side in small big; do
      if [ "$side" = small ]; then reqs=$WORK/bulk-req; else reqs=$WORK/big-req; fi
      git clone -q --bare "$WORK/bulk-fresh" "$WORK/apply-$side-$i.git"
      timed "apply-$side-$i" "$IDP" -q apply -f "$reqs" --repo "$WORK/apply-$side-$i.git" --yes -o json >/dev/null
    done
  done
  mv "$WORK/apply-big-$((GROWTH_RUNS - 1)).git" "$WORK/big.git"
  "$IDP" -q apply -f "$WORK/big-last" --repo "$WORK/big.git" --yes -o json >/dev/null
  big_mb=$(paired_mb apply big)
  row "apply $((N_BIG - 1)) requests (bare repo): peak memory (max RSS of $GROWTH_RUNS runs)" "$big_mb MB" "$(paired_mb apply small) MB ($N_BULK)" "–" "≤ 96 MB" "$(verdict "$big_mb" 96)"
  growth "apply (bare repo)" "$(paired_s apply small)" "$(paired_s apply big)"
  # The same request on top of the N_BULK repo, so both repos read alike.
  "$GEN" "$WORK/bulk-last" 1 --start "$N_BULK"
  "$IDP" -q apply -f "$WORK/bulk-last" --repo "$WORK/bulk-bare.git" --yes -o json >/dev/null
  for repo in bulk-bare big; do cordoned_policy "$WORK/$repo.git" "$WORK/$repo-cordoned.yaml"; done

  say "3b. verify, policy diff, history -n 20: $N_BULK vs $N_BIG requests ($GROWTH_RUNS runs of each, alternating)"
  paired verify "$IDP verify --repo $WORK/bulk-bare.git -o json" "$IDP verify --repo $WORK/big.git -o json"
  paired diff "$IDP policy diff HEAD $WORK/bulk-bare-cordoned.yaml --repo $WORK/bulk-bare.git -o json" \
    "$IDP policy diff HEAD $WORK/big-cordoned.yaml --repo $WORK/big.git -o json"
  # A second each: interleaved rounds like the plans', with fewer warm-ups.
  ROUNDS=5 WARMUP_OF=1 side_by_side "$WORK/history.json" 10 \
    "history -n 20 ($N_BULK)" "$IDP history -n 20 --repo $WORK/bulk-bare.git -o json" \
    "history -n 20 ($N_BIG)" "$IDP history -n 20 --repo $WORK/big.git -o json"
  growth "verify" "$(paired_s verify small)" "$(paired_s verify big)"
  growth "policy diff (aws/us-east-1 cordoned)" "$(paired_s diff small)" "$(paired_s diff big)"
  growth "history -n 20" "$(median "$WORK/history.json" 0)" "$(median "$WORK/history.json" 1)"
  moved=$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(len(d["changed"]), "of", d["evaluated"])' "$WORK/diff-big.out")
  NOTES+=("$N_BIG-request repo: apply $(human "$(paired_s apply big)") ($N_BULK: $(human "$(paired_s apply small)")), verify $(human "$(paired_s verify big)") ($(paired_mb verify big) MB), policy diff $(human "$(paired_s diff big)") ($(paired_mb diff big) MB, $moved placements differ), pack $(du -sh "$WORK/big.git/objects/pack" | cut -f1), $(git -C "$WORK/big.git" ls-tree -r --name-only HEAD | wc -l) files at HEAD; at $N_BULK: verify $(human "$(paired_s verify small)") ($(paired_mb verify small) MB), policy diff $(human "$(paired_s diff small)") ($(paired_mb diff small) MB); medians of $GROWTH_RUNS alternating runs")

  say "3c. idp plan of one new request: $N_BIG-request repo vs fresh repo"
  git clone -q --bare "$WORK/bulk-fresh" "$WORK/fresh.git"
  "$GEN" "$WORK/big-req1" 1 --start 9000001
  req=$(ls "$WORK"/big-req1/*.yaml)
  RUNS_OF=$BIG_RUNS compare "$WORK/big.json" "plan one new request, $N_BIG-request repo vs fresh repo" 1.5 \
    "idp plan (big repo)" "$IDP plan -f $req --repo $WORK/big.git -o json" \
    "idp plan (fresh repo)" "$IDP plan -f $req --repo $WORK/fresh.git -o json"
  # How the repo itself scales: what one more request's commit adds, and
  # what a clone (what Argo CD's repo server and every pipeline do) costs.
  objs=$(git -C "$WORK/big.git" rev-list --objects HEAD~1..HEAD | cut -d' ' -f1 | git -C "$WORK/big.git" cat-file --batch-check='%(objecttype) %(objectsize)' |
    awk '{n++; s += $2; if ($1 == "tree") {t++; ts += $2}} END {printf "%d objects, %.0f KB (%d trees, %.0f KB)", n, s / 1024, t, ts / 1024}')
  cstart=$(date +%s.%N)
  git clone -q --bare --no-local "$WORK/big.git" "$WORK/clone-bare.git"
  cbare=$(python3 -c "print(f'{$(date +%s.%N) - $cstart:.1f}')")
  rm -rf "$WORK/clone-bare.git"
  NOTES+=("$N_BIG-request repo: the last one-request idp commit added $objs (uncompressed); full bare clone $cbare s; platform/ holds $(git -C "$WORK/big.git" ls-tree -r -l HEAD platform | awk '{s += $4} END {printf "%.0f MB", s / 1e6}') of manifests")
fi

# --- 4. concurrent apply --push, to a local path and through git daemon -------
# N_PIPELINES clones, each applying its own request with --push at the same
# moment to one bare remote; PUSH_ROUNDS rounds each. Reported: whether all
# land, the mean and 99th percentile of each pipeline's time to land (from
# its start to its exit), and its retries (`landed.attempts` - 1).
push_rounds() { # id label url_of: one transport's rounds (url_of DIR prints the remote's URL)
  local id=$1 label=$2 url_of=$3 round p d
  local -a pids
  : >"$WORK/push-$id.times"
  : >"$WORK/push-$id.attempts"
  local landed_all=0
  for ((round = 0; round < PUSH_ROUNDS; round++)); do
    d=$WORK/push-$id-$round
    new_state "$d/seed"
    git clone -q --bare "$d/seed" "$d/remote.git"
    local url
    url=$("$url_of" "$d")
    for ((p = 0; p < N_PIPELINES; p++)); do
      git clone -q "$url" "$d/p$p"
      git -C "$d/p$p" config user.name "pipeline-$p"
      git -C "$d/p$p" config user.email "p$p@localhost"
    done
    pids=()
    for ((p = 0; p < N_PIPELINES; p++)); do
      (
        s=$(date +%s.%N) code=0
        "$IDP" -q apply -f "${reqs[round * N_PIPELINES + p]}" --repo "$d/p$p" --yes --push -o json >"$d/p$p.json" 2>"$d/p$p.err" || code=$?
        echo "$s $(date +%s.%N) $code" >"$d/p$p.time"
      ) &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    local landed=$(($(git -C "$d/remote.git" rev-list --count main) - 1))
    landed_all=$((landed_all + landed))
    for ((p = 0; p < N_PIPELINES; p++)); do
      awk '{print $2 - $1}' "$d/p$p.time" >>"$WORK/push-$id.times"
      python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["landed"]["attempts"])
except Exception: print("nan")' "$d/p$p.json" >>"$WORK/push-$id.attempts"
    done
    say "   $label round $round: $landed/$N_PIPELINES landed"
  done
  local total=$((N_PIPELINES * PUSH_ROUNDS)) stats ok=FAIL
  stats=$(python3 -c '
import math, statistics, sys
times = sorted(float(x) for x in open(sys.argv[1]))
attempts = [float(x) for x in open(sys.argv[2])]
ok = [a for a in attempts if a == a]
p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
print(f"{statistics.mean(times):.2f} {p99:.2f} {statistics.mean(a - 1 for a in ok):.2f} {int(max(ok))}")' "$WORK/push-$id.times" "$WORK/push-$id.attempts")
  read -r mean p99 retries max_attempts <<<"$stats"
  [ "$landed_all" = "$total" ] && ok=PASS
  row "$N_PIPELINES concurrent \`apply --push\`, $label: time to land, mean (p99)" "$mean s ($p99 s)" "$(human "$solo")" "$(ratio "$mean" "$solo")×" "all land" "$ok ($landed_all/$total landed)"
  NOTES+=("concurrent push, $label: mean retries per pipeline $retries (landed.attempts − 1, $total pipelines over $PUSH_ROUNDS rounds), max attempts $max_attempts of 10")
}
local_url() { echo "$1/remote.git"; }
daemon_url() { echo "git://127.0.0.1:$PORT/$(basename "$1")/remote.git"; }

if wants push; then
  say "4. $N_PIPELINES concurrent apply --push pipelines, $PUSH_ROUNDS rounds, local path and git daemon"
  "$GEN" "$WORK/push-req" "$((N_PIPELINES * PUSH_ROUNDS + 1))" --start 8000000
  mapfile -t reqs < <(ls "$WORK"/push-req/*.yaml)
  # The floor: one uncontended apply --push (median of 5), for scale.
  new_state "$WORK/solo-seed"
  git clone -q --bare "$WORK/solo-seed" "$WORK/solo.git"
  hf --runs 5 --export-json "$WORK/solo.json" \
    --prepare "rm -rf $WORK/solo && git clone -q $WORK/solo.git $WORK/solo && git -C $WORK/solo config user.name bench && git -C $WORK/solo config user.email bench@localhost && git -C $WORK/solo.git update-ref refs/heads/main \$(git -C $WORK/solo-seed rev-parse HEAD)" \
    -n "idp apply --push (uncontended)" "$IDP -q apply -f ${reqs[-1]} --repo $WORK/solo --yes --push -o json"
  solo=$(median "$WORK/solo.json" 0)
  push_rounds local "local path" local_url
  PORT=${PUSH_PORT:-9418}
  while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
  git daemon --reuseaddr --base-path="$WORK" --export-all --enable=receive-pack --listen=127.0.0.1 --port="$PORT" \
    --pid-file="$WORK/daemon.pid" --detach "$WORK"
  trap 'kill "$(cat "$WORK/daemon.pid")" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"' EXIT
  for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  push_rounds daemon "git daemon" daemon_url
fi

# --- the table ---------------------------------------------------------------
{
  echo "# idp benchmark results"
  echo
  echo "$(date -u +%F), idp $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- src || echo '+dirty') (PGO binary, bench/build-pgo, sha256 $IDP_SHA), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)."
  echo "Sizes: N_BULK=$N_BULK, N_BIG=$N_BIG, N_PIPELINES=$N_PIPELINES; hyperfine runs: $RUNS (plan, in $ROUNDS interleaved rounds), $BULK_RUNS (bulk). Medians."
  echo
  echo "| benchmark | idp median | floor median | ratio | target | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  for n in "${NOTES[@]}"; do echo "- $n"; done
} >"$RESULTS"
cat "$RESULTS"
