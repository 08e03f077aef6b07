//! KTAP parsing: turn a kernel's serial transcript into suites, test cases and a verdict.
//!
//! The kernel runs its KUnit-style tests and prints the results in KTAP version 1
//! (Documentation/dev-tools/ktap.rst): a `KTAP version 1` header, a plan `1..N`, then one
//! result line `ok N name` / `not ok N name [# SKIP reason]` per test. A test with subtests
//! (a suite) prints its own header, plan and results indented four more spaces, then its own
//! result line. `# ...` lines are diagnostics; KUnit prints a failing expectation's message
//! just before the `not ok` line of its case, so pending diagnostics attach to the next result.
//!
//! This mirrors what Linux's `tools/testing/kunit/kunit_parser.py` accepts: the transcript may
//! carry printk timestamps (`[    0.123456] `) before every line and unrelated log lines in
//! between; parsing starts at the first `KTAP version`/`TAP version` line. Nesting is taken
//! from the indentation, with the plans as a second check; `complete` is false when a plan
//! was not met or a result line is missing, which is what a kernel crash mid-run looks like.

/// The outcome of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestResult {
    /// `ok`.
    Ok,
    /// `not ok`.
    NotOk,
    /// `ok`/`not ok` with a `# SKIP` directive, and its reason (possibly empty).
    Skip { reason: String },
    /// The transcript ended before the test's result line: the kernel died mid-test.
    Crashed,
}

impl TestResult {
    /// Whether this result counts as a pass (skips do not fail a run).
    pub fn passed(&self) -> bool {
        matches!(self, TestResult::Ok | TestResult::Skip { .. })
    }
}

/// One test case of a suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The name on the result line.
    pub name: String,
    /// Its outcome.
    pub result: TestResult,
    /// The `# ` lines printed since the previous result (text after the `# `), and for a
    /// parameterised case the `not ok` lines of its failing parameters.
    pub diagnostics: Vec<String>,
}

/// A top-level test and its cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suite {
    /// The name on the suite's result line (or its `# Subtest:` line if it never finished).
    pub name: String,
    /// The suite's own result line.
    pub result: TestResult,
    /// The cases, in order.
    pub cases: Vec<Case>,
    /// Diagnostics of the suite itself (header comments, totals, anything after the last case).
    pub diagnostics: Vec<String>,
    /// Whether the suite's plan `1..N` was printed and matched the number of cases.
    pub plan_matched: bool,
    /// The suite passed: its result line says so, it finished, its plan matched, and no case
    /// failed or crashed.
    pub ok: bool,
}

/// Counts of case results over a whole report (a suite without cases counts as one case).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// `ok` results.
    pub passed: usize,
    /// `not ok` results.
    pub failed: usize,
    /// `# SKIP` results.
    pub skipped: usize,
    /// Missing results.
    pub crashed: usize,
}

/// Everything parsed from a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KtapReport {
    /// The top-level tests, in order.
    pub suites: Vec<Suite>,
    /// KTAP output was found, every plan matched its results and every test printed a result
    /// line. False after a crash mid-run.
    pub complete: bool,
}

impl KtapReport {
    /// Case counts over all suites.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        let mut count = |result: &TestResult| match result {
            TestResult::Ok => totals.passed += 1,
            TestResult::NotOk => totals.failed += 1,
            TestResult::Skip { .. } => totals.skipped += 1,
            TestResult::Crashed => totals.crashed += 1,
        };
        for suite in &self.suites {
            if suite.cases.is_empty() || suite.result == TestResult::Crashed {
                count(&suite.result);
            }
            for case in &suite.cases {
                count(&case.result);
            }
        }
        totals
    }

    /// The verdict of the run: complete, and every suite ok.
    pub fn passed(&self) -> bool {
        self.complete && self.suites.iter().all(|suite| suite.ok)
    }
}

/// What a line of the transcript is, after its timestamp and indentation are removed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind<'a> {
    /// `KTAP version N` or `TAP version N`.
    Version,
    /// `# Subtest: name`.
    Subtest(&'a str),
    /// `1..N`.
    Plan(usize),
    /// `ok N name` / `not ok N name # directive`.
    Result {
        ok: bool,
        name: &'a str,
        directive: Option<&'a str>,
    },
    /// `# text`.
    Diagnostic(&'a str),
    /// Anything else: other kernel output.
    Other,
}

#[derive(Clone, Debug)]
struct Line<'a> {
    indent: usize,
    kind: Kind<'a>,
}

/// Removes printk's `[    0.123456] ` (and a `[    T1] ` caller id after it, if any).
fn strip_timestamp(mut line: &str) -> &str {
    for _ in 0..2 {
        let Some(rest) = line.strip_prefix('[') else {
            break;
        };
        let Some(end) = rest.find(']') else { break };
        let inside = &rest[..end];
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | 'T' | 'C'))
        {
            break;
        }
        let after = &rest[end + 1..];
        line = after.strip_prefix(' ').unwrap_or(after);
    }
    line
}

