//! The login chain on the console, tested as a person would use it: boot the default root
//! file system (xtask/src/rootfs.rs), wait for `cradle login:`, log in as root, type
//! commands, press Ctrl-C, Ctrl-Z and Ctrl-D, and power off — on virt, raspi4b and raspi3b;
//! and log in as the ordinary user `cradle`, who is kept out of root's files; and type long
//! command lines as fast as the console takes them.
//!
//! Each check looks for what the command prints on Linux with the same busybox; where a
//! value depends on the run (PIDs), the shell compares values itself and prints a word.

use std::path::Path;
use std::time::Duration;

use crate::harness::Summary;
use crate::qemu::{run_session, QemuOptions, Step};
use crate::rootfs::{build_rootfs, LOGIN_PROMPT};

/// The root shell's prompt (PS1 from /etc/profile ends in `# `).
const PROMPT: &str = "# ";

/// A command typed at the prompt.
fn cmd(line: &str) -> Step {
    Step::new(PROMPT, &format!("{line}\r"))
}

/// A control key pressed `pause` after the text before it appeared (time for the job to
/// start and take the terminal).
fn key(after: &str, pause_ms: u64, key: char) -> Step {
    Step::after(after, Duration::from_millis(pause_ms), &key.to_string())
}

/// `want` must be in `text`.
fn expect_all(text: &str, wants: &[&str]) -> Result<(), String> {
    for want in wants {
        if !text.contains(want) {
            return Err(format!("missing {want:?} in the session:\n{text}"));
        }
    }
    Ok(())
}

/// The session on virt: everything issue #6 lists under "what a user can do".
pub(crate) fn login_session_test(summary: &mut Summary, image: &Path) {
    let verdict = build_rootfs(None).and_then(|initrd| {
        let mut opts = QemuOptions::for_board("virt");
        opts.initrd = Some(initrd);
        opts.append = Some("quiet".into());
        let steps = [
            Step::new(LOGIN_PROMPT, "root\r"),
            cmd("echo sum=$((1+2)); cat /etc/hostname; uname -a"),
            cmd("ls -l / | grep ' etc$'; echo one two three | wc -w > /tmp/n; cat < /tmp/n"),
            cmd("ps -o pid,ppid,comm | grep -E '^ +[12] '; ps | grep -c '\\[kworker'"),
            // Every kernel thread's parent is kthreadd: list the PPIDs of bracketed ones.
            cmd("for s in /proc/[0-9]*/stat; do read -r p c st pp x < $s; case $c in (kworker*|\\(kworker*) echo kthread-ppid=$pp;; esac; done"),
            // sh's session is login's (its parent, the session leader); sh leads its group.
            cmd("set -- $(cat /proc/$$/stat); [ $6 = $4 ] && [ $5 = $$ ] && echo session-ok; cat /proc/$4/comm"),
            // A pipeline whose first process is gone before the next joins its group:
            // the group lives on while the zombie is unreaped, as on Linux.
            cmd("true | sleep 0.3 | cat; echo pipeline-ok"),
            cmd("sleep 100"),
            key("sleep 100\n", 1500, '\u{3}'),
            cmd("echo survived-ctrl-c"),
            cmd("sleep 50"),
            key("sleep 50\n", 1500, '\u{1a}'),
            cmd("jobs"),
            cmd("fg"),
            key("sleep 50\n", 1500, '\u{3}'),
            // Typed one at a time, as a person would: a job killed before its shell child
            // has reset the interactive shell's ignored SIGTERM would survive, on Linux too.
            cmd("sleep 30 & sleep 31 &"),
            cmd("jobs"),
            cmd("kill %1; wait %1; echo status=$?"),
            cmd("wait; echo all-waited"),
            cmd("cat &"),
            Step::after(PROMPT, Duration::from_millis(1500), "jobs\r"),
            cmd("kill -KILL %1; wait; fork_seed"),
            cmd("free | head -2; uptime; top -n 1 -b | head -4"),
            // Raw mode with VMIN=0 VTIME=5: a read gives up after half a second, empty.
            cmd("stty -icanon min 0 time 5; echo vtime=$(dd bs=1 count=1 2>/dev/null | wc -c); stty icanon"),
            cmd("mount | grep -E '^(proc|tmpfs|devtmpfs)'; df | grep -c tmpfs; dmesg | grep -c 'Booting Cradle'"),
            // Ctrl-D logs out: login's session ends, init starts getty again.
            Step::new(PROMPT, "\u{4}"),
            Step::new(LOGIN_PROMPT, "root\r"),
            cmd("echo second-login; poweroff"),
        ];
        let t = run_session(&opts, image, &steps, "Requesting system poweroff", Duration::from_secs(150))?;
        let text = &t.text;
        if !t.stopped_at_marker {
            return Err(format!("the session did not reach poweroff:\n{text}"));
        }
        expect_all(
            text,
            &[
                "sum=3\ncradle\n",
                "Linux cradle 6.1.0-cradle",
                " etc\n",
                "\n3\n",
                "    1     0 init\n",
                "    2     0 kthreadd\n",
                "kthread-ppid=2\n",
                "session-ok\nlogin\n",
                "pipeline-ok\n",
                "survived-ctrl-c",
                "[1]+  Stopped                    sleep 50",
                "Terminated                 sleep 30",
                "status=143",
                "all-waited",
                "Stopped (tty input)        cat",
                "Child Complete!",
                "Mem:",
                "vtime=0\n",
                "load average:",
                "proc on /proc type proc",
                "tmpfs on /tmp type tmpfs",
                "second-login",
                "The system is going down NOW!",
            ],
        )?;
        // Judged up to the shutdown: once init's SIGTERM ends login, the session leader,
        // the tty leaves the session and HUPs its foreground job (Linux's
        // `disassociate_ctty`), so a shell that takes the terminal back after that gets
        // ENOTTY and says so, on Linux too.
        let session = text.split("The system is going down NOW!").next().unwrap_or(text);
        if session.contains("can't set tty process group") || session.contains("can't access tty") {
            return Err(format!("ash lost job control:\n{text}"));
        }
        if text.matches(LOGIN_PROMPT).count() < 2 {
            return Err(format!("getty did not prompt again after Ctrl-D:\n{text}"));
        }
        if !t.exited {
            return Err(format!("QEMU did not exit after poweroff:\n{text}"));
        }
        Ok(())
    });
    summary.record(
        "userspace: cradle login: → root shell: pipes, ps, Ctrl-C, Ctrl-Z/fg, jobs, SIGTTIN, Ctrl-D logs out, poweroff",
        verdict,
    );
}

