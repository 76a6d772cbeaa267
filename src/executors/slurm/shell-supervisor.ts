/**
 * @module executors/slurm/shell-supervisor
 * The supervisor's work in POSIX sh, for the batch script itself to do in the common case (see
 * shell-task.ts for which jobs and what each task's file holds): a Node process per job costs more CPU than
 * Slurm spends on the job, so these jobs start none.
 *
 * What it does, as the standalone supervisor does: enters the job's folder (the script's work folder, with
 * `input` and `output`: `<i>.w` in the spool, made by the server with the http body staged, or
 * `<TMPDIR>/nubes-job-<random>` on the node, made here), stages a storage input (a presigned GET made at
 * submission), runs the script with the environment built at submission (the node's SLURM_* variables
 * added), its timeout (timeout(1): TERM, then KILL 2 s later), its output in the task's log; on success
 * uploads each file left in TMP_OUTPUT_DIR to every matching output (curl's SigV4 with the job's scoped key,
 * read from a here-document so that it never shows in a process's arguments or environment), then writes
 * the task's result line. The script's environment is the job's and the node's alone: its subshell unsets
 * every other exported variable, and none of the batch script's own (the key included) is exported. Unless
 * the executor's `sandbox` is `none`, the script runs sandboxed: under Landlock where the node's kernel has
 * it (supervisor/landlock.ts), else in the local executor's bubblewrap sandbox; either way the spool and the
 * server's data folder hidden, only the job's folder writable.
 *
 * It forks as little as it can (a Slurm task of `true` costs Slurm a few milliseconds): one fork for the
 * list of exported variables, one for the script's subshell, which execs the script; with the folder on
 * the node one mkdir and one rm; curl per staged or uploaded object; no clock (the result says how long the
 * job took, from /proc/uptime, and the executor dates its end by the result file's time).
 */

import { CONTENT_TYPES } from '../../supervisor/content-type.js';
import { BWRAP_ISOLATION_OPTIONS, bwrapBaseOptions } from '../local/sandbox.js';

/**
 * Variables of the node that reach the script as they are (a trailing `*` matches a prefix): what the node
 * tells the job (its id, array task, CPUs, the GPUs --gres gave it). NUBES_PASS_ENV for the supervisor.
 */
export const PASSED_NODE_VARIABLES = [
  'SLURM_*',
  'SLURMD_NODENAME',
  'CUDA_VISIBLE_DEVICES',
  'GPU_DEVICE_ORDINAL',
  'ROCR_VISIBLE_DEVICES',
];

/** Exit status of a job stopped at its timeout, as timeout(1) and the standalone supervisor report it. */
export const SHELL_TIMEOUT_EXIT_CODE = 124;

/**
 * Shell functions and the main sequence, run by the batch script after it sourced the task's file (which
 * defines `nubes_*` variables and the functions `nubes_run`, `nubes_match`, `nubes_content_type` and
 * `nubes_pass`). Expects `dir` and `task`. Written raw, with `$<` standing for the shell's `${` (which a
 * template literal would take for its own).
 */
