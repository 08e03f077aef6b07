//! `/proc/cpuinfo` for arm64 (Linux: `arch/arm64/kernel/cpuinfo.c`, `c_show`).
//!
//! One block per CPU: BogoMIPS from the timer frequency as Linux computes it when the
//! arch timer is its delay loop (`loops_per_jiffy = rate / HZ`), the feature names of the
//! `AT_HWCAP` bits user space gets, and the fields of MIDR_EL1.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::kernel::errno::Errno;
use crate::kernel::time::HZ;

/// The names of the `AT_HWCAP` bits, bit 0 first (Linux's `hwcap_str`).
const HWCAP_STR: [&str; 32] = [
    "fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp",
    "asimdhp", "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4",
    "asimddp", "sha512", "sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb",
    "paca", "pacg",
];

/// The text of `/proc/cpuinfo` (Linux's `c_show`): a block for each online CPU, with the
/// MIDR_EL1 that CPU read when it came up.
pub fn proc_cpuinfo() -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    for cpu in crate::kernel::smp::cpu_online_mask().iter() {
        let midr =
            crate::arch::smp::cpu_midr(cpu).unwrap_or_else(crate::arch::cputype::read_cpuid_id);
        show_cpu(&mut s, cpu, midr);
    }
    Ok(s.into_bytes())
}

/// One CPU's block.
fn show_cpu(s: &mut String, cpu: usize, midr: u64) {
    let (_, freq) = crate::arch::arch_timer::counter_and_frequency();
    let loops_per_jiffy = freq / HZ;
    let hwcap = crate::arch::cpufeature::elf_hwcap();
    let _ = writeln!(s, "processor\t: {cpu}");
    let _ = writeln!(
        s,
        "BogoMIPS\t: {}.{:02}",
        loops_per_jiffy / (500_000 / HZ),
        (loops_per_jiffy / (5_000 / HZ)) % 100
    );
    s.push_str("Features\t:");
    for (bit, name) in HWCAP_STR.iter().enumerate() {
        if hwcap & (1 << bit) != 0 {
            s.push(' ');
            s.push_str(name);
        }
    }
    let _ = write!(
        s,
        "\nCPU implementer\t: 0x{:02x}\nCPU architecture: 8\nCPU variant\t: 0x{:x}\n\
         CPU part\t: 0x{:03x}\nCPU revision\t: {}\n\n",
        (midr >> 24) & 0xff,
        (midr >> 20) & 0xf,
        (midr >> 4) & 0xfff,
        midr & 0xf
    );
}