/// The same Image on the Pi boards: log in on the mini UART, run a short script, `ps`
/// shows the trio, and `poweroff` ends the run.
pub(crate) fn pi_login_tests(summary: &mut Summary, image: &Path) {
    // rpi4 ends with poweroff, rpi3 with reboot: both through init, then the PM watchdog.
    for (board, end_cmd, end_line) in [
        ("rpi4", "poweroff", "Requesting system poweroff"),
        ("rpi3", "reboot", "Requesting system reboot"),
    ] {
        let verdict = build_rootfs(None).and_then(|initrd| {
            let mut opts = QemuOptions::for_board(board);
            opts.initrd = Some(initrd);
            opts.append = Some("console=ttyS1,115200 quiet".into());
            let steps = [
                Step::new(LOGIN_PROMPT, "root\r"),
                cmd("for i in 1 2 3; do echo pi-$i; done | tail -1; cat /proc/device-tree/model 2>/dev/null; echo"),
                cmd("ps -o pid,ppid,comm | grep -E '^ +[0-9]+ +[0-2] '"),
                cmd(end_cmd),
            ];
            let t = run_session(&opts, image, &steps, end_line, Duration::from_secs(180))?;
            if !t.stopped_at_marker {
                return Err(format!("the session did not reach {end_cmd}:\n{}", t.text));
            }
            expect_all(
                &t.text,
                &["pi-3\n", "    1     0 init\n", "    2     0 kthreadd\n", "    2 kworker/0:0"],
            )?;
            if !t.exited {
                return Err(format!("QEMU did not exit after {end_cmd}:\n{}", t.text));
            }
            Ok(())
        });
        summary.record(
            &format!("pi: {board} reaches cradle login:, runs a shell script, ps shows the trio, {end_cmd} ends the run"),
            verdict,
        );
    }
}

/// The ordinary user's shell prompt (PS1 ends in `$ ` for anyone but root).
const USER_PROMPT: &str = "$ ";

/// A command typed at the ordinary user's prompt.
fn user_cmd(line: &str) -> Step {
    Step::new(USER_PROMPT, &format!("{line}\r"))
}

