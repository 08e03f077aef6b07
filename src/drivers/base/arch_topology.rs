//! Which CPUs share a core, a cluster and a package (Linux: `drivers/base/arch_topology.c`,
//! `parse_dt_topology`, `store_cpu_topology`, `update_siblings_masks`).
//!
//! From the device tree's `/cpus/cpu-map` when it has one (QEMU `virt` writes
//! `socket0/cluster0/coreN`): a `socketN` is package N, a `clusterN` below it cluster N,
//! and the `coreN` of a cluster are its cores 0, 1, … in order, each naming its CPU by
//! phandle (`cpu = <&cpuN>`; `threadN` below a core gives SMT threads, which no board
//! here has). A map that leaves a possible CPU out, or names one twice, is ignored as
//! Linux ignores it. Without a usable map (the Pis' trees have none) each CPU is its own
//! core — `core_id` its number — in package 0 with no cluster (`cluster_id` -1), as
//! Linux's `store_cpu_topology` fallback does.

use core::sync::atomic::{AtomicI32, Ordering};

use fdt::node::FdtNode;

use crate::kernel::smp::{cpu_possible_mask, CpuMask, NR_CPUS};

/// One CPU's place (Linux's `struct cpu_topology`, the ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTopology {
    /// `thread_id`: -1 without SMT.
    pub thread_id: i32,
    /// `core_id`.
    pub core_id: i32,
    /// `cluster_id`: -1 outside any cluster.
    pub cluster_id: i32,
    /// `package_id`.
    pub package_id: i32,
}

/// The ids per CPU, four atomics each so readers need no lock: `[thread, core, cluster,
/// package]`, all -1 until `init_cpu_topology` ran.
static TOPOLOGY: [[AtomicI32; 4]; NR_CPUS] = [const { [const { AtomicI32::new(-1) }; 4] }; NR_CPUS];

/// CPU `cpu`'s place.
pub fn cpu_topology(cpu: usize) -> CpuTopology {
    let ids = &TOPOLOGY[cpu.min(NR_CPUS - 1)];
    CpuTopology {
        thread_id: ids[0].load(Ordering::Relaxed),
        core_id: ids[1].load(Ordering::Relaxed),
        cluster_id: ids[2].load(Ordering::Relaxed),
        package_id: ids[3].load(Ordering::Relaxed),
    }
}

fn store(cpu: usize, t: CpuTopology) {
    let ids = &TOPOLOGY[cpu];
    ids[0].store(t.thread_id, Ordering::Relaxed);
    ids[1].store(t.core_id, Ordering::Relaxed);
    ids[2].store(t.cluster_id, Ordering::Relaxed);
    ids[3].store(t.package_id, Ordering::Relaxed);
}

/// The possible CPUs whose ids make `pred(theirs, cpu's)` true (the sibling masks).
fn siblings(cpu: usize, pred: impl Fn(&CpuTopology, &CpuTopology) -> bool) -> CpuMask {
    let own = cpu_topology(cpu);
    cpu_possible_mask()
        .iter()
        .filter(|&other| other == cpu || pred(&cpu_topology(other), &own))
        .fold(CpuMask::empty(), CpuMask::with)
}

/// CPUs in `cpu`'s package (`core_sibling`).
pub fn core_siblings(cpu: usize) -> CpuMask {
    siblings(cpu, |a, b| a.package_id == b.package_id)
}

/// CPUs in `cpu`'s cluster (`cluster_sibling`): only itself when it has no cluster.
pub fn cluster_siblings(cpu: usize) -> CpuMask {
    siblings(cpu, |a, b| {
        a.cluster_id != -1 && a.cluster_id == b.cluster_id && a.package_id == b.package_id
    })
}

/// Hardware threads of `cpu`'s core (`thread_sibling`): only itself without SMT.
pub fn thread_siblings(cpu: usize) -> CpuMask {
    siblings(cpu, |a, b| {
        a.core_id == b.core_id && a.cluster_id == b.cluster_id && a.package_id == b.package_id
    })
}

/// Fill in every possible CPU's place (Linux's `init_cpu_topology`, then
/// `store_cpu_topology` for each CPU): from `cpu-map` if it is usable, else the fallback.
pub fn init_cpu_topology(fdt: Option<&fdt::Fdt<'_>>) {
    let mut map = [None; NR_CPUS];
    let parsed = fdt.is_some_and(|fdt| parse_dt_topology(fdt, &mut map));
    for cpu in cpu_possible_mask().iter() {
        let place = match map[cpu] {
            Some(place) if parsed => place,
            _ => CpuTopology {
                thread_id: -1,
                core_id: cpu as i32,
                cluster_id: -1,
                package_id: 0,
            },
        };
        store(cpu, place);
    }
}

