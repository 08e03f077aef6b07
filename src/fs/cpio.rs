//! The initramfs archive format: cpio "newc", and the gzip wrapper it usually comes in.
//!
//! An initramfs is one or more cpio archives in the "newc" format (SVR4 without CRC, magic
//! `070701`, or with CRC, `070702`, whose checksum nobody checks), each ended by an entry named
//! `TRAILER!!!`, with zero bytes allowed between archives. Every entry is a 110-byte header of
//! ASCII hex fields, the NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes
//! (a symlink's data is its target). The whole thing is usually gzipped.
//!
//! [`CpioReader`] walks the entries of a plain (already decompressed) image without copying;
//! [`gunzip`] undoes the gzip wrapper; [`CpioWriter`] builds archives (the xtask and the tests
//! use it). Bytes from outside never panic the parser: every malformation is a [`CpioError`]
//! naming the offset, which the kernel logs before keeping what it had already unpacked.
//!
//! Linux: `init/initramfs.c` (the state machine `do_header`/`do_name`/`do_reset`, and
//! `unpack_to_rootfs`, which skips zero padding between archives and requires each archive to
//! start 4-byte aligned), `Documentation/driver-api/early-userspace/buffer-format.rst`,
//! `usr/gen_init_cpio.c` (the writer, which also pads the trailer to 512 bytes), and
//! `lib/decompress_inflate.c` (gzip).
//!
//! Two things Linux does that this file leaves to its caller: an image that mixes plain and
//! compressed segments (an uncompressed early-microcode archive followed by a gzipped one), and
//! hard links (entries with `nlink >= 2` sharing `(dev_major, dev_minor, ino)`, whose data rides
//! on the last one) — [`CpioEntry`] carries the fields needed for both.
//!
//! This file uses nothing from the rest of the kernel (only `core`, `alloc` and
//! `miniz_oxide`), so the xtask can include it with `#[path]`.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// The mask of the file-type bits of `mode` (Linux: `include/uapi/linux/stat.h`).
pub const S_IFMT: u32 = 0o170000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// FIFO (named pipe).
pub const S_IFIFO: u32 = 0o010000;

/// The size of a newc header: a 6-byte magic and 13 fields of 8 hex digits.
pub const HEADER_LEN: usize = 110;
/// The magic of newc without checksums.
pub const MAGIC_NEWC: &[u8; 6] = b"070701";
/// The magic of newc with checksums ("crc" format); Linux ignores the checksum, and so do we.
pub const MAGIC_NEWC_CRC: &[u8; 6] = b"070702";
/// The name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";
/// The longest name (with its NUL) accepted, as Linux's `PATH_MAX`.
pub const PATH_MAX: usize = 4096;

/// What went wrong, and where in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioError {
    /// Byte offset into the input where the problem was found.
    pub offset: usize,
    /// What the problem is, for the log.
    pub reason: &'static str,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpio: {} at offset {:#x}", self.reason, self.offset)
    }
}

fn error<T>(offset: usize, reason: &'static str) -> Result<T, CpioError> {
    Err(CpioError { offset, reason })
}

/// One member of an archive. `data` borrows from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// The path, relative to the root being unpacked into: leading `./` and `/` are removed,
    /// and `.` (the root itself) becomes the empty string. Not otherwise checked: `..` and
    /// doubled slashes are for the path walk to judge.
    pub name: &'a str,
    /// Inode number; with `dev_major`/`dev_minor` it identifies hard links.
    pub ino: u32,
    /// File type (`mode & S_IFMT`) and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Major number of the device the file lived on (for hard-link identity only).
    pub dev_major: u32,
    /// Minor number of the device the file lived on.
    pub dev_minor: u32,
    /// Major number of the device a character or block device node names.
    pub rdev_major: u32,
    /// Minor number of the device a character or block device node names.
    pub rdev_minor: u32,
    /// The contents: a regular file's bytes, a symlink's target, empty otherwise.
    pub data: &'a [u8],
}

impl CpioEntry<'_> {
    fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }

    /// Is this a directory?
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    /// Is this a regular file?
    pub fn is_reg(&self) -> bool {
        self.file_type() == S_IFREG
    }

    /// Is this a symbolic link (its target in `data`)?
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    /// Is this a character device node?
    pub fn is_chrdev(&self) -> bool {
        self.file_type() == S_IFCHR
    }

    /// Is this a block device node?
    pub fn is_blkdev(&self) -> bool {
        self.file_type() == S_IFBLK
    }

    /// Is this a FIFO?
    pub fn is_fifo(&self) -> bool {
        self.file_type() == S_IFIFO
    }

    /// Is this a socket?
    pub fn is_socket(&self) -> bool {
        self.file_type() == S_IFSOCK
    }
}

/// An iterator over the entries of one or more concatenated newc archives.
///
/// Yields `Ok(entry)` for each member other than the trailers, in archive order, and stops at
/// the end of the input. After the first `Err` it yields nothing more: a corrupt header leaves
/// no trustworthy way to find the next one.
///
/// # Invariants
///
/// `offset <= data.len()`.
pub struct CpioReader<'a> {
    data: &'a [u8],
    offset: usize,
    /// Between a header and its archive's `TRAILER!!!`, as opposed to in the zero padding
    /// between archives.
    in_archive: bool,
    done: bool,
}

