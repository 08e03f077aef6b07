//! The Raspberry Pi: Debian's device trees and firmware, SD-card images, and flashing.
//!
//! - Device trees come from Debian's `linux-image-arm64` package (the mainline
//!   `broadcom/bcm2837-rpi-3-b.dtb` and `bcm2711-rpi-4-b.dtb`), the firmware
//!   (`bootcode.bin`, `start*.elf`, `fixup*.dat`) from `raspi-firmware` (component
//!   non-free-firmware). Both are downloaded once with `apt-get download` into
//!   `target/cradle/debs/` and unpacked with `dpkg-deb`.
//! - `cargo xtask sdcard --board rpi3|rpi4` writes `target/cradle/sdcard-<board>.img`: an MBR
//!   with one FAT32 partition (made with `mkfs.vfat` and `mcopy` on a plain file: no root,
//!   loop devices or mounts) holding the firmware, `config.txt`, `cmdline.txt`, the DTB,
//!   `kernel8.img` (the very Image QEMU boots) and the initramfs.
//! - `cargo xtask flash --board rpi4 --device /dev/sdX` writes it to a card, refusing what
//!   is not plainly a removable card, then reads it back.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::board::Board;
use crate::debian::{download, ensure_arm64_arch, linux_image_package, run, unpack};
use crate::env::{apt_install, out_dir, project_root};

const NON_FREE_FIRMWARE: &str = "/etc/apt/sources.list.d/cradle-bookworm-non-free-firmware.sources";

/// Debian's mainline Pi device tree `name` (e.g. `bcm2711-rpi-4-b.dtb`).
pub fn debian_dtb(name: &str) -> Result<PathBuf, String> {
    let dir = out_dir().join("dtbs");
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let how = "needs Debian's linux-image-arm64 device trees. As root on Debian:\n  \
               dpkg --add-architecture arm64 && apt-get update && apt-get download linux-image-arm64:arm64";
    ensure_arm64_arch().map_err(|e| format!("{e}\n{how}"))?;
    let pkg_name = linux_image_package().map_err(|e| format!("{e}\n{how}"))?;
    let deb = download(&format!("{pkg_name}:arm64"), &format!("{pkg_name}_"))?;
    let unpacked = out_dir().join("linux-image");
    unpack(&deb, &unpacked)?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let lib = unpacked.join("usr/lib");
    for entry in std::fs::read_dir(&lib)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let broadcom = entry.path().join("broadcom");
        for dtb in ["bcm2837-rpi-3-b.dtb", "bcm2711-rpi-4-b.dtb"] {
            if broadcom.join(dtb).exists() {
                std::fs::copy(broadcom.join(dtb), dir.join(dtb)).map_err(|e| e.to_string())?;
            }
        }
    }
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{pkg_name} has no broadcom/{name}"))
    }
}

/// Debian's Raspberry Pi firmware files (unpacked `raspi-firmware`).
fn firmware_dir() -> Result<PathBuf, String> {
    let dir = out_dir().join("raspi-firmware");
    let files = dir.join("usr/lib/raspi-firmware");
    if files.join("start.elf").exists() {
        return Ok(files);
    }
    let how = "needs Debian's raspi-firmware (component non-free-firmware). As root on Debian:\n  \
               add 'non-free-firmware' to the bookworm components, apt-get update, apt-get download raspi-firmware";
    if !Path::new(NON_FREE_FIRMWARE).exists() {
        let entry = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\
                     Components: non-free-firmware\n\
                     Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
        std::fs::write(NON_FREE_FIRMWARE, entry).map_err(|e| format!("{e}\n{how}"))?;
        run(Command::new("apt-get").args(["update", "-q"])).map_err(|e| format!("{e}\n{how}"))?;
    }
    let deb = download("raspi-firmware", "raspi-firmware_").map_err(|e| format!("{e}\n{how}"))?;
    unpack(&deb, &dir)?;
    if files.join("start.elf").exists() {
        Ok(files)
    } else {
        Err(format!(
            "raspi-firmware has no start.elf under {}",
            files.display()
        ))
    }
}

