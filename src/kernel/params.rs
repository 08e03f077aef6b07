//! Kernel command line parsing: `key=value` words, quotes, and the `--` that hands the rest to init.
//!
//! The command line comes from `/chosen/bootargs` and is split the way Linux's
//! `kernel/params.c` splits it (`next_arg`, `parse_args`, `parameq`): words are separated by
//! whitespace; a word is `key=value` or a bare `key`; a double quote starts a stretch in which
//! whitespace does not split (`init="/bin/sh -x"`), and the quotes around a value, or around a
//! whole word, are dropped; in keys `-` and `_` are the same character; a bare `--` ends the
//! kernel's arguments and everything after it belongs to init. Number parsing follows
//! `lib/kstrtox.c` (`kstrtoull` with base 0) and `lib/cmdline.c` (`memparse`).
//!
//! Nothing here allocates or panics: the command line is untrusted bytes, and every slice
//! boundary below falls on an ASCII byte, hence on a UTF-8 character boundary. Linux's
//! `isspace` also counts byte 0xa0 as a space (Latin-1 NBSP); in UTF-8 that byte only occurs
//! inside a multi-byte character, so Cradle counts only the ASCII whitespace.

/// One command line word: `key=value` (`value` is `Some`, possibly empty) or a bare `key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// The key, exactly as written (compare it with [`parameq`]).
    pub key: &'a str,
    /// The value with its surrounding quotes removed, or `None` for a bare flag.
    pub value: Option<&'a str>,
}

/// `isspace` for the ASCII characters (space, `\t`, `\n`, `\v`, `\f`, `\r`).
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `skip_spaces`: `s` without its leading whitespace.
fn skip_spaces(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

/// `next_arg`: splits the first word off `args` (which starts with a non-space).
///
/// Returns the word's key, its value, and the rest of the line with leading spaces skipped.
/// The quirks are Linux's: an `=` at the very start of a word does not separate a key (the
/// first `=` after it does), and a closing quote is only dropped when it ends the word.
fn next_arg(args: &str) -> (Param<'_>, &str) {
    let quoted = args.starts_with('"');
    let body = if quoted { &args[1..] } else { args };
    let bytes = body.as_bytes();

    let mut in_quote = quoted;
    let mut equals = 0;
    let mut i = 0;
    while i < bytes.len() {
        if is_space(bytes[i]) && !in_quote {
            break;
        }
        if equals == 0 && bytes[i] == b'=' {
            equals = i;
        }
        if bytes[i] == b'"' {
            in_quote = !in_quote;
        }
        i += 1;
    }

    // The word is body[..i]; a trailing quote is dropped if the value or the word was quoted.
    let closing_quote = i > 0 && bytes[i - 1] == b'"';
    let param = if equals == 0 {
        let end = if quoted && closing_quote { i - 1 } else { i };
        Param {
            key: &body[..end],
            value: None,
        }
    } else {
        let mut start = equals + 1;
        let mut end = i;
        if bytes.get(start) == Some(&b'"') {
            start += 1;
            if closing_quote {
                end = i - 1;
            }
        } else if quoted && closing_quote {
            end = i - 1;
        }
        // `a="` : the opening quote is also the closing one; the value is empty.
        let end = end.max(start);
        Param {
            key: &body[..equals],
            value: Some(&body[start..end]),
        }
    };

    let rest = if i < bytes.len() { &body[i + 1..] } else { "" };
    (param, skip_spaces(rest))
}

/// An iterator over the kernel's words of a command line; it stops at a bare `--`.
///
/// Made by [`params`]; after it returns `None`, [`Params::init_args`] holds what follows `--`.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: &'a str,
    after_dashes: &'a str,
    done: bool,
}

impl<'a> Params<'a> {
    /// What follows a bare `--`, once the iterator has reached it ("" until then, or if the
    /// line has no `--`).
    pub fn init_args(&self) -> &'a str {
        self.after_dashes
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        if self.done || self.rest.is_empty() {
            self.done = true;
            return None;
        }
        let (param, rest) = next_arg(self.rest);
        self.rest = rest;
        if param.value.is_none() && param.key == "--" {
            // `parse_args`: "Stop at --"; the rest is for init.
            self.after_dashes = rest;
            self.done = true;
            return None;
        }
        Some(param)
    }
}

/// `parse_args`: the kernel's words of `cmdline`, in order, up to a bare `--`.
pub fn params(cmdline: &str) -> Params<'_> {
    Params {
        rest: skip_spaces(cmdline),
        after_dashes: "",
        done: false,
    }
}

/// `dash2underscore`: `-` and `_` are the same character in parameter names.
fn dash2underscore(c: u8) -> u8 {
    if c == b'-' {
        b'_'
    } else {
        c
    }
}

