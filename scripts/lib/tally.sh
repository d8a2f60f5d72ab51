# shellcheck shell=bash
# Pass/fail bookkeeping shared by the check scripts (run-check, fault-check, fuse-mount-check,
# many-files-check, verify-share). Source it after common.sh.
#
#   result NAME OK [WHY]     counts one check; prints "PASS NAME" or "FAIL NAME: WHY"
#                            (TALLY_QUIET_PASS=1: no PASS lines; TALLY_PASS_WHY=1: "PASS NAME (WHY)",
#                            for scripts whose reasons read as facts either way)
#   check NAME CMD...        runs CMD: a pass if it succeeds, else a failure whose reason is the
#                            last two lines CMD printed
#   add_summary KIND TEXT    adds the counts of TEXT's last "KIND SUMMARY: N passed, M failed" line
#                            and prints its "KIND PASS|FAIL ..." lines (without the KIND prefix); fails
#                            (status 1, nothing counted) when TEXT has no such line
# `passed` and `failed` hold the totals.

passed=0 failed=0
TALLY_QUIET_PASS=${TALLY_QUIET_PASS:-0} TALLY_PASS_WHY=${TALLY_PASS_WHY:-0}

result() {
    if (($2)); then
        passed=$((passed + 1))
        ((TALLY_QUIET_PASS)) || { ((TALLY_PASS_WHY)) && echo "PASS $1${3:+ ($3)}" || echo "PASS $1"; }
    else
        failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"
    fi
}

check() {
    local why
    if why=$("${@:2}" 2>&1); then result "$1" 1; else result "$1" 0 "$(tail -n 2 <<<"$why" | tr '\n' ' ')"; fi
}

# Unanchored: on a serial console, firmware screen codes or kernel messages may share a line.
add_summary() {
    local kind=$1 text=$2 summary lines
    lines=$(grep -o "$kind \(PASS\|FAIL\) .*" <<<"$text" | sed "s/^$kind //" || true)
    if ((TALLY_QUIET_PASS)); then grep '^FAIL' <<<"$lines" || true; else [[ -z $lines ]] || printf '%s\n' "$lines"; fi
    summary=$(grep -o "$kind SUMMARY: [0-9]* passed, [0-9]* failed" <<<"$text" | tail -1 || true)
    [[ $summary =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]] || return 1
    passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
}