/// Read `/cpus/cpu-map` into `map`; false if it is missing or unusable.
fn parse_dt_topology(fdt: &fdt::Fdt<'_>, map: &mut [Option<CpuTopology>; NR_CPUS]) -> bool {
    let Some(cpu_map) = fdt.find_node("/cpus/cpu-map") else {
        return false;
    };
    let mut sockets = 0;
    while let Some(socket) = child(&cpu_map, "socket", sockets) {
        if !parse_cluster(fdt, &socket, sockets, -1, 0, map) {
            return false;
        }
        sockets += 1;
    }
    // A map without sockets is one package whose top-level children are clusters.
    if sockets == 0 && !parse_cluster(fdt, &cpu_map, 0, -1, 0, map) {
        return false;
    }
    // Every possible CPU must be placed (Linux: "some CPUs not described" → ignore map).
    cpu_possible_mask().iter().all(|cpu| map[cpu].is_some())
}

/// The child `<prefix><index>` of `node`.
fn child<'b, 'a>(node: &FdtNode<'b, 'a>, prefix: &str, index: i32) -> Option<FdtNode<'b, 'a>> {
    let name = alloc::format!("{prefix}{index}");
    node.children().find(|c| c.name == name)
}

/// A cluster (or, at depth 0, a socket): its child clusters, then its cores.
fn parse_cluster(
    fdt: &fdt::Fdt<'_>,
    node: &FdtNode<'_, '_>,
    package_id: i32,
    cluster_id: i32,
    depth: u32,
    map: &mut [Option<CpuTopology>; NR_CPUS],
) -> bool {
    let mut leaf = true;
    let mut i = 0;
    while let Some(cluster) = child(node, "cluster", i) {
        leaf = false;
        if depth > 4 || !parse_cluster(fdt, &cluster, package_id, i, depth + 1, map) {
            return false;
        }
        i += 1;
    }
    let mut core_id = 0;
    while let Some(core) = child(node, "core", core_id) {
        // Cores belong in a leaf cluster, never straight under a socket.
        if depth == 0 || !leaf {
            log::error!("{}: cpu-map cores outside a leaf cluster", node.name);
            return false;
        }
        if !parse_core(fdt, &core, package_id, cluster_id, core_id, map) {
            return false;
        }
        core_id += 1;
    }
    true
}

/// A core: its CPU, or its threads' CPUs.
fn parse_core(
    fdt: &fdt::Fdt<'_>,
    core: &FdtNode<'_, '_>,
    package_id: i32,
    cluster_id: i32,
    core_id: i32,
    map: &mut [Option<CpuTopology>; NR_CPUS],
) -> bool {
    let mut place = CpuTopology {
        thread_id: -1,
        core_id,
        cluster_id,
        package_id,
    };
    let mut thread_id = 0;
    while let Some(thread) = child(core, "thread", thread_id) {
        place.thread_id = thread_id;
        if !set_cpu(fdt, &thread, place, map) {
            return false;
        }
        thread_id += 1;
    }
    if thread_id > 0 {
        return core.property("cpu").is_none(); // a core with threads names no CPU itself
    }
    set_cpu(fdt, core, place, map)
}

/// Place the CPU that `node`'s `cpu` phandle names; a CPU not possible (e.g. beyond
/// `nr_cpus=`) is skipped, one named twice makes the map unusable.
fn set_cpu(
    fdt: &fdt::Fdt<'_>,
    node: &FdtNode<'_, '_>,
    place: CpuTopology,
    map: &mut [Option<CpuTopology>; NR_CPUS],
) -> bool {
    let Some(cpu_node) = crate::of::base::of_property_read_u32(*node, "cpu")
        .and_then(|phandle| fdt.find_phandle(phandle))
    else {
        log::error!("{}: cpu-map entry without a valid cpu phandle", node.name);
        return false;
    };
    let Some(cpu) = crate::arch::smp::of_node_to_cpu(cpu_node) else {
        return true;
    };
    if map[cpu].replace(place).is_some() {
        log::error!("cpu-map: CPU{cpu} listed twice");
        return false;
    }
    true
}