/// `parameq`: whether two parameter names are equal, counting `-` and `_` as the same.
pub fn parameq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| dash2underscore(x) == dash2underscore(y))
}

/// The value of `key` on the command line: `None` if absent, `Some(None)` for a bare flag,
/// `Some(Some(value))` for `key=value`. If `key` appears more than once, the last one wins,
/// as it does for Linux's parameters (each assignment overwrites the previous one). Words
/// after `--` belong to init and are not looked at.
pub fn get<'a>(cmdline: &'a str, key: &str) -> Option<Option<&'a str>> {
    params(cmdline)
        .filter(|p| parameq(p.key, key))
        .last()
        .map(|p| p.value)
}

/// What follows a bare `--` on the command line: init's arguments ("" if there is no `--`).
pub fn init_args(cmdline: &str) -> &str {
    let mut it = params(cmdline);
    it.by_ref().for_each(drop);
    it.init_args()
}

/// Splits a number in `kstrtoull`'s base 0 off the front of `s`: `0x`/`0X` means hex, a
/// leading `0` octal, anything else decimal. Returns the value and the unparsed rest, or
/// `None` if there are no digits or the value overflows a `u64`.
fn parse_prefix(s: &str) -> Option<(u64, &str)> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let (radix, digits) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, hex)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let count = digits
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if count == 0 {
        // "0" followed by a non-octal character is the number 0 followed by that character.
        return if radix == 8 { Some((0, digits)) } else { None };
    }
    let mut value: u64 = 0;
    for b in digits[..count].bytes() {
        let digit = u64::from((b as char).to_digit(radix)?);
        value = value.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    Some((value, &digits[count..]))
}

/// `kstrtoull(s, 0, ...)`: a whole unsigned number, decimal, `0x` hex, or `0`-prefixed octal.
/// `None` on anything else, including trailing characters and overflow.
pub fn parse_int(s: &str) -> Option<u64> {
    match parse_prefix(s)? {
        (value, "") => Some(value),
        _ => None,
    }
}

