//! Reading `boards/<name>/board.toml`: how QEMU runs a board.
//!
//! The files use a small subset of TOML (`key = "string"` or `key = number`, `#` comments),
//! parsed here by hand so xtask needs no TOML crate.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::env::project_root;

/// One board's QEMU settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The directory name under `boards/`.
    pub name: String,
    /// `-M` machine.
    pub machine: String,
    /// `-cpu`.
    pub cpu: String,
    /// `-smp`.
    pub smp: u32,
    /// `-m`.
    pub memory: String,
    /// True if the console is QEMU's second serial port.
    pub console_on_second_serial: bool,
    /// A DTB to pass with `-dtb`, relative to the board's directory, or `debian:NAME`.
    pub dtb: Option<PathBuf>,
    /// The Raspberry Pi firmware files its SD card needs (empty: no SD card).
    pub firmware: String,
}

/// Parse `key = value` lines.
pub fn parse_kv(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected key = value", n + 1))?;
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(rest) => rest
                .strip_suffix('"')
                .ok_or_else(|| format!("line {}: unterminated string", n + 1))?
                .to_string(),
            None => value.split('#').next().unwrap_or("").trim().to_string(),
        };
        map.insert(key.trim().to_string(), value);
    }
    Ok(map)
}

impl Board {
    /// Load `boards/<name>/board.toml`.
    pub fn load(name: &str) -> Result<Self, String> {
        let path = project_root().join("boards").join(name).join("board.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("unknown board '{name}' ({}: {e})", path.display()))?;
        Self::from_kv(
            name,
            &parse_kv(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        )
    }

    fn from_kv(name: &str, kv: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |key: &str| {
            kv.get(key)
                .cloned()
                .ok_or_else(|| format!("board {name}: no '{key}'"))
        };
        Ok(Self {
            name: name.to_string(),
            machine: get("machine")?,
            cpu: get("cpu")?,
            smp: get("smp")?
                .parse()
                .map_err(|_| format!("board {name}: smp is not a number"))?,
            memory: get("memory")?,
            console_on_second_serial: kv.get("console_serial").map(String::as_str)
                == Some("second"),
            dtb: kv.get("dtb").map(PathBuf::from),
            firmware: kv.get("firmware").cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_subset() {
        let kv = parse_kv("# c\nmachine = \"virt\"\nsmp = 4 # four\n\ncpu=\"a72\"\n").unwrap();
        assert_eq!(kv["machine"], "virt");
        assert_eq!(kv["smp"], "4");
        assert_eq!(kv["cpu"], "a72");
        assert!(parse_kv("machine \"virt\"").is_err());
        assert!(parse_kv("machine = \"virt").is_err());
    }

    #[test]
    fn virt_board_loads() {
        let b = Board::load("virt").unwrap();
        assert_eq!(b.machine, "virt");
        assert_eq!(b.cpu, "cortex-a72");
        assert!(!b.console_on_second_serial);
        assert!(Board::load("no-such-board").is_err());
    }
}