/// The ordinary user on virt: log in as `cradle` with its password, `id` shows it, root's
/// files are out of reach (`/etc/shadow`, `/etc`, signals to init), new files are its own,
/// `su` (busybox set-user-ID root) gives a root shell, `passwd` changes the password and
/// the new one logs in.
pub(crate) fn user_login_test(summary: &mut Summary, image: &Path) {
    const NEW_PASSWORD: &str = "Xq7#vLm2pZ";
    let verdict = build_rootfs(None).and_then(|initrd| {
        let mut opts = QemuOptions::for_board("virt");
        opts.initrd = Some(initrd);
        opts.append = Some("quiet".into());
        let (user, _, _) = crate::rootfs::USER;
        let steps = [
            Step::new(LOGIN_PROMPT, &format!("{user}\r")),
            Step::new("Password: ", &format!("{}\r", crate::rootfs::USER_PASSWORD)),
            user_cmd("id; cat /etc/shadow; echo shadow-rc=$?; pwd"),
            user_cmd("touch /tmp/mine && ls -ln /tmp/mine; ls -ld /tmp; echo hi > /etc/x; kill -0 1; echo kill-rc=$?"),
            user_cmd("su -c 'id; head -c 5 /etc/shadow; echo' root"),
            user_cmd("passwd"),
            Step::new("Old password: ", &format!("{}\r", crate::rootfs::USER_PASSWORD)),
            Step::new("New password: ", &format!("{NEW_PASSWORD}\r")),
            Step::new("Retype password: ", &format!("{NEW_PASSWORD}\r")),
            user_cmd("exit"),
            Step::new(LOGIN_PROMPT, &format!("{user}\r")),
            Step::new("Password: ", &format!("{NEW_PASSWORD}\r")),
            user_cmd("echo relogin-ok; su -c poweroff root"),
        ];
        let t = run_session(&opts, image, &steps, "Requesting system poweroff", Duration::from_secs(200))?;
        let text = &t.text;
        if !t.stopped_at_marker {
            return Err(format!("the session did not reach poweroff:\n{text}"));
        }
        expect_all(
            text,
            &[
                "uid=1000(cradle) gid=1000(cradle) groups=1000(cradle)",
                "cat: can't open '/etc/shadow': Permission denied",
                "shadow-rc=1",
                "/home/cradle\n",
                "1000     1000",
                "drwxrwxrwt",
                "can't create /etc/x: Permission denied",
                "Operation not permitted",
                "kill-rc=1",
                "uid=0(root) gid=0(root)",
                "root:",
                "changed by cradle",
                "relogin-ok",
            ],
        )?;
        if !t.exited {
            return Err(format!("QEMU did not exit after poweroff:\n{text}"));
        }
        Ok(())
    });
    summary.record(
        "creds: log in as cradle: id, /etc/shadow denied, /etc read-only, su to root, passwd changes the password",
        verdict,
    );
}

/// The login chain on the Debian root file system (`--rootfs debian`): getty and login are
/// busybox's, the shell is Debian's bash (dynamically linked, through glibc's ld.so and the
/// vDSO): job control, Ctrl-C and Ctrl-Z, coreutils and procps, the full-screen programs
/// driven by keys over the serial console (top, less, nano: raw mode, pselect, escape
/// sequences), logout, poweroff.
pub(crate) fn debian_login_test(summary: &mut Summary, image: &Path) {
    let verdict = crate::rootfs::Rootfs::Debian.build(None).and_then(|initrd| {
        let mut opts = QemuOptions::for_board("virt");
        opts.initrd = Some(initrd);
        opts.append = Some("quiet".into());
        let steps = [
            Step::new(LOGIN_PROMPT, "root\r"),
            cmd("echo \"shell=$0 bash=${BASH_VERSINFO[0]}\"; ps -o comm= -p $$"),
            cmd("ps -eo pid,ppid,comm | grep -E '^ +[12] '"),
            cmd("ldd /bin/ls | grep -c 'libc.so.6 =>'; ls -d /usr/lib/aarch64-linux-gnu"),
            cmd("arr=(a b c); [[ ${#arr[@]} == 3 ]] && echo arrays-ok; diff <(echo x) <(echo x) && echo procsub-ok"),
            cmd("sleep 100"),
            key("sleep 100\n", 1500, '\u{3}'),
            cmd("echo survived-ctrl-c"),
            cmd("sleep 50"),
            key("sleep 50\n", 1500, '\u{1a}'),
            cmd("jobs"),
            cmd("fg"),
            key("sleep 50\n", 1500, '\u{3}'),
            cmd("free | head -1; df / | tail -1 | cut -d' ' -f1; id"),
            // procps' top: once in batch mode, then interactively (raw keys through pselect6)
            // until `q`, sent alone (top takes several bytes in one read for an escape key).
            cmd("top -bn1 >/tmp/top.out; echo top-batch-rc=$?; head -n 1 /tmp/top.out | cut -c1-5"),
            cmd("top -d 0.5; echo top-q-rc=$?"),
            Step::after("top-q-rc=$?\n", Duration::from_millis(3000), "q"),
            // less: open a file, search, go to the end, quit.
            cmd("printf 'line1\\nfind-me here\\nline3\\n' > /tmp/l.txt; less /tmp/l.txt; echo less-rc=$?"),
            Step::after("(END)", Duration::from_millis(1000), "/find\r"),
            Step::after("(END)", Duration::from_millis(1000), "G"),
            Step::after("(END)", Duration::from_millis(1000), "q"),
            // nano: type a line, write it out (^O, Enter), exit (^X).
            cmd("nano /tmp/n.txt; echo nano-rc=$?"),
            Step::after("GNU nano", Duration::from_millis(2000), "hello nano"),
            Step::after("hello nano", Duration::from_millis(500), "\u{f}"),
            Step::after("File Name to Write", Duration::from_millis(500), "\r"),
            Step::after("Wrote 1 line", Duration::from_millis(500), "\u{18}"),
            cmd("cat /tmp/n.txt"),
            // Ctrl-D logs out: login's session ends, init starts getty again.
            Step::new(PROMPT, "\u{4}"),
            Step::new(LOGIN_PROMPT, "root\r"),
            cmd("echo second-login; poweroff"),
        ];
        let t = run_session(
            &opts,
            image,
            &steps,
            "Requesting system poweroff",
            Duration::from_secs(300),
        )?;
        let text = &t.text;
        if !t.stopped_at_marker {
            return Err(format!("the session did not reach poweroff:\n{text}"));
        }
        expect_all(
            text,
            &[
                "shell=-bash bash=5\nbash\n",
                "    1     0 init\n",
                "    2     0 kthreadd\n",
                // (bash switches bracketed paste off before the output: no newline before it)
                "1\n/usr/lib/aarch64-linux-gnu\n",
                "arrays-ok\nprocsub-ok\n",
                "survived-ctrl-c",
                "[1]+  Stopped                 sleep 50",
                "total",
                "rootfs\nuid=0(root) gid=0(root) groups=0(root)\n",
                "top-batch-rc=0\ntop -\n",
                "top-q-rc=0",
                // less's search highlights the match (standout mode).
                "\u{1b}[7mfind\u{1b}[m-me here",
                "less-rc=0",
                "[ Wrote 1 line ]",
                "nano-rc=0",
                // (bash's bracketed-paste switch comes first: no newline before the line)
                "\u{1b}[?2004lhello nano\n",
                "logout",
                "second-login",
                "The system is going down NOW!",
            ],
        )?;
        if text.contains("cannot set terminal process group") || text.contains("no job control") {
            return Err(format!("bash lost job control:\n{text}"));
        }
        if !t.exited {
            return Err(format!("QEMU did not exit after poweroff:\n{text}"));
        }
        Ok(())
    });
    summary.record(
        "userspace: --rootfs debian: cradle login: → Debian's bash: ldd, arrays, process substitution, Ctrl-C, Ctrl-Z/fg, top (batch, interactive until q), less (search, end, quit), nano (type, write out, exit), logout, poweroff",
        verdict,
    );
}