impl<'a> CpioReader<'a> {
    /// Reads the archives in `data` (already decompressed).
    pub fn new(data: &'a [u8]) -> Self {
        CpioReader {
            data,
            offset: 0,
            in_archive: false,
            done: false,
        }
    }

    /// Where the next header is expected (how far the reader has got).
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn fail(&mut self, err: CpioError) -> Option<Result<CpioEntry<'a>, CpioError>> {
        self.done = true;
        Some(Err(err))
    }
}

impl<'a> Iterator for CpioReader<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if !self.in_archive {
                // As `unpack_to_rootfs`: zero bytes between archives are skipped, and the next
                // archive must start on a 4-byte boundary.
                while self.data.get(self.offset) == Some(&0) {
                    self.offset += 1;
                }
                if self.offset == self.data.len() {
                    self.done = true;
                    return None;
                }
                if !self.offset.is_multiple_of(4) {
                    return self.fail(CpioError {
                        offset: self.offset,
                        reason: "broken padding",
                    });
                }
                self.in_archive = true;
            } else if self.offset == self.data.len() {
                return self.fail(CpioError {
                    offset: self.offset,
                    reason: "archive ends without TRAILER!!!",
                });
            }
            match parse_entry(self.data, self.offset) {
                Err(err) => return self.fail(err),
                Ok((raw_name, entry, next)) => {
                    self.offset = next;
                    if raw_name == TRAILER {
                        self.in_archive = false;
                        continue;
                    }
                    return Some(Ok(entry));
                }
            }
        }
    }
}

/// Parses 8 ASCII hex digits at `data[at..at + 8]` (the caller has checked the length).
fn hex_field(data: &[u8], at: usize) -> Result<u32, CpioError> {
    let Some(digits) = data.get(at..at + 8) else {
        return error(at, "truncated header");
    };
    let mut value = 0u32;
    for (i, &digit) in digits.iter().enumerate() {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            b'A'..=b'F' => digit - b'A' + 10,
            _ => return error(at + i, "bad hex digit in header"),
        };
        value = (value << 4) | u32::from(nibble);
    }
    Ok(value)
}

/// Rounds `n` up to a multiple of 4, or `None` on overflow.
fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|n| n & !3)
}

/// Strips what makes a name absolute or dotted: `./bin` and `/bin` are `bin`; `.` is the root.
fn normalize_name(name: &str) -> &str {
    let mut name = name;
    loop {
        if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else if name == "." {
            return "";
        } else {
            return name;
        }
    }
}

/// Parses the entry whose header starts at `start`. Returns its raw name (to spot the
/// trailer), the entry, and where the next header starts (at most `data.len()`).
fn parse_entry(data: &[u8], start: usize) -> Result<(&str, CpioEntry<'_>, usize), CpioError> {
    let Some(header) = data.get(start..).and_then(|rest| rest.get(..HEADER_LEN)) else {
        return error(start, "truncated header");
    };
    let magic = &header[..6];
    if magic == b"070707" {
        return error(start, "old (odc) cpio format, use -H newc");
    }
    if magic != MAGIC_NEWC && magic != MAGIC_NEWC_CRC {
        return error(start, "bad magic");
    }
    let mut fields = [0u32; 13];
    for (i, field) in fields.iter_mut().enumerate() {
        *field = hex_field(data, start + 6 + 8 * i)?;
    }
    let [ino, mode, uid, gid, nlink, mtime, filesize, dev_major, dev_minor, rdev_major, rdev_minor, namesize, _check] =
        fields;

    let name_start = start + HEADER_LEN;
    let namesize = namesize as usize;
    if namesize == 0 {
        return error(start, "zero name size");
    }
    if namesize > PATH_MAX {
        return error(start, "name too long");
    }
    let Some(name_with_nul) = data.get(name_start..).and_then(|rest| rest.get(..namesize)) else {
        return error(name_start, "truncated name");
    };
    let (name_bytes, nul) = name_with_nul.split_at(namesize - 1);
    if nul != [0] {
        return error(name_start + namesize - 1, "name not NUL-terminated");
    }
    if let Some(pos) = name_bytes.iter().position(|&b| b == 0) {
        return error(name_start + pos, "NUL inside name");
    }
    if name_bytes.is_empty() {
        return error(name_start, "empty name");
    }
    let Ok(raw_name) = core::str::from_utf8(name_bytes) else {
        return error(name_start, "name is not UTF-8");
    };

    // Headers start 4-byte aligned (checked for the first one of each archive, and kept by
    // this padding for the rest), so aligning absolute offsets aligns within the archive.
    let Some(data_start) = align4(name_start + namesize) else {
        return error(name_start, "name too long");
    };
    let filesize = filesize as usize;
    let data_end = data_start.checked_add(filesize);
    let Some(contents) = data_end.and_then(|end| data.get(data_start..end)) else {
        return error(start, "truncated data");
    };
    // `data_end` is within `data`, so neither this nor the `min` can overflow or exceed it;
    // padding missing at the very end of the input is forgiven.
    let next = align4(data_start + filesize)
        .unwrap_or(usize::MAX)
        .min(data.len());

    let entry = CpioEntry {
        name: normalize_name(raw_name),
        ino,
        mode,
        uid,
        gid,
        nlink,
        mtime,
        dev_major,
        dev_minor,
        rdev_major,
        rdev_minor,
        data: contents,
    };
    Ok((raw_name, entry, next))
}