fn ensure_tools() -> Result<(), String> {
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("mkfs.vfat") || !have("mcopy") {
        apt_install(&["dosfstools", "mtools"])?;
    }
    Ok(())
}

/// The files of the boot partition: (name on the card, source).
fn boot_files(
    board: &Board,
    image: &Path,
    initramfs: &Path,
) -> Result<Vec<(String, PathBuf)>, String> {
    let board_dir = project_root().join("boards").join(&board.name);
    let mut files = Vec::new();
    let fw = firmware_dir()?;
    for name in board.firmware.split_whitespace() {
        files.push((name.to_string(), fw.join(name)));
    }
    let dtb_name = board
        .dtb
        .as_ref()
        .ok_or("the board names no DTB")?
        .display()
        .to_string();
    let dtb_name = dtb_name.trim_start_matches("debian:").to_string();
    files.push((dtb_name.clone(), debian_dtb(&dtb_name)?));
    files.push(("config.txt".into(), board_dir.join("config.txt")));
    files.push(("cmdline.txt".into(), board_dir.join("cmdline.txt")));
    files.push(("kernel8.img".into(), image.to_path_buf()));
    files.push(("initramfs.cpio".into(), initramfs.to_path_buf()));
    Ok(files)
}

/// Size of the FAT partition, and where it starts (1 MiB, as Raspberry Pi OS images do).
const PART_START: u64 = 1 << 20;
const PART_SIZE: u64 = 64 << 20;

/// An MBR with one FAT32 (LBA) partition, bootable.
fn mbr() -> [u8; 512] {
    let mut m = [0u8; 512];
    m[440..444].copy_from_slice(&0x4352_4144u32.to_le_bytes()); // disk signature "CRAD"
    let e = &mut m[446..462];
    e[0] = 0x80; // active
    e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]); // CHS: use LBA
    e[4] = 0x0c; // FAT32 with LBA
    e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    e[8..12].copy_from_slice(&((PART_START / 512) as u32).to_le_bytes());
    e[12..16].copy_from_slice(&((PART_SIZE / 512) as u32).to_le_bytes());
    m[510] = 0x55;
    m[511] = 0xaa;
    m
}

/// Write the SD-card image for `board`; returns its path.
pub fn make_sdcard(
    board_name: &str,
    image: &Path,
    rootfs: crate::rootfs::Rootfs,
) -> Result<PathBuf, String> {
    let board = Board::load(board_name)?;
    if board.firmware.is_empty() {
        return Err(format!(
            "board {board_name} has no SD card (no firmware listed)"
        ));
    }
    ensure_tools()?;
    let initramfs = rootfs.build(None)?;
    let files = boot_files(&board, image, &initramfs)?;
    let fat = out_dir().join(format!("sdcard-{board_name}.fat"));
    let _ = std::fs::remove_file(&fat);
    std::fs::File::create(&fat)
        .and_then(|f| f.set_len(PART_SIZE))
        .map_err(|e| e.to_string())?;
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-n", "CRADLE"])
        .arg(&fat))?;
    for (name, src) in &files {
        run(Command::new("mcopy")
            .arg("-i")
            .arg(&fat)
            .arg(src)
            .arg(format!("::{name}")))?;
    }
    let img = out_dir().join(format!("sdcard-{board_name}.img"));
    let mut out = std::fs::File::create(&img).map_err(|e| e.to_string())?;
    out.write_all(&mbr()).map_err(|e| e.to_string())?;
    out.seek(SeekFrom::Start(PART_START))
        .map_err(|e| e.to_string())?;
    let mut part = std::fs::File::open(&fat).map_err(|e| e.to_string())?;
    std::io::copy(&mut part, &mut out).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&fat);
    Ok(img)
}