fn classify(text: &str) -> Kind<'_> {
    if let Some(version) = text
        .strip_prefix("KTAP version ")
        .or_else(|| text.strip_prefix("TAP version "))
    {
        if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit()) {
            return Kind::Version;
        }
    }
    if let Some(name) = text.strip_prefix("# Subtest:") {
        return Kind::Subtest(name.trim());
    }
    if let Some(count) = text.strip_prefix("1..") {
        if let Ok(count) = count.trim().parse() {
            return Kind::Plan(count);
        }
    }
    let (ok, rest) = if let Some(rest) = text.strip_prefix("ok ") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("not ok ") {
        (false, rest)
    } else if let Some(diagnostic) = text.strip_prefix('#') {
        return Kind::Diagnostic(diagnostic.strip_prefix(' ').unwrap_or(diagnostic));
    } else {
        return Kind::Other;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Kind::Other;
    }
    let rest = rest[digits..].trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (name, directive) = match rest.find('#') {
        Some(hash) => (rest[..hash].trim(), Some(rest[hash + 1..].trim())),
        None => (rest.trim(), None),
    };
    Kind::Result {
        ok,
        name,
        directive,
    }
}

/// A test of any depth, before it is shaped into suites and cases.
#[derive(Debug, Default)]
struct Node {
    name: String,
    result: Option<TestResult>,
    diagnostics: Vec<String>,
    children: Vec<Node>,
    plan: Option<usize>,
}

impl Node {
    /// Whether this test and all below it finished with their plans met.
    fn complete(&self) -> bool {
        self.result
            .as_ref()
            .is_some_and(|r| *r != TestResult::Crashed)
            && self.plan.is_none_or(|n| n == self.children.len())
            && self.children.iter().all(Node::complete)
    }