/// Lines [`console_flood_test`] types.
const FLOOD_LINES: usize = 300;

/// Console input as fast as the UART takes it, while two CPU hogs run: log in, start the
/// hogs, then type [`FLOOD_LINES`] command lines of 160 bytes, each as soon as the prompt
/// is back; every line's answer must come back. The PL011's receive FIFO is refilled by
/// QEMU while a CPU drains it, so a driver that clears the receive interrupt after
/// draining loses it (issue #14's stalled login): input then stops for good. That driver
/// stalled within 300 lines in 8 of 9 boots of this kind, at -smp 1 and -smp 4.
pub(crate) fn console_flood_test(summary: &mut Summary, image: &Path) {
    let verdict = build_rootfs(None).and_then(|initrd| {
        let mut opts = QemuOptions::for_board("virt");
        opts.initrd = Some(initrd);
        opts.append = Some("quiet".into());
        let filler = "x".repeat(140);
        let mut steps = vec![
            Step::new(LOGIN_PROMPT, "root\r"),
            cmd("for i in 1 2; do (while :; do :; done) & done"),
        ];
        // `"got-"N` prints `got-N`, which the echoed command line does not contain.
        steps.extend((0..FLOOD_LINES).map(|i| cmd(&format!(": {filler}; echo \"got-\"{i}"))));
        steps.push(cmd("poweroff"));
        let t = run_session(&opts, image, &steps, "Requesting system poweroff", Duration::from_secs(150))?;
        let text = &t.text;
        let mut from = 0;
        for i in 0..FLOOD_LINES {
            let want = format!("\ngot-{i}\n");
            match text[from..].find(&want) {
                Some(pos) => from += pos + want.len() - 1,
                None => {
                    return Err(format!(
                        "line {i} of {FLOOD_LINES} got no answer (input stalled?); the session ends:\n{}",
                        tail(text)
                    ));
                }
            }
        }
        if !t.stopped_at_marker {
            return Err(format!("the session did not reach poweroff:\n{}", tail(text)));
        }
        Ok(())
    });
    summary.record(
        &format!("console: {FLOOD_LINES} long lines typed back to back with 2 CPU hogs, each answered (PL011 receive interrupt)"),
        verdict,
    );
}

/// The last 600 bytes or so of a transcript (from a character boundary).
fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(600);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