/// Check an SD-card image: the partition table, every file present, and kernel8.img equal
/// to `image`. Used by the tests.
pub fn check_sdcard(img: &Path, board_name: &str, image: &Path) -> Result<(), String> {
    let board = Board::load(board_name)?;
    let mut f = std::fs::File::open(img).map_err(|e| e.to_string())?;
    let mut sector = [0u8; 512];
    f.read_exact(&mut sector).map_err(|e| e.to_string())?;
    if sector[510..512] != [0x55, 0xaa] || sector[446 + 4] != 0x0c {
        return Err("no MBR with a FAT32 (LBA) partition".into());
    }
    let start = u32::from_le_bytes(sector[454..458].try_into().unwrap_or([0; 4])) as u64 * 512;
    let spec = format!("{}@@{start}", img.display());
    let listing = run(Command::new("mdir").args(["-b", "-i", &spec, "::"]))?;
    let dtb = board
        .dtb
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut wanted: Vec<String> = board
        .firmware
        .split_whitespace()
        .map(String::from)
        .collect();
    wanted.extend(["config.txt", "cmdline.txt", "kernel8.img", "initramfs.cpio"].map(String::from));
    wanted.push(dtb.trim_start_matches("debian:").to_string());
    for name in &wanted {
        if !listing
            .lines()
            .any(|l| l.trim_start_matches("::/").eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "{name} missing from the boot partition:\n{listing}"
            ));
        }
    }
    let copy = out_dir().join("kernel8.check");
    run(Command::new("mcopy")
        .args(["-n", "-o", "-i", &spec, "::kernel8.img"])
        .arg(&copy))?;
    let same = std::fs::read(&copy).map_err(|e| e.to_string())?
        == std::fs::read(image).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&copy);
    if same {
        Ok(())
    } else {
        Err("kernel8.img differs from the Image".into())
    }
}

/// `cargo xtask sdcard --board rpi3|rpi4`.
pub fn cmd_sdcard(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask sdcard --board rpi3|rpi4 [--rootfs busybox|debian]";
    let (board, rootfs) = match args {
        [flag, board] if flag == "--board" => (board.clone(), crate::rootfs::Rootfs::Busybox),
        [flag, board, rflag, rootfs] if flag == "--board" && rflag == "--rootfs" => {
            (board.clone(), crate::rootfs::Rootfs::parse(rootfs)?)
        }
        _ => return Err(usage.into()),
    };
    let built = crate::build::build_kernel()?;
    let img = make_sdcard(&board, &built.image, rootfs)?;
    check_sdcard(&img, &board, &built.image)?;
    println!("SD card image: {}", img.display());
    println!("Flash it with: cargo xtask flash --board {board} --device /dev/sdX");
    Ok(())
}

/// Why a flash target is refused, if it is.
fn refuse_device(dev: &Path, force: bool) -> Result<(String, u64), String> {
    let name = dev
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("not a device path")?;
    let sys = Path::new("/sys/block").join(&name);
    if !sys.exists() {
        return Err(format!(
            "{} is not a whole disk (no {})",
            dev.display(),
            sys.display()
        ));
    }
    let read = |f: &str| {
        std::fs::read_to_string(sys.join(f))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    if read("removable") != "1" {
        return Err(format!(
            "{} is not a removable device: refusing",
            dev.display()
        ));
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let devstr = dev.display().to_string();
    if mounts.lines().any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|d| d.starts_with(&devstr))
    }) {
        return Err(format!(
            "{devstr} (or a partition of it) is mounted: unmount it first"
        ));
    }
    if mounts.lines().any(|l| {
        let mut f = l.split_whitespace();
        matches!((f.next(), f.next()), (Some(d), Some("/")) if d.starts_with(&devstr))
    }) {
        return Err(format!("{devstr} holds the root filesystem: refusing"));
    }
    let size = read("size").parse::<u64>().unwrap_or(0) * 512;
    if size > 128 << 30 && !force {
        return Err(format!(
            "{devstr} is {} GiB, more than 128 GiB: pass --force if you mean it",
            size >> 30
        ));
    }
    Ok((read("device/model"), size))
}