export const SHELL_SUPERVISOR = String.raw`
nubes_log="$dir/$task.log"
nubes_outputs=''
[ -z "$nubes_notes" ] || printf '%s' "$nubes_notes" >>"$nubes_log"
nubes_pass() {
  case $1 in ${PASSED_NODE_VARIABLES.join(' | ')}) return 0 ;; esac
  return 1
}
nubes_content_type() {
  case $1 in
${Object.entries(CONTENT_TYPES)
  .map(([extension, type]) => `    *${caseInsensitive(extension)}) nubes_type='${type}' ;;`)
  .join('\n')}
    *) nubes_type=application/octet-stream ;;
  esac
}
# The node's uptime (seconds, two decimals) in nubes_up, empty where /proc/uptime is missing or odd: the
# job's duration without a clock process.
nubes_uptime() {
  read nubes_up nubes_idle </proc/uptime 2>/dev/null || nubes_up=''
  case $nubes_up in
    *[!0-9.]* | *.*.*) nubes_up='' ;;
    [0-9]*.[0-9][0-9]) ;;
    *) nubes_up='' ;;
  esac
}
nubes_uptime
nubes_up0=$nubes_up
# The job's result line (written last: the executor may end the job as soon as it appears), with its
# duration; the executor dates its end by the file's time. It is written over the task's file, read by now:
# no file to create on the spool (a file creation costs more there than anything else here), and the
# task's key leaves the disk with it.
nubes_result() {
  nubes_uptime
  nubes_ms=null
  if [ -n "$nubes_up0" ] && [ -n "$nubes_up" ]; then
    nubes_ms=$(( ($<nubes_up%.*} - $<nubes_up0%.*}) * 1000 + (1$<nubes_up#*.} - 1$<nubes_up0#*.}) * 10 ))
  fi
  printf 'nubes-result {"status":"%s","exitCode":%s,"termSignal":%s,"error":%s,"outputs":[%s],"startedMs":0,"finishedMs":0,"durationMs":%s}\n' \
    "$1" "$2" "$3" "$4" "$nubes_outputs" "$nubes_ms" >"$dir/$task.sh"
}
nubes_note() { printf '[nubes] %s\n' "$1" >>"$nubes_log"; }
# Removes the job's folder on the node (the server removes one in the spool).
nubes_clean() { [ -z "$nubes_root" ] || rm -rf "$nubes_root"; }
# nubes_fail CODE RETRYABLE MESSAGE [EXIT_CODE TERM_SIGNAL]: the message must need no JSON escaping.
nubes_fail() {
  nubes_note "job failed: $3"
  nubes_clean
  nubes_result failed "$<4:-null}" "$<5:-null}" "{\"code\":\"$1\",\"message\":\"$3\",\"retryable\":$2}"
  exit 1
}
# Sets nubes_url (SigV4's URI encoding, / kept) and nubes_json (JSON string body) of $1, byte by byte.
nubes_encode() {
  nubes_s=$1 nubes_url='' nubes_json=''
  while [ -n "$nubes_s" ]; do
    nubes_rest=$<nubes_s#?}
    nubes_c=$<nubes_s%"$nubes_rest"}
    nubes_s=$nubes_rest
    case $nubes_c in
      [A-Za-z0-9._~/-]) nubes_url=$nubes_url$nubes_c nubes_json=$nubes_json$nubes_c; continue ;;
    esac
    nubes_hex=$(printf '%02X' "'$nubes_c")
    nubes_url=$nubes_url%$nubes_hex
    case $nubes_c in
      '"' | '\') nubes_json=$nubes_json\\$nubes_c ;;
      [[:cntrl:]]) nubes_json=$nubes_json\\u00$nubes_hex ;;
      *) nubes_json=$nubes_json$nubes_c ;;
    esac
  done
}
# nubes_put BUCKET_URL BUCKET_JSON PREFIX_URL PREFIX_JSON: uploads nubes_file as <prefix><name>.
nubes_put() {
  curl -sS -g -f -o /dev/null -K - --aws-sigv4 "aws:amz:$nubes_region:s3" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H "Content-Type: $nubes_type" \
    -T "$nubes_file" "$nubes_endpoint/$1/$3$nubes_url" 2>>"$nubes_log" <<NUBES_KEY || return 1
user = "$nubes_key_id:$nubes_key_secret"
NUBES_KEY
  nubes_outputs="$nubes_outputs$<nubes_outputs:+,}{\"provider\":\"minio.default\",\"bucket\":\"$2\",\"key\":\"$4$nubes_json\"}"
}
# nubes_upload NAME PATH: the file to every output whose filters match it.
nubes_upload() {
  nubes_file=$2
  nubes_encode "$1"
  nubes_content_type "$1"
  nubes_match "$1"
}
# nubes_walk DIR PREFIX: every regular file under DIR; links only to a file inside TMP_OUTPUT_DIR.
nubes_walk() {
  local f name target
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name=$2$<f##*/}
    if [ -L "$f" ]; then
      [ -n "$nubes_real_output" ] || nubes_real_output=$(readlink -f -- "$nubes_work/output")
      target=$(readlink -e -- "$f") || target=''
      case $target in
        "$nubes_real_output"/*)
          if [ -f "$target" ]; then nubes_upload "$name" "$target" || return 1
          else nubes_note "not uploaded: $name: a symbolic link to a directory (not followed)"; fi ;;
        *) nubes_note "not uploaded: $name: a symbolic link that leaves TMP_OUTPUT_DIR or is broken" ;;
      esac
    elif [ -d "$f" ]; then nubes_walk "$f" "$name/" || return 1
    elif [ -f "$f" ]; then nubes_upload "$name" "$f" || return 1
    else nubes_note "not uploaded: $name: not a regular file"
    fi
  done
}

# The node's temporary folder (the Landlock sandbox hides it: other jobs' folders may be in it).
nubes_node_tmp=$<TMPDIR:-/tmp}
if [ -n "$nubes_folder" ]; then
  # On the node: the job's folder, named at submission (random), in its TMPDIR; mkdir without -p fails if
  # anyone made it first.
  nubes_root="$nubes_node_tmp/$nubes_folder"
  nubes_work="$nubes_root"
  trap 'rm -rf "$nubes_root"; exit 143' TERM INT HUP
  mkdir -m 700 "$nubes_root" "$nubes_work/input" "$nubes_work/output" 2>>"$nubes_log" ||
    nubes_fail INTERNAL false 'cannot create the job folder on the node'
  if [ -n "$nubes_body_file" ]; then
    cp "$nubes_body_file" "$nubes_work/input/$nubes_input_name" ||
      nubes_fail INTERNAL false 'cannot stage the http body'
  elif [ -n "$nubes_input_name" ] && [ -z "$nubes_input_url" ]; then
    printf '%s' "$nubes_body" >"$nubes_work/input/$nubes_input_name"
  fi
else
  # In the spool: the server made the job's folder (the http body staged in it) and removes it.
  nubes_root=''
  nubes_work="$dir/$task.w"
fi
if [ -n "$nubes_input_url" ]; then
  nubes_status=$(curl -sS -g -o "$nubes_work/input/$nubes_input_name" -w '%{http_code}' "$nubes_input_url" 2>>"$nubes_log")
  case $nubes_status in
    2??) ;;
    404) nubes_fail OBJECT_NOT_FOUND false 'the input object does not exist (any more)' ;;
    *) nubes_fail STORAGE_UNREACHABLE true "cannot read the input object from the platform (HTTP status $nubes_status)" ;;
  esac
fi
if [ -n "$nubes_timeout" ]; then
  nubes_timeout_command=$(command -v timeout) ||
    nubes_fail INTERNAL false 'timeout(1) is not installed on the node'
fi

# The script runs in a subshell that unsets every exported variable but the node's own (SLURM_*, the GPUs
# it gave: nubes_pass, as NUBES_PASS_ENV for the Node supervisor), exports the job's (nubes_run, which
# override the node's) and execs it: the batch script's own variables (the key among them) are not
# exported, so none reaches the script. The lines of export -p are split by the shell itself (read(1)
# would read them a byte at a time); a value's own lines are skipped, or at worst unset another variable.
nubes_exports=$(export -p)
nubes_keep_node_variables() {
  IFS='
'
  set -f
  for nubes_line in $nubes_exports; do
    case $nubes_line in
      "export "*) nubes_name=$<nubes_line#export }; nubes_name=$<nubes_name%%=*} ;;
      *) continue ;;
    esac
    case $nubes_name in *[!A-Za-z0-9_]* | '') continue ;; esac
    nubes_pass "$nubes_name" || unset "$nubes_name"
  done
}

# The sandbox (nubes_sandbox): Landlock where the node has the helper (its kernel is asked when the script
# starts: nubes_in_landlock), else bubblewrap, else none (with a note), or the job fails when one is required.
nubes_without_sandbox() {
  [ -z "$nubes_sandbox_required" ] ||
    nubes_fail SANDBOX_UNAVAILABLE false "the sandbox is required but $1"
  nubes_note "the script runs without a sandbox: $1"
  nubes_sandbox=''
}
nubes_choose_bwrap() {
  if [ -n "$nubes_bwrap" ] && [ -x "$nubes_bwrap" ]; then
    nubes_sandbox=bwrap
    [ -z "$1" ] || nubes_note "Landlock is not available ($1): the script runs in bubblewrap"
  elif [ -n "$nubes_bwrap" ]; then
    nubes_without_sandbox "$<1:+$1; }bubblewrap ($nubes_bwrap) is not installed on this node"
  elif [ -n "$1" ]; then
    nubes_without_sandbox "$1"
  else
    nubes_sandbox=''
  fi
}
if [ -n "$nubes_landlock" ] && [ -x "$nubes_landlock" ]; then
  nubes_sandbox=landlock
elif [ -n "$nubes_landlock" ]; then
  nubes_choose_bwrap "the Landlock helper ($nubes_landlock) is not installed on this node"
else
  nubes_choose_bwrap ''
fi
# Landlock (see supervisor/landlock.ts): everything readable but the hidden folders this node has and its
# temporary folders, the job's folder (its TMPDIR) and /dev/shm writable, its script readable.
nubes_landlocked() {
  set -- "$nubes_landlock" --status-fd 3
  for nubes_dir in $nubes_hide /tmp "$nubes_node_tmp"; do
    set -- "$@" --hide "$nubes_dir"
  done
  set -- "$@" --read "$nubes_script" --write "$nubes_work" --write /dev/shm --
  TMPDIR=$nubes_work
  export TMPDIR
  nubes_run "$@"
}
# bubblewrap (as the local executor's sandbox, see executors/local/sandbox.ts, with the node's /dev):
# everything read-only, the hidden folders this node has under empty tmpfs mounts, the job's folder and
# script bound back, private /tmp and /dev/shm.
nubes_sandboxed() {
  set -- "$nubes_bwrap" ${bwrapBaseOptions('host').join(' ')}
  for nubes_dir in $nubes_hide; do
    [ ! -d "$nubes_dir" ] || set -- "$@" --tmpfs "$nubes_dir"
  done
  set -- "$@" --bind "$nubes_work" "$nubes_work" --ro-bind "$nubes_script" "$nubes_script" \
    ${BWRAP_ISOLATION_OPTIONS.join(' ')} --json-status-fd 3 --chdir "$nubes_work" --
  nubes_run "$@"
}
nubes_bare() {
  (
    nubes_keep_node_variables
    nubes_run
  ) </dev/null >>"$nubes_log" 2>&1
  nubes_code=$?
}
# The helper reports on fd 3, read here through a pipe (no file), when it could not make the sandbox:
# "unsupported ..." (the node's kernel has no Landlock ABI 6: bubblewrap, if any, is used instead) or
# "error ..." (the job fails); nothing when the script ran.
nubes_in_landlock() {
  nubes_status=$(
    (
      nubes_keep_node_variables
      nubes_landlocked
    ) 3>&1 </dev/null >>"$nubes_log" 2>&1
  )
  nubes_code=$?
  case $nubes_status in
    '') ;;
    unsupported*)
      nubes_choose_bwrap "$<nubes_status#unsupported }"
      if [ "$nubes_sandbox" = bwrap ]; then nubes_in_bwrap; else nubes_bare; fi ;;
    *) nubes_fail SANDBOX_UNAVAILABLE false 'the Landlock sandbox could not be set up (its message is above)' ;;
  esac
}
# bwrap reports the script's exit status on fd 3, read here through a pipe (no file); without it, bwrap
# failed before the script started (a mount that changed while it copied the mount table, say) and is
# tried again, twice at most.
nubes_in_bwrap() {
  nubes_attempt=0
  while :; do
    nubes_status=$(
      (
        nubes_keep_node_variables
        nubes_sandboxed
      ) 3>&1 </dev/null >>"$nubes_log" 2>&1
    )
    nubes_code=$?
    { [ "$nubes_code" -eq 1 ] && [ "$nubes_attempt" -lt 2 ]; } || break
    case $nubes_status in *'"exit-code"'*) break ;; esac
    nubes_attempt=$((nubes_attempt + 1))
    nubes_note "the sandbox could not be set up (bwrap's message is above): trying again"
    sleep 1
  done
}

cd "$nubes_work" || nubes_fail INTERNAL false 'cannot enter the job folder'
case $nubes_sandbox in
  landlock) nubes_in_landlock ;;
  bwrap) nubes_in_bwrap ;;
  *) nubes_bare ;;
esac
cd / || true

if [ "$nubes_code" -ne 0 ]; then
  nubes_signal=null
  if [ -n "$nubes_timeout" ] && { [ "$nubes_code" -eq ${SHELL_TIMEOUT_EXIT_CODE} ] || [ "$nubes_code" -eq 137 ]; }; then
    nubes_signal='"SIGTERM"'
    [ "$nubes_code" -eq 137 ] && nubes_signal='"SIGKILL"'
    nubes_note "the job exceeded its time limit of $nubes_timeout s and was killed"
    nubes_clean
    nubes_result failed null "$nubes_signal" "{\"code\":\"JOB_TIMEOUT\",\"message\":\"the job exceeded its time limit of $nubes_timeout s and was killed\",\"retryable\":true,\"details\":{\"exitCode\":null,\"termSignal\":$nubes_signal}}"
    exit ${SHELL_TIMEOUT_EXIT_CODE}
  fi
  if [ "$nubes_code" -gt 128 ]; then
    nubes_signal="\"SIG$(kill -l "$nubes_code")\""
    nubes_message="the script was killed by SIG$(kill -l "$nubes_code")"
    nubes_exit=null
  else
    nubes_message="the script exited with code $nubes_code"
    nubes_exit=$nubes_code
  fi
  nubes_note "$nubes_message"
  nubes_clean
  nubes_result failed "$nubes_exit" "$nubes_signal" "{\"code\":\"JOB_FAILED\",\"message\":\"$nubes_message\",\"retryable\":false,\"details\":{\"exitCode\":$nubes_exit,\"termSignal\":$nubes_signal}}"
  exit "$nubes_code"
fi
nubes_walk "$nubes_work/output" '' ||
  nubes_fail STORAGE_UNREACHABLE true 'cannot upload an output file to the platform (see the curl message above)' 0
nubes_clean
nubes_result succeeded 0 null null
exit 0
`.replace(/\$</g, '${');

/** A case pattern matching `text` in any letter case (`.txt` gives `.[tT][xX][tT]`). */
function caseInsensitive(text: string): string {
  return [...text]
    .map((char) =>
      char.toLowerCase() === char.toUpperCase() ? char : `[${char.toLowerCase()}${char.toUpperCase()}]`,
    )
    .join('');
}