    /// Whether this test and all below it passed.
    fn passed(&self) -> bool {
        self.result.as_ref().is_some_and(TestResult::passed)
            && self.plan.is_none_or(|n| n == self.children.len())
            && self.children.iter().all(Node::passed)
    }
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.pos)
    }

    /// Skips other kernel output and collects diagnostics into `into`.
    fn skip_noise(&mut self, into: &mut Vec<String>) {
        while let Some(line) = self.peek() {
            match line.kind {
                Kind::Other => {}
                Kind::Diagnostic(text) => into.push(text.to_string()),
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// Parses a test with subtests: header lines at this indentation, the subtests, then (if
    /// `own_result`) the test's own result line at a smaller indentation.
    fn parse_parent(&mut self, own_result: bool) -> Node {
        let indent = self.peek().map_or(0, |line| line.indent);
        let mut node = Node::default();
        let mut seen_version = false;
        // The header: version, subtest name, diagnostics, plan, in that order, any optional.
        loop {
            self.skip_noise(&mut node.diagnostics);
            let Some(line) = self.peek() else { break };
            if line.indent != indent {
                break;
            }
            match line.kind {
                Kind::Version if !seen_version && node.name.is_empty() && node.plan.is_none() => {
                    seen_version = true;
                }
                Kind::Subtest(name) if node.name.is_empty() && node.plan.is_none() => {
                    node.name = name.to_string();
                }
                Kind::Plan(count) if node.plan.is_none() => node.plan = Some(count),
                _ => break,
            }
            self.pos += 1;
        }

        let mut pending = Vec::new();
        loop {
            if node.plan.is_some_and(|n| node.children.len() >= n) {
                break;
            }
            self.skip_noise(&mut pending);
            let Some(line) = self.peek() else { break };
            if line.indent < indent {
                break;
            }
            match line.kind {
                Kind::Result {
                    ok,
                    name,
                    directive,
                } => {
                    self.pos += 1;
                    let mut leaf = Node {
                        name: name.to_string(),
                        diagnostics: core::mem::take(&mut pending),
                        ..Node::default()
                    };
                    leaf.result = Some(result_of(ok, directive));
                    node.children.push(leaf);
                }
                // A header at the same indentation after the plan is a new run, not a child.
                _ if line.indent == indent && node.plan.is_some() => break,
                _ => {
                    let mut child = self.parse_parent(true);
                    pending.append(&mut child.diagnostics);
                    child.diagnostics = pending.split_off(0);
                    node.children.push(child);
                }
            }
        }
        node.diagnostics.append(&mut pending);

        if own_result {
            self.skip_noise(&mut node.diagnostics);
            match self.peek() {
                Some(&Line {
                    indent: line_indent,
                    kind:
                        Kind::Result {
                            ok,
                            name,
                            directive,
                        },
                }) if line_indent < indent || indent == 0 => {
                    self.pos += 1;
                    node.name = name.to_string();
                    node.result = Some(result_of(ok, directive));
                }
                _ => node.result = Some(TestResult::Crashed),
            }
        }
        node
    }
}

fn result_of(ok: bool, directive: Option<&str>) -> TestResult {
    match directive {
        Some(d) if d.len() >= 4 && d[..4].eq_ignore_ascii_case("skip") => TestResult::Skip {
            reason: d[4..].trim().to_string(),
        },
        _ if ok => TestResult::Ok,
        _ => TestResult::NotOk,
    }
}

/// Flattens a case node: failing parameters of a parameterised case become diagnostics.
fn case_of(node: Node) -> Case {
    let mut diagnostics = node.diagnostics;
    let complete = node.plan.is_none_or(|n| n == node.children.len());
    let mut result = node.result.unwrap_or(TestResult::Crashed);
    for param in &node.children {
        if !param.passed() {
            diagnostics.push(format!("not ok {}", param.name));
        }
    }
    if !complete && result == TestResult::Ok {
        result = TestResult::NotOk;
    }
    Case {
        name: node.name,
        result,
        diagnostics,
    }
}

/// Parses a whole serial transcript.
pub fn parse(transcript: &str) -> KtapReport {
    let mut lines = Vec::new();
    let mut prefix = None;
    for raw in transcript.lines() {
        let text = strip_timestamp(raw.trim_end());
        // Like kunit_parser.py, start at the version line, and remove whatever came before it
        // on that line (a console prefix) from the following lines that carry it too.
        let prefix = match prefix {
            Some(prefix) => prefix,
            None => {
                let at = text
                    .find("KTAP version ")
                    .or_else(|| text.find("TAP version "));
                match at {
                    Some(at) if classify(&text[at..]) == Kind::Version => {
                        *prefix.insert(&text[..at])
                    }
                    _ => continue,
                }
            }
        };
        let text = text.strip_prefix(prefix).unwrap_or(text);
        let content = text.trim_start_matches(' ');
        let indent = text.len() - content.len();
        lines.push(Line {
            indent,
            kind: classify(content.trim_start()),
        });
    }
    if lines.is_empty() {
        return KtapReport {
            suites: Vec::new(),
            complete: false,
        };
    }

    let mut parser = Parser { lines, pos: 0 };
    let top = parser.parse_parent(false);
    let complete = top.plan.is_some_and(|n| n == top.children.len())
        && top.children.iter().all(Node::complete);

    let suites = top
        .children
        .into_iter()
        .map(|node| {
            let plan_matched = node.plan.is_some_and(|n| n == node.children.len())
                || (node.plan.is_none() && node.children.is_empty());
            let cases: Vec<Case> = node.children.into_iter().map(case_of).collect();
            let result = node.result.unwrap_or(TestResult::Crashed);
            let ok = result.passed() && plan_matched && cases.iter().all(|c| c.result.passed());
            Suite {
                name: node.name,
                result,
                cases,
                diagnostics: node.diagnostics,
                plan_matched,
                ok,
            }
        })
        .collect();
    KtapReport { suites, complete }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = "\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: memblock
    1..2
    ok 1 add_remove
    # overlap: expected 4096, got 0
    not ok 2 overlap
not ok 1 memblock
    KTAP version 1
    # Subtest: params
    1..3
    ok 1 split
    ok 2 quotes # SKIP no quotes today
    ok 3 - dashes
ok 2 params
";

    #[test]
    fn nested_suites() {
        let report = parse(NESTED);
        assert!(report.complete);
        assert!(!report.passed());
        assert_eq!(report.suites.len(), 2);
        let memblock = &report.suites[0];
        assert_eq!(memblock.name, "memblock");
        assert_eq!(memblock.result, TestResult::NotOk);
        assert!(!memblock.ok);
        assert!(memblock.plan_matched);
        assert_eq!(memblock.cases.len(), 2);
        assert_eq!(memblock.cases[0].name, "add_remove");
        assert_eq!(memblock.cases[0].result, TestResult::Ok);
        assert!(memblock.cases[0].diagnostics.is_empty());
        assert_eq!(memblock.cases[1].name, "overlap");
        assert_eq!(memblock.cases[1].result, TestResult::NotOk);
        assert_eq!(
            memblock.cases[1].diagnostics,
            ["overlap: expected 4096, got 0"]
        );

        let params = &report.suites[1];
        assert!(params.ok);
        assert_eq!(
            params.cases[1].result,
            TestResult::Skip {
                reason: "no quotes today".into()
            }
        );
        assert_eq!(params.cases[2].name, "dashes");
        assert_eq!(
            report.totals(),
            Totals {
                passed: 3,
                failed: 1,
                skipped: 1,
                crashed: 0
            }
        );
    }

    #[test]
    fn timestamps_and_interleaved_log_lines() {
        let mut transcript = String::from("Booting Linux on physical CPU 0x0\nrandom noise [x]\n");
        for (i, line) in NESTED.lines().enumerate() {
            transcript.push_str(&format!("[{:5}.{:06}] {}\n", i / 10, i * 1000, line));
            if i == 6 {
                transcript.push_str(
                    "[    0.500000] virtio_blk virtio0: [vda] 2048 512-byte logical blocks\n",
                );
            }
        }
        transcript.push_str("[    9.000000] reboot: Power down\n");
        let report = parse(&transcript);
        assert!(report.complete, "{report:#?}");
        assert_eq!(report.suites.len(), 2);
        assert_eq!(
            report.suites[0].cases[1].diagnostics,
            ["overlap: expected 4096, got 0"]
        );
        assert_eq!(report, parse(NESTED));
    }

    #[test]
    fn all_passing() {
        let report = parse(
            "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: a\n    1..1\n    ok 1 b\nok 1 a\n",
        );
        assert!(report.complete);
        assert!(report.passed());
        assert_eq!(
            report.totals(),
            Totals {
                passed: 1,
                ..Totals::default()
            }
        );
    }

    #[test]
    fn crash_mid_suite_is_incomplete() {
        let cut = NESTED.find("    not ok 2 overlap").unwrap();
        let report = parse(&NESTED[..cut]);
        assert!(!report.complete);
        assert!(!report.passed());
        assert_eq!(report.suites.len(), 1);
        let memblock = &report.suites[0];
        assert_eq!(memblock.result, TestResult::Crashed);
        assert!(!memblock.plan_matched);
        assert!(!memblock.ok);
        assert_eq!(memblock.cases.len(), 1);
        // The diagnostic printed before the crash is kept.
        assert_eq!(memblock.diagnostics, ["overlap: expected 4096, got 0"]);
        assert_eq!(
            report.totals(),
            Totals {
                passed: 1,
                crashed: 1,
                ..Totals::default()
            }
        );
    }

    #[test]
    fn crash_between_suites_is_incomplete() {
        let cut = NESTED
            .find("    KTAP version 1\n    # Subtest: params")
            .unwrap();
        let report = parse(&NESTED[..cut]);
        assert_eq!(report.suites.len(), 1);
        assert!(!report.complete);
        assert!(!report.passed());
    }

    #[test]
    fn no_ktap_at_all() {
        let report = parse("Kernel panic - not syncing: oops\n");
        assert!(report.suites.is_empty());
        assert!(!report.complete);
        assert!(!report.passed());
        assert!(!parse("").complete);
    }

    #[test]
    fn flat_top_level_tests() {
        let report = parse("TAP version 14\n1..3\nok 1 one\nnot ok 2 two\nok 3 three # skip\n");
        assert!(report.complete);
        assert_eq!(report.suites.len(), 3);
        assert_eq!(
            report.suites[2].result,
            TestResult::Skip {
                reason: String::new()
            }
        );
        assert_eq!(
            report.totals(),
            Totals {
                passed: 1,
                failed: 1,
                skipped: 1,
                crashed: 0
            }
        );
        assert!(!report.passed());
    }

    #[test]
    fn parameterised_case_failures_become_diagnostics() {
        let report = parse(
            "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n    1..1\n        KTAP version 1\n        # Subtest: p\n        1..2\n        ok 1 p=1\n        not ok 2 p=2\n    not ok 1 p\nnot ok 1 s\n",
        );
        assert!(report.complete);
        let case = &report.suites[0].cases[0];
        assert_eq!(case.name, "p");
        assert_eq!(case.result, TestResult::NotOk);
        assert_eq!(case.diagnostics, ["not ok p=2"]);
    }

    #[test]
    fn too_many_results_for_plan() {
        let report = parse("KTAP version 1\n1..1\nok 1 a\nok 2 b\n");
        assert_eq!(report.suites.len(), 1);
        assert!(report.complete);
        let report = parse("KTAP version 1\n1..3\nok 1 a\nok 2 b\n");
        assert!(!report.complete);
    }

    #[test]
    fn prefix_before_version_line_is_dropped() {
        let report = parse("xx KTAP version 1\nxx 1..1\nnoise\nxx ok 1 a\n");
        assert!(report.complete, "{report:#?}");
        assert_eq!(report.suites[0].name, "a");
    }

    #[test]
    fn timestamp_stripping() {
        assert_eq!(strip_timestamp("[    0.123456] ok 1 a"), "ok 1 a");
        assert_eq!(strip_timestamp("[   12.000001][    T1]     ok"), "    ok");
        assert_eq!(strip_timestamp("[vda] x"), "[vda] x");
        assert_eq!(strip_timestamp("[ ok"), "[ ok");
    }
}