/// Does `data` start with the gzip magic (`1f 8b`)?
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

const GZIP_FHCRC: u8 = 1 << 1;
const GZIP_FEXTRA: u8 = 1 << 2;
const GZIP_FNAME: u8 = 1 << 3;
const GZIP_FCOMMENT: u8 = 1 << 4;
const GZIP_FRESERVED: u8 = 0xe0;
const GZIP_CM_DEFLATE: u8 = 8;

/// The CRC-32 (IEEE 802.3, reflected, as gzip uses) lookup table, built at compile time.
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// The CRC-32 gzip stores in its trailer (and, truncated to 16 bits, in FHCRC).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &byte| {
        CRC32_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// Skips a NUL-terminated string (FNAME, FCOMMENT) starting at `at`; returns what follows.
fn skip_cstr(data: &[u8], at: usize) -> Result<usize, CpioError> {
    match data
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == 0))
    {
        Some(len) => Ok(at + len + 1),
        None => error(at, "truncated gzip header"),
    }
}

/// Decompresses a gzip file (RFC 1952), appending concatenated members as gzip(1) does and
/// ignoring zero padding after the last one, into at most `limit` bytes. Checks each member's
/// CRC-32 and length. Errors name offsets into `data`.
///
/// Linux: `lib/decompress_inflate.c` (`__gunzip`), which also parses the header itself.
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, CpioError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        offset = gunzip_member(data, offset, limit, &mut out)?;
        while data.get(offset) == Some(&0) {
            offset += 1;
        }
        if offset == data.len() {
            return Ok(out);
        }
        if !is_gzip(&data[offset..]) {
            return error(offset, "trailing garbage after gzip data");
        }
    }
}

/// Decompresses the gzip member at `start`, appending to `out` (which stays within `limit`).
/// Returns the offset just past the member's trailer.
fn gunzip_member(
    data: &[u8],
    start: usize,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<usize, CpioError> {
    let Some(header) = data.get(start..).and_then(|rest| rest.get(..10)) else {
        return error(start, "truncated gzip header");
    };
    if !is_gzip(header) {
        return error(start, "not gzip data");
    }
    if header[2] != GZIP_CM_DEFLATE {
        return error(start + 2, "unknown gzip compression method");
    }
    let flags = header[3];
    if flags & GZIP_FRESERVED != 0 {
        return error(start + 3, "reserved gzip flags set");
    }
    // MTIME (4), XFL (1) and OS (1) tell us nothing we need.
    let mut at = start + 10;
    if flags & GZIP_FEXTRA != 0 {
        let Some(xlen) = data.get(at..at + 2) else {
            return error(at, "truncated gzip header");
        };
        let xlen = usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
        if data.len() - at < 2 + xlen {
            return error(at, "truncated gzip header");
        }
        at += 2 + xlen;
    }
    if flags & GZIP_FNAME != 0 {
        at = skip_cstr(data, at)?;
    }
    if flags & GZIP_FCOMMENT != 0 {
        at = skip_cstr(data, at)?;
    }
    if flags & GZIP_FHCRC != 0 {
        let Some(stored) = data.get(at..at + 2) else {
            return error(at, "truncated gzip header");
        };
        let computed = crc32(&data[start..at]) as u16;
        if u16::from_le_bytes([stored[0], stored[1]]) != computed {
            return error(at, "gzip header CRC mismatch");
        }
        at += 2;
    }

    let member_out_start = out.len();
    let consumed =
        inflate_into(&data[at..], limit, out).map_err(|reason| CpioError { offset: at, reason })?;
    let trailer_at = at + consumed;
    let Some(trailer) = data.get(trailer_at..).and_then(|rest| rest.get(..8)) else {
        return error(trailer_at, "truncated gzip trailer");
    };
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let member = &out[member_out_start..];
    if crc32(member) != stored_crc {
        return error(trailer_at, "gzip CRC mismatch");
    }
    // ISIZE is the length modulo 2^32.
    if member.len() as u32 != stored_len {
        return error(trailer_at + 4, "gzip length mismatch");
    }
    Ok(trailer_at + 8)
}

/// Inflates the raw deflate stream at the start of `input`, appending to `out` without letting
/// it grow past `limit`. Returns how many input bytes the stream took.
fn inflate_into(input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    use miniz_oxide::inflate::TINFLStatus;

    // As miniz_oxide's `decompress_to_vec_inner`, but keeping count of the input consumed (to
    // find the trailer) and appending to `out`. The output slice handed to `decompress` is the
    // whole member so far, since back-references may reach anywhere in it.
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // The decompressor state is ~11 KiB: on the heap, not the kernel stack.
    let mut state = Box::<DecompressorOxide>::default();
    let base = out.len();
    if base > limit {
        return Err("decompressed size over the limit");
    }
    let budget = limit - base;
    let mut member = vec![0u8; input.len().saturating_mul(4).max(64).min(budget)];
    let mut in_pos = 0;
    let mut out_pos = 0;
    loop {
        let (status, in_used, out_used) =
            decompress(&mut state, &input[in_pos..], &mut member, out_pos, flags);
        in_pos = (in_pos + in_used).min(input.len());
        out_pos += out_used;
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput => {
                if member.len() >= budget {
                    return Err("decompressed size over the limit");
                }
                let grown = member.len().saturating_mul(2).min(budget);
                member.resize(grown, 0);
            }
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                return Err("truncated deflate data");
            }
            _ => return Err("corrupt deflate data"),
        }
    }
    member.truncate(out_pos);
    if out.is_empty() {
        *out = member; // the usual single member: no copy
    } else {
        out.extend_from_slice(&member);
    }
    Ok(in_pos)
}

