//! `/sys/devices/system/cpu` (Linux: `drivers/base/cpu.c`, `drivers/base/topology.c`,
//! `drivers/base/arch_topology.c`, `arch/arm64/kernel/cpuinfo.c`).
//!
//! The masks as CPU lists (`%*pbl`): `possible`, `present`, `online`, and `offline` (the
//! possible CPUs not online, empty when all are), `kernel_max` (`NR_CPUS - 1`) and
//! `isolated` (always empty: no `isolcpus=`). One `cpuN/` per possible CPU, as Linux's
//! `topology_init` registers them, with:
//!
//! - `topology/`: the ids and sibling masks of `arch_topology` (Linux 6.1's attribute set
//!   for arm64).
//! - `regs/identification/midr_el1`, `revidr_el1`: what the CPU read when it came up.
//!
//! No `cpuN/online`: Cradle cannot take a CPU offline, and Linux too leaves the file out
//! for a CPU that cannot be hot-unplugged.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::drivers::base::arch_topology as topology;
use crate::fs::inode::Inode;
use crate::fs::sysfs::{Node, TreeBuilder};
use crate::kernel::sched::syscalls::nr_cpu_ids;
use crate::kernel::smp::{
    cpu_online_mask, cpu_possible_mask, cpu_present_mask, CpuMask, CpuMaskHex, CpuMaskList, NR_CPUS,
};

/// `mask` as a CPU list with a newline (Linux's `cpumap_print_to_pagebuf(true, …)`).
fn list(mask: CpuMask) -> String {
    format!("{}\n", CpuMaskList(mask, nr_cpu_ids()))
}

/// `mask` as hex with a newline (`cpumap_print_to_pagebuf(false, …)`).
fn hex(mask: CpuMask) -> String {
    format!("{}\n", CpuMaskHex(mask, nr_cpu_ids()))
}

/// The directory `/sys/devices/system/cpu`, built into `tree`.
pub fn cpu_subsys_dir(tree: &mut TreeBuilder) -> Arc<dyn Inode> {
    let mut entries: Vec<(String, Node)> = vec![
        ("isolated".into(), TreeBuilder::attr(|| String::from("\n"))),
        (
            "kernel_max".into(),
            TreeBuilder::attr(|| format!("{}\n", NR_CPUS - 1)),
        ),
        (
            "offline".into(),
            TreeBuilder::attr(|| {
                let offline =
                    CpuMask::from_bits(cpu_possible_mask().bits() & !cpu_online_mask().bits());
                list(offline)
            }),
        ),
        (
            "online".into(),
            TreeBuilder::attr(|| list(cpu_online_mask())),
        ),
        (
            "possible".into(),
            TreeBuilder::attr(|| list(cpu_possible_mask())),
        ),
        (
            "present".into(),
            TreeBuilder::attr(|| list(cpu_present_mask())),
        ),
    ];
    for cpu in cpu_possible_mask().iter() {
        let dir = cpu_dir(tree, cpu);
        entries.push((format!("cpu{cpu}"), Node::Dir(dir)));
    }
    tree.dir(entries)
}

/// `cpuN/`.
fn cpu_dir(tree: &mut TreeBuilder, cpu: usize) -> Arc<dyn Inode> {
    let topology = topology_dir(tree, cpu);
    let identification = tree.dir(vec![
        (
            "midr_el1".into(),
            TreeBuilder::attr(move || {
                format!("0x{:016x}\n", crate::arch::smp::cpu_midr(cpu).unwrap_or(0))
            }),
        ),
        (
            "revidr_el1".into(),
            TreeBuilder::attr(move || format!("0x{:016x}\n", crate::arch::smp::cpu_revidr(cpu))),
        ),
    ]);
    let regs = tree.dir(vec![("identification".into(), Node::Dir(identification))]);
    tree.dir(vec![
        ("regs".into(), Node::Dir(regs)),
        ("topology".into(), Node::Dir(topology)),
    ])
}

/// `cpuN/topology/` (Linux 6.1's attribute set for arm64, sorted as `ls` shows it).
fn topology_dir(tree: &mut TreeBuilder, cpu: usize) -> Arc<dyn Inode> {
    let mut entries: Vec<(String, Node)> = Vec::new();
    let mut masks = |name: &str, mask: fn(usize) -> CpuMask| {
        entries.push((name.into(), TreeBuilder::attr(move || hex(mask(cpu)))));
        entries.push((
            format!("{name}_list"),
            TreeBuilder::attr(move || list(mask(cpu))),
        ));
    };
    masks("cluster_cpus", topology::cluster_siblings);
    masks("core_cpus", topology::thread_siblings);
    masks("core_siblings", topology::core_siblings);
    masks("package_cpus", topology::core_siblings);
    masks("thread_siblings", topology::thread_siblings);
    let mut id = |name: &str, id: fn(&topology::CpuTopology) -> i32| {
        entries.push((
            name.into(),
            TreeBuilder::attr(move || format!("{}\n", id(&topology::cpu_topology(cpu)))),
        ));
    };
    id("cluster_id", |t| t.cluster_id);
    id("core_id", |t| t.core_id);
    id("physical_package_id", |t| t.package_id);
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    tree.dir(entries)
}