/// `cargo xtask flash --board B --device DEV [--yes] [--force]`.
pub fn cmd_flash(args: &[String]) -> Result<(), String> {
    let (mut board, mut device, mut yes, mut force) = (None, None, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--board" => board = it.next().cloned(),
            "--device" => device = it.next().cloned(),
            "--yes" => yes = true,
            "--force" => force = true,
            other => return Err(format!("unknown flash option {other}")),
        }
    }
    let (Some(board), Some(device)) = (board, device) else {
        return Err(
            "usage: cargo xtask flash --board rpi3|rpi4 --device /dev/sdX [--yes] [--force]".into(),
        );
    };
    let target = PathBuf::from(&device);
    let is_file = target
        .metadata()
        .map(|m| m.is_file())
        .unwrap_or(!device.starts_with("/dev/"));
    if !is_file {
        let (model, size) = refuse_device(&target, force)?;
        println!("{device}: {model}, {} MiB", size >> 20);
        if !yes {
            print!("Everything on {device} will be overwritten. Type yes to go on: ");
            std::io::stdout().flush().map_err(|e| e.to_string())?;
            let mut answer = String::new();
            std::io::stdin()
                .read_line(&mut answer)
                .map_err(|e| e.to_string())?;
            if answer.trim() != "yes" {
                return Err("not confirmed: nothing written".into());
            }
        }
    }
    let built = crate::build::build_kernel()?;
    let img = make_sdcard(&board, &built.image, crate::rootfs::Rootfs::Busybox)?;
    write_and_verify(&img, &target, true)?;
    println!("{device}: written and verified");
    Ok(())
}

/// Copy `img` to `target` with a progress bar, sync, read back and compare.
fn write_and_verify(img: &Path, target: &Path, progress: bool) -> Result<(), String> {
    let data = std::fs::read(img).map_err(|e| e.to_string())?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(target)
        .map_err(|e| format!("{}: {e}", target.display()))?;
    let chunk = 4 << 20;
    for (i, part) in data.chunks(chunk).enumerate() {
        out.write_all(part).map_err(|e| e.to_string())?;
        if progress {
            let done = ((i + 1) * chunk).min(data.len());
            let bar = done * 40 / data.len();
            eprint!(
                "\r[{}{}] {:3}%",
                "#".repeat(bar),
                " ".repeat(40 - bar),
                done * 100 / data.len()
            );
        }
    }
    if progress {
        eprintln!();
    }
    out.sync_all().map_err(|e| e.to_string())?;
    drop(out);
    let mut back = vec![0u8; data.len()];
    std::fs::File::open(target)
        .and_then(|mut f| f.read_exact(&mut back))
        .map_err(|e| e.to_string())?;
    if back == data {
        Ok(())
    } else {
        Err(format!(
            "{}: read-back differs from the image",
            target.display()
        ))
    }
}

/// The flash command's checks, for the tests: a regular file is accepted and verified; a
/// non-removable disk and a mounted path are refused.
pub fn flash_self_test(img: &Path) -> Result<(), String> {
    let target = out_dir().join("flash-target.img");
    let _ = std::fs::remove_file(&target);
    write_and_verify(img, &target, false)?;
    let _ = std::fs::remove_file(&target);
    // A device that is not removable (the first disk under /sys/block that is not).
    let fixed = std::fs::read_dir("/sys/block")
        .map_err(|e| e.to_string())?
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("removable")).is_ok_and(|r| r.trim() == "0")
        });
    if let Some(disk) = fixed {
        let dev = Path::new("/dev").join(disk.file_name());
        if refuse_device(&dev, true).is_ok() {
            return Err(format!(
                "{} is not removable, yet flash would write it",
                dev.display()
            ));
        }
    }
    if refuse_device(Path::new("/dev/not-a-disk"), true).is_ok() {
        return Err("a path that is no disk was accepted".into());
    }
    Ok(())
}
