# debian-diff.sh: one bash script, run with Debian's own dynamically linked programs on
# Cradle and on Debian's Linux, same output.
#
# `cargo xtask test` (group `difftest`, xtask/src/debiandiff.rs) and `cargo xtask debiandiff`
# boot the Debian root file system (`cargo xtask qemu --rootfs debian`: bash, coreutils,
# procps, grep, sed, mawk, findutils, glibc's ld.so) with this script and a small /init on
# both kernels in the same QEMU, with `norandmaps` on both command lines; /init mounts
# proc, devtmpfs and a tmpfs on /tmp, links /dev/fd, runs
#
#     bash /debian-diff.sh >/tmp/debian-diff.out 2>&1 </dev/null
#
# in /tmp, and prints the file between marker lines. The outputs must be equal line for line.
#
# What legitimately differs between the kernels is masked here, next to what prints it:
# PIDs (`m`, as busybox-diff.sh does), times and dates (never printed, or `date -d @N -u`),
# memory sizes (columns counted, not printed), load addresses (`ldd` prints `ADDR`), and
# kernel threads (Linux has dozens; only the script's own processes are listed).

PIDS="$$ PID_SELF"
# m: mask the PIDs in $PIDS (pairs "pid name") in standard input.
m() {
	local script=() pid name
	set -- $PIDS
	while [ $# -ge 2 ]; do
		script+=(-e "s/\\b$1\\b/$2/g")
		shift 2
	done
	sed "${script[@]}"
}
# remember PID NAME: mask PID as NAME from now on.
remember() {
	PIDS="$PIDS $1 $2"
}
# state PID: the state letter of /proc/PID/stat.
state() {
	local s
	s=$(</proc/$1/stat) 2>/dev/null || return
	s=${s##*) }
	echo "${s%% *}"
}
# in_state PID LETTER: PID is in state LETTER.
in_state() {
	[ "$(state $1)" = "$2" ]
}
# wait_for CMD...: poll until CMD succeeds (never a timed wait).
wait_for() {
	local tries=0
	until "$@"; do
		((++tries >= 5000)) && { echo "wait_for gave up: $*"; return 1; }
		sleep 0.01
	done
}

echo "## bash"
echo "bash ${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}"
arr=(zero one two "three four")
echo "${#arr[@]} ${arr[3]} ${arr[@]:1:2}"
declare -A assoc=([b]=2 [a]=1)
for k in $(printf '%s\n' "${!assoc[@]}" | sort); do echo "$k=${assoc[$k]}"; done
[[ abc == a* && ! -e /nonexistent && 10 -gt 9 ]] && echo "[[ ]] works"
[[ hello =~ ^h(el)lo$ ]] && echo "regex group: ${BASH_REMATCH[1]}"
s="The quick brown fox"
echo "${s^^} ${s,,} ${s// /_} ${#s} ${s:4:5}"
printf '%05d|%-6s|%x\n' 42 ab 255
echo $((2**40)) $((7 % 3)) $((-7 / 2))
i=0; while ((i < 3)); do ((i++)); done; echo "loop i=$i"
f() { local x=$1; echo "in f: $x $#"; return 7; }
f one two; echo "f returned $?"
echo {a..e} {1..10..3}
set -o pipefail; false | true; echo "pipefail: $?"; set +o pipefail
shopt -s extglob; v=aaabbb; echo "${v##+(a)}"

echo "## pipelines and redirections"
seq 1 1000 | awk '{ s += $1 } END { print "sum", s }'
seq 1 20 | grep 1 | sort -rn | head -3 | tr '\n' ' '; echo
printf 'b 2\na 1\nc 3\na 1\n' | sort | uniq -c | sort -k2 | tr -s ' '
printf 'x:y:z\n1:2:3\n' | cut -d: -f2,3
echo "stderr" 2>&1 >/dev/null | cat
{ echo out; echo err >&2; } 2>&1 | sort
exec 3>fd3.txt; echo "to fd 3" >&3; exec 3>&-; cat fd3.txt
cat <<'EOF' | sed 's/^/  /'
here document
EOF
wc -l <<< "$(printf 'a\nb\nc')"

echo "## process substitution and /dev/fd"
diff <(printf 'a\nb\n') <(printf 'a\nc\n'); echo "diff status $?"
while read -r line; do echo "read: $line"; done < <(printf 'one\ntwo\n')
paste <(seq 3) <(seq 4 6)
ls -l /dev/fd/ >/dev/null && echo "/dev/fd lists"
echo hi > >(cat); wait

echo "## traps and signals"
trap 'echo "trap USR1"' USR1
kill -USR1 $$
trap - USR1
trap 'echo "EXIT trap of a subshell"' EXIT; (trap 'echo "subshell exit"' EXIT; exit 3); echo "subshell: $?"
trap - EXIT
sleep 10 &
job=$!
remember $job PID_SLEEP
# Until the child has exec'd sleep it still runs bash's handlers (traps set above), and a
# TERM caught there is lost: Linux printed 0 here once. Wait (bounded) for the exec.
comm=; n=0
while [ "$comm" != sleep ] && [ $n -lt 10000 ]; do
	read -r comm < /proc/$job/comm; n=$((n + 1))
done
kill -TERM $job
wait $job
echo "sleep killed by TERM: $?"
# bash reports the killed job on stderr with its PID: masked.
{ bash -c 'kill -KILL $$'; echo "bash killed by KILL: $?"; } 2>&1 | sed 's/: *[0-9]* Killed/: PID Killed/'
(trap 'echo "caught INT"; exit 5' INT; kill -INT $BASHPID; sleep 1); echo "INT handler exit: $?"
timeout -s TERM 5 true; echo "timeout true: $?"
# timeout arms a POSIX timer (timer_create, SIGEV_SIGNAL SIGALRM) and kills its child.
timeout 0.2 sleep 5; echo "timeout expired: $?"

echo "## coreutils"
mkdir -p d/sub && cd d
printf 'hello\n' > a.txt
printf 'world\n' > sub/b.txt
ln -s a.txt link
cp a.txt c.txt; mv c.txt sub/; cp -a sub copy
touch -d @1000000000 a.txt
stat -c '%n %s %a %F %h %U %G' a.txt link sub copy/b.txt
stat -c '%Y' a.txt
date -u -d @1000000000 '+%Y-%m-%d %H:%M:%S'
ls -l | tail -n +2 | awk '{ print $1, $2, $3, $4, $5, $NF }'
ls -R | sort
readlink link; readlink -f link | sed "s|$PWD|PWD|"
du -a . | awk '{ print $2 }' | sort
find . -name '*.txt' | sort
find . -type f -print0 | xargs -0 cat | sort | uniq -c | tr -s ' '
find . -type l -exec readlink {} \;
md5sum a.txt; sha256sum sub/b.txt | cut -c1-16
head -c 3 a.txt; echo; tail -n 1 sub/b.txt
od -An -c a.txt | tr -s ' '
base64 a.txt; echo aGVsbG8K | base64 -d
tr a-z A-Z < a.txt; rev < a.txt 2>/dev/null || echo "(no rev)"
nl -ba a.txt; tac <(seq 3) | tr '\n' ' '; echo
expr 6 \* 7; factor 60; basename /a/b/c.txt .txt; dirname /a/b/c.txt
test -d sub && test -L link && test ! -e nothing && echo "test works"
chmod 640 a.txt; stat -c '%a' a.txt
truncate -s 5000 big; stat -c '%s %b' big | awk '{ print $1 }'
dd if=/dev/zero of=zero bs=512 count=3 2>/dev/null; wc -c < zero
# tail -f waits for the file to change through inotify, and ends with the writer (--pid).
echo first > tailf.txt
(sleep 0.2; echo more >> tailf.txt) & writer=$!
tail -f --pid=$writer tailf.txt; wait $writer; echo "tail -f: $?"
sort -t: -k3n /etc/passwd | cut -d: -f1,7
id; id -u; whoami; groups
uname -s -m; uname -o
# How many CPUs depends on the boot (Linux's reference run has one, Cradle the test run's):
# nproc (sched_getaffinity) must agree with /proc/cpuinfo on either.
[ "$(nproc)" = "$(grep -c ^processor /proc/cpuinfo)" ] && echo "nproc = cpuinfo"
env -i A=1 B=2 env | sort
printenv HOME
cd ..; rm -r d; ls

echo "## sed, awk, grep"
readlink -f "$(command -v awk)"
printf 'alpha 1\nbeta 2\ngamma 3\n' > t
sed -n '2p' t; sed 's/\([a-z]*\) \([0-9]\)/\2-\1/' t; sed -i 's/beta/BETA/' t; cat t
awk '$2 > 1 { n++; printf "%s:%d\n", toupper($1), $2 * 10 } END { print n " lines" }' t
awk -F'\n' 'BEGIN { x["a"] = 1; x["b"] = 2; for (k in x) s += x[k]; print "awk sum", s }'
grep -n 'a$' t; grep -c . t; grep -E '^(alpha|gamma)' t; grep -v BETA t | wc -l
grep -r -l alpha . 2>/dev/null | sort
printf 'x\ny\n' | grep -q y && echo "grep -q found y"
rm t

echo "## processes"
sleep 5 &
job=$!
remember $job PID_JOB
wait_for in_state $job S
ps -o pid=,ppid=,stat=,comm= -p $job | m | tr -s ' '
ps -o comm= -p $$
ps -eo ppid=,comm= | awk -v p=$$ '$1 == p { print $2 }' | sort
pgrep -P $$ sleep | m
kill $job; wait $job; echo "sleep: $?"
free | awk 'NR == 1 { print $1, $2, $3 } NR > 1 { print $1, NF }'
free -h >/dev/null && echo "free -h runs"
uptime >/dev/null && echo "uptime runs"
# top's summary: every number (times, counts, sizes, percentages) and the spacing that
# depends on their widths masked; the labels and their order are what is compared.
top -bn1 >/tmp/top.out; echo "top -bn1: $?"
head -n 5 /tmp/top.out | sed -E 's/up [^,]*,/up U,/; s/[0-9]+([.:][0-9]+)*/N/g; s/ +/ /g; s/: */: /g; s/, */, /g; s/ $//'
# The shell's own status while it waits for this pipeline: the reader first lets the shell
# finish starting the pipeline's other commands and go to sleep in wait (with several CPUs
# the reader could otherwise catch the shell still running: State R).
(sleep 0.3; cat /proc/$$/status) | grep -E '^(Name|State|Tgid|Pid|PPid|Threads):' | m
tr '\0' ' ' < /proc/$$/cmdline; echo
readlink /proc/$$/exe
readlink /proc/self/fd/0 /proc/self/fd/1 2>&1 | sed 's/[0-9]\{2,\}/N/g'
grep -c '^' /proc/self/mountinfo >/dev/null && echo "mountinfo reads"
awk '$5 == "/tmp" { print $5, $9 }' /proc/self/mountinfo
cat /proc/sys/kernel/ostype
(echo sub-shell $BASH_SUBSHELL)
bash -c 'echo "child bash: $BASH_SUBSHELL $SHLVL"'

echo "## the dynamic loader"
ldd /usr/bin/ls | sed 's/(0x[0-9a-f]*)/(ADDR)/' | sort
/lib/ld-linux-aarch64.so.1 --list /usr/bin/true | sed 's/(0x[0-9a-f]*)/(ADDR)/' | sort
/lib/ld-linux-aarch64.so.1 /usr/bin/echo "run through ld.so"
LD_SHOW_AUXV=1 /usr/bin/true | awk -F: '{ print $1 }' | grep -E 'AT_(SYSINFO_EHDR|PHDR|BASE|ENTRY|EXECFN|RANDOM|MINSIGSTKSZ|PAGESZ)$' | sort
# mawk's own mappings, with their addresses: norandmaps puts them where Linux does.
mawk '{ print $1, $2, $3, $6 }' /proc/self/maps | grep -E ' (/usr/lib/aarch64-linux-gnu/(ld-linux-aarch64\.so\.1|libc\.so\.6)|/usr/bin/mawk|\[vdso\]|\[vvar\]|\[stack\])$'

echo "## time"
t1=$(date +%s%N); t2=$(date +%s%N); ((10#$t2 >= 10#$t1)) && echo "date +%s%N does not go back"
[[ $(date +%Y) -ge 1970 ]] && echo "date +%Y is a year"
printf '%(%Y)T\n' 0 | TZ=UTC cat >/dev/null && echo "printf %T runs"
SECONDS=0; sleep 0.1; ((SECONDS < 5)) && echo "SECONDS counts"

echo "## nice and ps"
# coreutils' nice (getpriority/setpriority), and procps' ps reading /proc/PID/stat's
# priority and nice fields (its `pri` is computed from them).
echo "nice: $(nice)"
echo "nice -n 5 nice: $(nice -n 5 nice)"
echo "nice -n 30 nice: $(nice -n 30 nice)"
nice -n 5 sleep 1000 &
job=$!
remember $job PID_NICE
wait_for in_state $job S
ps -o pid,ni,pri,comm -p $job | m | tr -s ' '
stat18=$(</proc/$job/stat); stat18=${stat18##*) }; set -- $stat18; echo "stat priority nice: ${16} ${17}"
kill $job; wait $job 2>/dev/null

echo "## done"
