//! The arm64 Image header (Linux's Documentation/arm64/booting.rst), read back and checked.
//!
//! ```text
//! u32 code0          executable code (a branch to primary_entry)
//! u32 code1
//! u64 text_offset    image load offset from a 2 MiB-aligned base, little-endian
//! u64 image_size     effective image size (BSS included), little-endian
//! u64 flags          bit 0: big-endian; bits 1-2: page size (1 = 4K); bit 3: anywhere
//! u64 res2, res3, res4
//! u32 magic          0x644d5241 ("ARM\x64")
//! u32 res5           PE header offset (0: no EFI stub)
//! ```

/// The header fields loaders look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHeader {
    /// The first instruction.
    pub code0: u32,
    /// Load offset from a 2 MiB-aligned base.
    pub text_offset: u64,
    /// Bytes the loader must leave room for.
    pub image_size: u64,
    /// Endianness, page size, placement.
    pub flags: u64,
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl ImageHeader {
    /// Parse the first 64 bytes of an Image.
    pub fn parse(image: &[u8]) -> Result<Self, String> {
        if image.len() < 64 {
            return Err(format!(
                "Image is {} bytes, shorter than its 64-byte header",
                image.len()
            ));
        }
        if &image[56..60] != b"ARM\x64" {
            return Err(format!(
                "Image magic at offset 56 is {:02x?}, not ARM\\x64",
                &image[56..60]
            ));
        }
        Ok(Self {
            code0: u32::from_le_bytes(image[0..4].try_into().expect("4 bytes")),
            text_offset: le64(image, 8),
            image_size: le64(image, 16),
            flags: le64(image, 24),
        })
    }

    /// Check what loaders rely on: a branch first, a 4K-page little-endian image, a size
    /// that covers the file, a sane text_offset.
    pub fn check(&self, file_len: u64) -> Result<(), String> {
        if self.code0 >> 26 != 0b000101 {
            return Err(format!(
                "code0 {:#010x} is not a branch instruction",
                self.code0
            ));
        }
        if self.flags & 1 != 0 {
            return Err("Image is flagged big-endian".into());
        }
        if (self.flags >> 1) & 3 != 1 {
            return Err(format!("Image flags {:#x} do not say 4K pages", self.flags));
        }
        if self.image_size == 0 || self.image_size < file_len {
            return Err(format!(
                "image_size {:#x} does not cover the {file_len:#x}-byte file",
                self.image_size
            ));
        }
        if !self.text_offset.is_multiple_of(4096) || self.text_offset >= 2 << 20 {
            return Err(format!(
                "text_offset {:#x} is not a page offset below 2 MiB",
                self.text_offset
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(code0: u32, text_offset: u64, size: u64, flags: u64) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[0..4].copy_from_slice(&code0.to_le_bytes());
        h[8..16].copy_from_slice(&text_offset.to_le_bytes());
        h[16..24].copy_from_slice(&size.to_le_bytes());
        h[24..32].copy_from_slice(&flags.to_le_bytes());
        h[56..60].copy_from_slice(b"ARM\x64");
        h
    }

    #[test]
    fn good_header_passes() {
        let h = ImageHeader::parse(&header(0x1400_0010, 0x80000, 0x10_0000, 0xa)).unwrap();
        assert_eq!(h.text_offset, 0x80000);
        h.check(0x8_0000).unwrap();
    }

    #[test]
    fn bad_headers_are_refused() {
        let mut no_magic = header(0x1400_0010, 0x80000, 0x10_0000, 0xa);
        no_magic[56] = b'X';
        assert!(ImageHeader::parse(&no_magic).is_err());
        assert!(ImageHeader::parse(&[0; 10]).is_err());
        let small = ImageHeader::parse(&header(0x1400_0010, 0x80000, 0x100, 0xa)).unwrap();
        assert!(
            small.check(0x1000).is_err(),
            "image_size smaller than the file"
        );
        let big_endian = ImageHeader::parse(&header(0x1400_0010, 0x80000, 0x10_0000, 0xb)).unwrap();
        assert!(big_endian.check(0x1000).is_err());
        let not_branch = ImageHeader::parse(&header(0xd503_201f, 0x80000, 0x10_0000, 0xa)).unwrap();
        assert!(not_branch.check(0x1000).is_err());
        let odd_offset = ImageHeader::parse(&header(0x1400_0010, 0x123, 0x10_0000, 0xa)).unwrap();
        assert!(odd_offset.check(0x1000).is_err());
    }
}