/// Builds newc archives in memory, as `usr/gen_init_cpio.c` does: inode numbers counting up
/// from 1, directories with two links and everything else with one, the trailer padded to a
/// 512-byte boundary.
pub struct CpioWriter {
    buf: Vec<u8>,
    next_ino: u32,
    mtime: u32,
    uid: u32,
    gid: u32,
}

impl Default for CpioWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CpioWriter {
    /// An empty archive: owner root, mtime 0.
    pub fn new() -> Self {
        CpioWriter {
            buf: Vec::new(),
            next_ino: 1,
            mtime: 0,
            uid: 0,
            gid: 0,
        }
    }

    /// Sets the modification time of the entries added from now on.
    pub fn set_mtime(&mut self, mtime: u32) {
        self.mtime = mtime;
    }

    /// Sets the owner of the entries added from now on.
    pub fn set_owner(&mut self, uid: u32, gid: u32) {
        self.uid = uid;
        self.gid = gid;
    }

    /// Adds a directory; `perm` is the permission bits (`0o755`).
    pub fn dir(&mut self, name: &str, perm: u32) -> Result<(), CpioError> {
        self.add(name, S_IFDIR | (perm & !S_IFMT), 2, (0, 0), &[])
    }

    /// Adds a regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> Result<(), CpioError> {
        self.add(name, S_IFREG | (perm & !S_IFMT), 1, (0, 0), data)
    }

    /// Adds a symbolic link `name` -> `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> Result<(), CpioError> {
        self.add(name, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes())
    }

    /// Adds a character device node.
    pub fn char_dev(
        &mut self,
        name: &str,
        perm: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), CpioError> {
        self.add(name, S_IFCHR | (perm & !S_IFMT), 1, (major, minor), &[])
    }

    /// Adds a block device node.
    pub fn block_dev(
        &mut self,
        name: &str,
        perm: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), CpioError> {
        self.add(name, S_IFBLK | (perm & !S_IFMT), 1, (major, minor), &[])
    }

    /// Adds a FIFO.
    pub fn fifo(&mut self, name: &str, perm: u32) -> Result<(), CpioError> {
        self.add(name, S_IFIFO | (perm & !S_IFMT), 1, (0, 0), &[])
    }

    /// Adds any entry: `mode` includes the file type. Fails (adding nothing) if the name is
    /// empty, holds a NUL or is longer than `PATH_MAX`, or the data is over 4 GiB.
    pub fn add(
        &mut self,
        name: &str,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: &[u8],
    ) -> Result<(), CpioError> {
        let ino = self.next_ino;
        self.push(ino, name, mode, nlink, rdev, data)?;
        self.next_ino = self.next_ino.wrapping_add(1);
        Ok(())
    }

    fn push(
        &mut self,
        ino: u32,
        name: &str,
        mode: u32,
        nlink: u32,
        (rdev_major, rdev_minor): (u32, u32),
        data: &[u8],
    ) -> Result<(), CpioError> {
        let at = self.buf.len();
        if name.is_empty() || name.as_bytes().contains(&0) {
            return error(at, "name empty or holds a NUL");
        }
        let namesize = name.len() + 1;
        if namesize > PATH_MAX {
            return error(at, "name too long");
        }
        let Ok(filesize) = u32::try_from(data.len()) else {
            return error(at, "file over 4 GiB");
        };
        let fields = [
            ino,
            mode,
            self.uid,
            self.gid,
            nlink,
            self.mtime,
            filesize,
            0, // dev_major
            0, // dev_minor
            rdev_major,
            rdev_minor,
            namesize as u32,
            0, // check
        ];
        self.buf.extend_from_slice(MAGIC_NEWC);
        for field in fields {
            for shift in (0..8).rev() {
                let nibble = ((field >> (shift * 4)) & 0xf) as u8;
                self.buf.push(if nibble < 10 {
                    b'0' + nibble
                } else {
                    b'A' + nibble - 10
                });
            }
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad_to(4);
        self.buf.extend_from_slice(data);
        self.pad_to(4);
        Ok(())
    }

    fn pad_to(&mut self, align: usize) {
        let len = self.buf.len().next_multiple_of(align);
        self.buf.resize(len, 0);
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        // The trailer's fields are all zero but namesize (gen_init_cpio: `cpio_trailer`), and
        // its name is valid, so this cannot fail.
        let _ = self.push(0, TRAILER, 0, 1, (0, 0), &[]);
        self.pad_to(512);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    /// A gzipped archive written by an independent (Python) newc writer and compressed with
    /// gzip(1) (`gzip -9`, so the header has FNAME): `.` `bin/` `bin/hello` `bin/sh -> hello`
    /// `dev/` `dev/console` (c 5 1) `etc/` `etc/motd` (uid 1000 gid 100) `run.fifo`, mtime
    /// 1700000000, padded to 512 bytes.
    const FIXTURE_GZ: &[u8] = include_bytes!("testdata/initramfs.cpio.gz");

    /// A deterministic xorshift generator for the fuzz tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn sample_archive() -> Vec<u8> {
        let mut w = CpioWriter::new();
        w.set_mtime(1_700_000_000);
        w.dir("bin", 0o755).unwrap();
        w.file("bin/busybox", 0o755, b"\x7fELF not really").unwrap();
        w.symlink("bin/sh", "busybox").unwrap();
        w.dir("dev", 0o755).unwrap();
        w.char_dev("dev/console", 0o600, 5, 1).unwrap();
        w.block_dev("dev/ram0", 0o660, 1, 0).unwrap();
        w.fifo("run/fifo", 0o644).unwrap();
        w.set_owner(1000, 100);
        w.file("home/empty", 0o644, b"").unwrap();
        w.file("home/abc", 0o644, b"abc").unwrap();
        w.finish()
    }

    fn read_all(data: &[u8]) -> Result<Vec<CpioEntry<'_>>, CpioError> {
        CpioReader::new(data).collect()
    }

    #[test]
    fn writer_round_trips_through_reader() {
        let archive = sample_archive();
        assert_eq!(archive.len() % 512, 0);
        let entries = read_all(&archive).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "bin",
                "bin/busybox",
                "bin/sh",
                "dev",
                "dev/console",
                "dev/ram0",
                "run/fifo",
                "home/empty",
                "home/abc"
            ]
        );
        assert!(entries[0].is_dir() && entries[0].mode == 0o40755 && entries[0].nlink == 2);
        assert!(entries[1].is_reg() && entries[1].data == b"\x7fELF not really");
        assert_eq!(entries[1].mtime, 1_700_000_000);
        assert!(entries[2].is_symlink() && entries[2].data == b"busybox");
        let console = &entries[4];
        assert!(console.is_chrdev() && !console.is_blkdev());
        assert_eq!((console.rdev_major, console.rdev_minor), (5, 1));
        assert!(entries[5].is_blkdev() && entries[5].mode & 0o777 == 0o660);
        assert!(entries[6].is_fifo() && !entries[6].is_reg());
        assert_eq!((entries[7].uid, entries[7].gid), (1000, 100));
        assert_eq!(entries[7].data, b"");
        assert_eq!(entries[8].data, b"abc");
        let inos: Vec<u32> = entries.iter().map(|e| e.ino).collect();
        assert_eq!(inos, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn writer_rejects_bad_names() {
        let mut w = CpioWriter::new();
        assert!(w.file("", 0o644, b"").is_err());
        assert!(w.file("a\0b", 0o644, b"").is_err());
        assert!(w.file(&"x".repeat(PATH_MAX), 0o644, b"").is_err());
        assert!(w.file(&"x".repeat(PATH_MAX - 1), 0o644, b"").is_ok());
        let archive = w.finish();
        let entries = read_all(&archive).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].ino, 1,
            "failed adds must not use up inode numbers"
        );
    }

    #[test]
    fn empty_and_zero_inputs_have_no_entries() {
        assert_eq!(read_all(&[]).unwrap(), []);
        assert_eq!(read_all(&[0; 1024]).unwrap(), []);
        assert_eq!(read_all(&CpioWriter::new().finish()).unwrap(), []);
    }

    #[test]
    fn names_lose_leading_dot_slash_and_slash() {
        let mut w = CpioWriter::new();
        for name in [
            ".",
            "./",
            "./bin",
            "/etc",
            "//./usr",
            "a/./b",
            "..",
            "./.hidden",
        ] {
            w.dir(name, 0o755).unwrap();
        }
        let archive = w.finish();
        let names: Vec<&str> = read_all(&archive).unwrap().iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            ["", "", "bin", "etc", "usr", "a/./b", "..", ".hidden"]
        );
    }

    #[test]
    fn concatenated_archives_with_zero_padding() {
        let mut first = CpioWriter::new();
        first.file("one", 0o644, b"1").unwrap();
        let mut second = CpioWriter::new();
        second.file("two", 0o644, b"22").unwrap();
        let mut third = CpioWriter::new();
        third.file("three", 0o644, b"333").unwrap();

        let mut image = vec![0u8; 8]; // leading zeros are skipped too
        image.extend(first.finish());
        image.extend(second.finish());
        image.extend([0u8; 4 * 100]);
        image.extend(third.finish());
        image.extend([0u8; 3]); // trailing zeros need not be aligned
        let entries = read_all(&image).unwrap();
        let got: Vec<(&str, &[u8])> = entries.iter().map(|e| (e.name, e.data)).collect();
        assert_eq!(got, [("one", &b"1"[..]), ("two", b"22"), ("three", b"333")]);
    }

    #[test]
    fn archive_after_unaligned_padding_is_broken() {
        let mut image = CpioWriter::new().finish();
        image.push(0);
        let at = image.len();
        let mut w = CpioWriter::new();
        w.file("x", 0o644, b"").unwrap();
        image.extend(w.finish());
        let err = read_all(&image).unwrap_err();
        assert_eq!(
            err,
            CpioError {
                offset: at,
                reason: "broken padding"
            }
        );
    }

    #[test]
    fn crc_format_is_accepted() {
        let mut archive = sample_archive();
        // Every header of the writer's output starts with 070701: find them all.
        let mut at = 0;
        while let Some(pos) = archive[at..].windows(6).position(|w| w == MAGIC_NEWC) {
            archive[at + pos + 5] = b'2';
            at += pos + 6;
        }
        assert_eq!(read_all(&archive).unwrap().len(), 9);
    }

    #[test]
    fn lower_case_hex_is_accepted() {
        let mut w = CpioWriter::new();
        w.set_mtime(0xABCDEF);
        w.file("f", 0o644, b"").unwrap();
        let mut archive = w.finish();
        archive[6..HEADER_LEN].make_ascii_lowercase();
        assert_eq!(read_all(&archive).unwrap()[0].mtime, 0xABCDEF);
    }

    #[test]
    fn the_python_and_gzip_fixture() {
        assert!(is_gzip(FIXTURE_GZ));
        let archive = gunzip(FIXTURE_GZ, 1 << 20).unwrap();
        assert_eq!(archive.len(), 1536);
        let entries = read_all(&archive).unwrap();
        let summary: Vec<(&str, u32, &[u8])> =
            entries.iter().map(|e| (e.name, e.mode, e.data)).collect();
        assert_eq!(
            summary,
            [
                ("", 0o40755, &b""[..]),
                ("bin", 0o40755, b""),
                (
                    "bin/hello",
                    0o100755,
                    b"#!/bin/sh\necho hello from the initramfs\n"
                ),
                ("bin/sh", 0o120777, b"hello"),
                ("dev", 0o40755, b""),
                ("dev/console", 0o20600, b""),
                ("etc", 0o40755, b""),
                ("etc/motd", 0o100644, b"Welcome to Cradle.\n"),
                ("run.fifo", 0o10644, b""),
            ]
        );
        assert!(entries.iter().all(|e| e.mtime == 1_700_000_000));
        assert_eq!((entries[5].rdev_major, entries[5].rdev_minor), (5, 1));
        assert_eq!((entries[7].uid, entries[7].gid), (1000, 100));
        assert!(entries[8].is_fifo());
    }

    #[test]
    fn gunzip_limit_is_enforced() {
        let err = gunzip(FIXTURE_GZ, 1535).unwrap_err();
        assert_eq!(err.reason, "decompressed size over the limit");
        assert_eq!(gunzip(FIXTURE_GZ, 1536).unwrap().len(), 1536);
        assert!(gunzip(FIXTURE_GZ, 0).is_err());
    }

    /// Wraps raw deflate data in a gzip member with the given flags and optional fields.
    fn gzip_member(payload: &[u8], flags: u8, extra: &[u8], name: &str, comment: &str) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 2, 3];
        if flags & GZIP_FEXTRA != 0 {
            out.extend((extra.len() as u16).to_le_bytes());
            out.extend(extra);
        }
        if flags & GZIP_FNAME != 0 {
            out.extend(name.as_bytes());
            out.push(0);
        }
        if flags & GZIP_FCOMMENT != 0 {
            out.extend(comment.as_bytes());
            out.push(0);
        }
        if flags & GZIP_FHCRC != 0 {
            let crc = crc32(&out) as u16;
            out.extend(crc.to_le_bytes());
        }
        out.extend(miniz_oxide::deflate::compress_to_vec(payload, 6));
        out.extend(crc32(payload).to_le_bytes());
        out.extend((payload.len() as u32).to_le_bytes());
        out
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn gzip_optional_header_fields() {
        let payload = sample_archive();
        for flags in 0..32u8 {
            let flags = flags & !1; // FTEXT is meaningless; keep it covered by flags 1 below
            let member = gzip_member(
                &payload,
                flags,
                b"AB\x02\x00hi",
                "initramfs.cpio",
                "made by a test",
            );
            assert_eq!(
                gunzip(&member, 1 << 20).unwrap(),
                payload,
                "flags {flags:#x}"
            );
        }
        let ftext = gzip_member(b"text", 1, b"", "", "");
        assert_eq!(gunzip(&ftext, 100).unwrap(), b"text");
    }

    #[test]
    fn gzip_header_errors() {
        let good = gzip_member(b"payload", GZIP_FHCRC | GZIP_FNAME, b"", "n", "");
        let mut bad_method = good.clone();
        bad_method[2] = 7;
        assert_eq!(gunzip(&bad_method, 100).unwrap_err().offset, 2);
        let mut reserved = good.clone();
        reserved[3] |= 0x80;
        assert_eq!(
            gunzip(&reserved, 100).unwrap_err().reason,
            "reserved gzip flags set"
        );
        let mut bad_hcrc = good.clone();
        bad_hcrc[4] ^= 1; // MTIME is covered by the header CRC
        assert_eq!(
            gunzip(&bad_hcrc, 100).unwrap_err().reason,
            "gzip header CRC mismatch"
        );
        let mut bad_crc = good.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert_eq!(
            gunzip(&bad_crc, 100).unwrap_err().reason,
            "gzip CRC mismatch"
        );
        let mut bad_len = good.clone();
        bad_len[n - 1] ^= 1;
        assert_eq!(
            gunzip(&bad_len, 100).unwrap_err().reason,
            "gzip length mismatch"
        );
        assert_eq!(
            gunzip(b"", 100).unwrap_err().reason,
            "truncated gzip header"
        );
        assert_eq!(
            gunzip(b"070701", 100).unwrap_err().reason,
            "truncated gzip header"
        );
        assert_eq!(
            gunzip(&[b'x'; 20], 100).unwrap_err().reason,
            "not gzip data"
        );
        let mut garbage = good.clone();
        garbage.extend(b"junk");
        let err = gunzip(&garbage, 100).unwrap_err();
        assert_eq!(
            (err.offset, err.reason),
            (n, "trailing garbage after gzip data")
        );
    }

    #[test]
    fn gzip_members_concatenate_and_zero_padding_is_ignored() {
        let mut image = gzip_member(b"first ", 0, b"", "", "");
        image.extend([0u8; 5]);
        image.extend(gzip_member(b"second", GZIP_FNAME, b"", "b", ""));
        image.extend([0u8; 512]);
        assert_eq!(gunzip(&image, 100).unwrap(), b"first second");
        assert!(gunzip(&image, 11).is_err());
    }

    #[test]
    fn gzip_of_large_archive_round_trips() {
        let mut w = CpioWriter::new();
        let mut rng = Rng(0x1234_5678);
        let mut files = Vec::new();
        for i in 0..40 {
            let len = rng.below(20_000);
            let contents: Vec<u8> = (0..len).map(|j| (j % 251) as u8 ^ (i as u8)).collect();
            let name = alloc::format!("data/file{i}");
            w.file(&name, 0o644, &contents).unwrap();
            files.push((name, contents));
        }
        let archive = w.finish();
        let gz = gzip_member(&archive, GZIP_FNAME, b"", "big.cpio", "");
        assert!(gz.len() < archive.len() / 4);
        let unpacked = gunzip(&gz, archive.len()).unwrap();
        assert_eq!(unpacked, archive);
        let entries = read_all(&unpacked).unwrap();
        for (entry, (name, contents)) in entries.iter().zip(&files) {
            assert_eq!(
                (entry.name, entry.data),
                (name.as_str(), contents.as_slice())
            );
        }
    }

    /// A header with one field replaced by `value` (8 ASCII characters).
    fn with_field(archive: &[u8], field: usize, value: &[u8; 8]) -> Vec<u8> {
        let mut bytes = archive.to_vec();
        bytes[6 + 8 * field..14 + 8 * field].copy_from_slice(value);
        bytes
    }

    #[test]
    fn malformed_headers_give_errors_with_offsets() {
        let mut w = CpioWriter::new();
        w.file("first", 0o644, b"12345").unwrap(); // 110 + 6 -> 116, + 5 -> 124
        w.file("second", 0o644, b"x").unwrap();
        let archive = w.finish();
        let second = 124;
        assert_eq!(&archive[second..second + 6], MAGIC_NEWC);

        let mut bad_magic = archive.clone();
        bad_magic[second + 3] = b'9';
        let mut reader = CpioReader::new(&bad_magic);
        assert_eq!(reader.next().unwrap().unwrap().name, "first");
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(
            err,
            CpioError {
                offset: second,
                reason: "bad magic"
            }
        );
        assert_eq!(alloc::format!("{err}"), "cpio: bad magic at offset 0x7c");
        assert!(reader.next().is_none(), "nothing after an error");

        let mut odc = archive.clone();
        odc[5] = b'7';
        assert_eq!(
            read_all(&odc).unwrap_err().reason,
            "old (odc) cpio format, use -H newc"
        );

        let bad_digit = with_field(&archive, 1, b"000081G4");
        assert_eq!(
            read_all(&bad_digit).unwrap_err(),
            CpioError {
                offset: 6 + 8 + 6,
                reason: "bad hex digit in header"
            }
        );

        let huge_file = with_field(&archive, 6, b"FFFFFFFF");
        assert_eq!(
            read_all(&huge_file).unwrap_err(),
            CpioError {
                offset: 0,
                reason: "truncated data"
            }
        );

        let zero_name = with_field(&archive, 11, b"00000000");
        assert_eq!(read_all(&zero_name).unwrap_err().reason, "zero name size");

        let long_name = with_field(&archive, 11, b"00001001");
        assert_eq!(read_all(&long_name).unwrap_err().reason, "name too long");

        let unterminated = with_field(&archive, 11, b"00000005");
        assert_eq!(
            read_all(&unterminated).unwrap_err(),
            CpioError {
                offset: 114,
                reason: "name not NUL-terminated"
            }
        );

        let mut inner_nul = archive.clone();
        inner_nul[HEADER_LEN + 2] = 0;
        assert_eq!(read_all(&inner_nul).unwrap_err().reason, "NUL inside name");

        let mut not_utf8 = archive.clone();
        not_utf8[HEADER_LEN] = 0xff;
        assert_eq!(read_all(&not_utf8).unwrap_err().reason, "name is not UTF-8");

        let mut empty = with_field(&archive, 11, b"00000001");
        empty[HEADER_LEN] = 0;
        assert_eq!(read_all(&empty).unwrap_err().reason, "empty name");

        let truncated_header = &archive[..second + 50];
        let mut reader = CpioReader::new(truncated_header);
        assert!(reader.next().unwrap().is_ok());
        assert_eq!(
            reader.next().unwrap().unwrap_err(),
            CpioError {
                offset: second,
                reason: "truncated header"
            }
        );

        let no_trailer = &archive[..second];
        assert_eq!(
            read_all(no_trailer).unwrap_err(),
            CpioError {
                offset: second,
                reason: "archive ends without TRAILER!!!"
            }
        );

        let garbage = b"hello, world, this is not an archive";
        assert_eq!(
            read_all(garbage).unwrap_err(),
            CpioError {
                offset: 0,
                reason: "truncated header"
            }
        );
        let mut garbage = vec![b'#'; 200];
        garbage[..7].copy_from_slice(b"#!/bin/");
        assert_eq!(read_all(&garbage).unwrap_err().reason, "bad magic");
    }

    #[test]
    fn trailer_without_padding_at_end_of_input_is_fine() {
        let mut w = CpioWriter::new();
        w.file("a", 0o644, b"a").unwrap();
        let archive = w.finish();
        let end = 116 + 4 + HEADER_LEN + TRAILER.len() + 1;
        assert_eq!(read_all(&archive[..end]).unwrap().len(), 1);
    }

    fn exercise(data: &[u8]) -> (usize, Option<CpioError>) {
        let mut reader = CpioReader::new(data);
        let mut count = 0;
        let mut error = None;
        for item in &mut reader {
            match item {
                Ok(entry) => {
                    // Entries must point inside the input.
                    let range = data.as_ptr_range();
                    assert!(entry.data.is_empty() || range.contains(&entry.data.as_ptr()));
                    count += 1;
                }
                Err(err) => {
                    assert!(err.offset <= data.len(), "{err} beyond {}", data.len());
                    assert!(!alloc::format!("{err}").is_empty());
                    error = Some(err);
                }
            }
        }
        assert!(reader.next().is_none());
        assert!(reader.offset() <= data.len());
        (count, error)
    }

    #[test]
    fn fuzz_truncations_never_panic() {
        let archive = sample_archive();
        let full = read_all(&archive).unwrap().len();
        for len in 0..archive.len() {
            let (count, error) = exercise(&archive[..len]);
            assert!(count <= full);
            // Cutting the archive anywhere before its trailer must be noticed.
            if len < archive.len() - 512 && len > 0 && archive[..len].iter().any(|&b| b != 0) {
                assert!(
                    error.is_some() || count == full,
                    "cut at {len} went unnoticed"
                );
            }
        }
        let gz = gunzip(FIXTURE_GZ, 1 << 20).unwrap();
        for len in 0..gz.len() {
            exercise(&gz[..len]);
        }
        for len in 0..FIXTURE_GZ.len() {
            let result = gunzip(&FIXTURE_GZ[..len], 1 << 20);
            assert!(result.is_err(), "truncated gzip at {len} accepted");
        }
    }

    #[test]
    fn fuzz_byte_flips_never_panic() {
        let archive = sample_archive();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut bytes = archive.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = match rng.below(4) {
                    0 => rng.next() as u8,
                    1 => bytes[at] ^ (1 << rng.below(8)),
                    2 => b"0123456789abcdefF"[rng.below(17)],
                    _ => 0,
                };
            }
            exercise(&bytes);
        }
        for _ in 0..3_000 {
            let mut bytes = FIXTURE_GZ.to_vec();
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
            if let Ok(out) = gunzip(&bytes, 1 << 16) {
                exercise(&out);
            }
        }
    }

    #[test]
    fn fuzz_random_bytes_never_panic() {
        let mut rng = Rng(42);
        for _ in 0..2_000 {
            let len = rng.below(600);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if rng.below(2) == 0 && len >= 6 {
                bytes[..6].copy_from_slice(MAGIC_NEWC);
                for b in bytes.iter_mut().skip(6).take(104) {
                    *b = b"0123456789ABCDEF"[(*b & 0xf) as usize];
                }
            }
            exercise(&bytes);
            if rng.below(2) == 0 && len >= 2 {
                bytes[0] = 0x1f;
                bytes[1] = 0x8b;
            }
            let _ = gunzip(&bytes, 4096);
        }
    }

    #[test]
    fn display() {
        let err = CpioError {
            offset: 0x1a4,
            reason: "bad magic",
        };
        assert_eq!(alloc::format!("{err}"), "cpio: bad magic at offset 0x1a4");
        let _: String = alloc::format!("{err:?}");
    }
}