/// `memparse`: a size such as `512M`, `0x8000000`, `4k` or `2G` (suffixes K, M, G, T, P, E,
/// either case, each a factor of 1024). Unlike Linux, which stops at the first character it
/// does not understand, anything after the suffix, or an overflow, is an error.
pub fn memparse(s: &str) -> Option<u64> {
    let (value, rest) = parse_prefix(s)?;
    let shift = match rest {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        "P" | "p" => 50,
        "E" | "e" => 60,
        _ => return None,
    };
    if value > u64::MAX >> shift {
        return None;
    }
    Some(value << shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn all(cmdline: &str) -> Vec<(&str, Option<&str>)> {
        params(cmdline).map(|p| (p.key, p.value)).collect()
    }

    #[test]
    fn words_values_and_flags() {
        assert_eq!(
            all("console=ttyAMA0,115200  earlycon\tloglevel=8 quiet"),
            [
                ("console", Some("ttyAMA0,115200")),
                ("earlycon", None),
                ("loglevel", Some("8")),
                ("quiet", None)
            ]
        );
        assert_eq!(all("  root=  "), [("root", Some(""))]);
        assert_eq!(all("a=b=c"), [("a", Some("b=c"))]);
    }

    #[test]
    fn quotes() {
        assert_eq!(
            all(r#"init="/bin/sh -x" quiet"#),
            [("init", Some("/bin/sh -x")), ("quiet", None)]
        );
        // A whole quoted word keeps its space and loses its quotes.
        assert_eq!(
            all(r#""foo=bar baz" x"#),
            [("foo", Some("bar baz")), ("x", None)]
        );
        assert_eq!(all(r#""flag with space""#), [("flag with space", None)]);
        // A quote in the middle of a value is kept when it does not end the word (Linux).
        assert_eq!(all(r#"a="b c"d e"#), [("a", Some(r#"b c"d"#)), ("e", None)]);
        // Unterminated quote: the rest of the line is the value.
        assert_eq!(all(r#"a="b c d"#), [("a", Some("b c d"))]);
        assert_eq!(all(r#"a=""#), [("a", Some(""))]);
        assert_eq!(all(r#"a="""#), [("a", Some(""))]);
        assert_eq!(all(r#"""#), [("", None)]);
    }

    #[test]
    fn dashes_end_kernel_args() {
        let line = "console=ttyS0 -- -x foo=bar";
        assert_eq!(all(line), [("console", Some("ttyS0"))]);
        assert_eq!(init_args(line), "-x foo=bar");
        assert_eq!(init_args("quiet"), "");
        assert_eq!(init_args("quiet --"), "");
        // `--=x` is a parameter, not the separator.
        assert_eq!(all("--=x y"), [("--", Some("x")), ("y", None)]);
        assert_eq!(get("a -- b", "b"), None);
    }

    #[test]
    fn lookup() {
        let line = "earlycon foo-bar=1 rdinit=/init foo_bar=2";
        assert_eq!(get(line, "earlycon"), Some(None));
        assert_eq!(get(line, "rdinit"), Some(Some("/init")));
        assert_eq!(get(line, "foo_bar"), Some(Some("2")));
        assert_eq!(get(line, "foo-bar"), Some(Some("2")));
        assert_eq!(get(line, "foo"), None);
        assert!(parameq("log-buf_len", "log_buf-len"));
        assert!(!parameq("log_buf_len", "log_buf_le"));
        assert!(!parameq("a", "b"));
    }

    #[test]
    fn linux_equals_quirk() {
        // An '=' at the start of a word does not split it; the next one does.
        assert_eq!(all("="), [("=", None)]);
        assert_eq!(all("=a=b"), [("=a", Some("b"))]);
    }

    #[test]
    fn weird_input_never_panics() {
        let cases = [
            "",
            " ",
            "\t\n",
            "\"",
            "\"\"",
            "=",
            "==",
            "=\"",
            "\"=",
            "a=\"",
            "\"a=",
            "--",
            " -- ",
            "ü=ö \"ä ß\" ✓",
            "é",
            "a=\u{a0}b",
            "\u{a0}",
            "\"\u{a0}\"",
            "x\"y\"z=\"w",
        ];
        for case in cases {
            let count = params(case).count();
            assert!(count <= case.len(), "{case:?}");
            let _ = init_args(case);
            let _ = get(case, "a");
        }
        assert_eq!(all("ü=ö \"ä ß\""), [("ü", Some("ö")), ("ä ß", None)]);
        assert_eq!(all(""), []);
        // Every byte string that is valid UTF-8 up to length 3 over an interesting alphabet.
        let alphabet = [" ", "\"", "=", "-", "a", "é", "\t"];
        let mut s = std::string::String::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    s.clear();
                    s.push_str(a);
                    s.push_str(b);
                    s.push_str(c);
                    for p in params(&s) {
                        assert!(s.contains(p.key));
                    }
                    let _ = init_args(&s);
                }
            }
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("115200"), Some(115_200));
        assert_eq!(parse_int("0x9000000"), Some(0x900_0000));
        assert_eq!(parse_int("0XfF"), Some(255));
        assert_eq!(parse_int("010"), Some(8));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_int("18446744073709551616"), None);
        assert_eq!(parse_int("0x1ffffffffffffffff"), None);
        for bad in ["", "0x", "x", "12a", "-1", "08", " 1", "1 ", "+", "٣"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memparse_suffixes() {
        assert_eq!(memparse("4096"), Some(4096));
        assert_eq!(memparse("4k"), Some(4096));
        assert_eq!(memparse("512M"), Some(512 << 20));
        assert_eq!(memparse("2G"), Some(2 << 30));
        assert_eq!(memparse("0x10m"), Some(16 << 20));
        assert_eq!(memparse("1T"), Some(1 << 40));
        assert_eq!(memparse("15E"), Some(15 << 60));
        assert_eq!(memparse("16E"), None);
        assert_eq!(memparse("0k"), Some(0));
        for bad in ["", "K", "1KB", "1X", "0x", "1 M"] {
            assert_eq!(memparse(bad), None, "{bad:?}");
        }
    }
}

/// Split the arguments Linux hands to init (what follows `--`, and `key=value` words the
/// kernel did not recognise) into words: whitespace separates, double quotes group and are
/// removed (as Linux's `next_arg` does).
pub fn split_args(s: &str) -> alloc::vec::Vec<alloc::string::String> {
    let mut words = alloc::vec::Vec::new();
    let mut word = alloc::string::String::new();
    let (mut in_quotes, mut in_word) = (false, false);
    for c in s.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                in_word = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod split_args_tests {
    use super::split_args;

    #[test]
    fn quotes_group_and_vanish() {
        assert_eq!(
            split_args(r#"-c "echo hi; ls /"  x"#),
            ["-c", "echo hi; ls /", "x"]
        );
        assert_eq!(split_args(r#"a="b c" "#), ["a=b c"]);
        assert!(split_args("   ").is_empty());
        assert_eq!(split_args(r#""""#), [""]);
        assert_eq!(
            split_args(r#"unterminated "quote here"#),
            ["unterminated", "quote here"]
        );
    }
}
