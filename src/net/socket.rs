//! The socket system calls (Linux: `net/socket.c`), the socket-level options
//! (`net/core/sock.c`: `sk_setsockopt`, `sk_getsockopt`) and control messages
//! (`net/core/scm.c`: SCM_RIGHTS, SCM_CREDENTIALS).
//!
//! A socket is a file named `socket:[ino]` on an anonymous inode of type S_IFSOCK; the
//! only family is AF_UNIX ([`UnixSock`]), every other is EAFNOSUPPORT. The calls check
//! their arguments in Linux's order: for most the descriptor comes first (EBADF, then
//! ENOTSOCK), then the user memory (EFAULT, EINVAL for a bad address length), then the
//! protocol; `sendto`/`recvfrom` check the buffer before the descriptor and `connect` its
//! address before asking whether the file is a socket, as Linux does.
//!
//! Addresses cross as `struct sockaddr_un` bytes: `move_addr_to_kernel` takes at most
//! `sizeof(struct sockaddr_storage)` (128), `move_addr_to_user` writes what fits and
//! stores the full length. `struct msghdr` and `struct cmsghdr` are read and written
//! with the arm64 LP64 layout.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::fs::file::{fdget, flags, File};
use crate::fs::iov_iter::{Direction, IovIter};
use crate::kernel::errno::Errno;
use crate::kernel::signal::ERESTARTSYS;
use crate::kernel::task::current;
use crate::kernel::time::HZ;
use crate::net::unix::af_unix::{unix_sock_of, Scm, Ucred, UnixSock};

type SysResult = Result<u64, Errno>;

/// Unspecified family (dgram `connect` to dissolve an association).
pub const AF_UNSPEC: u16 = 0;
/// UNIX-domain sockets.
pub const AF_UNIX: u16 = 1;
/// One past the last family Linux knows (`AF_MAX`, `NPROTO`).
const NPROTO: i32 = 46;

/// Byte stream.
pub const SOCK_STREAM: u32 = 1;
/// Datagrams.
pub const SOCK_DGRAM: u32 = 2;
/// Raw: AF_UNIX makes it a datagram socket.
const SOCK_RAW: u32 = 3;
/// Sequenced packets.
pub const SOCK_SEQPACKET: u32 = 5;
/// One past the last type (`SOCK_PACKET` is 10).
const SOCK_MAX: u32 = 11;
/// The type bits of `socket`'s type argument.
const SOCK_TYPE_MASK: u32 = 0xf;
/// `socket`/`socketpair`/`accept4` flag: O_NONBLOCK.
const SOCK_NONBLOCK: u32 = flags::O_NONBLOCK;
/// `socket`/`socketpair`/`accept4` flag: O_CLOEXEC.
const SOCK_CLOEXEC: u32 = flags::O_CLOEXEC;

/// `sizeof(struct sockaddr_storage)`.
const SOCKADDR_STORAGE_SIZE: usize = 128;
/// Linux's `net.core.somaxconn`.
const SOMAXCONN: u32 = 4096;
/// `net.core.wmem_default`, `wmem_max`, `rmem_default`, `rmem_max`.
const SYSCTL_WMEM_MAX: usize = 212992;
const SYSCTL_RMEM_MAX: usize = 212992;
/// The smallest buffers (Linux's `SOCK_MIN_SNDBUF` and `SOCK_MIN_RCVBUF` on arm64).
const SOCK_MIN_SNDBUF: usize = 4608;
const SOCK_MIN_RCVBUF: usize = 2304;
/// The most control data one sendmsg takes (Linux's `net.core.optmem_max` before 6.9).
const OPTMEM_MAX: usize = 20480;
/// The most descriptors one SCM_RIGHTS message carries (Linux's `SCM_MAX_FD`).
const SCM_MAX_FD: usize = 253;
/// The most messages one sendmmsg/recvmmsg handles.
const UIO_MAXIOV: usize = 1024;

/// Network administration (Linux's `CAP_NET_ADMIN`, capability 12).
const CAP_NET_ADMIN: u32 = 12;

/// A wait with no time limit (Linux's `MAX_SCHEDULE_TIMEOUT`).
pub const MAX_SCHEDULE_TIMEOUT: u64 = u64::MAX;

/// `send`/`recv` flags (Linux's `include/linux/socket.h`).
pub mod msg {
    /// Out-of-band data.
    pub const MSG_OOB: u32 = 0x1;
    /// Look without taking.
    pub const MSG_PEEK: u32 = 0x2;
    /// Control data was cut short.
    pub const MSG_CTRUNC: u32 = 0x8;
    /// A datagram was cut short (or: return its full length).
    pub const MSG_TRUNC: u32 = 0x20;
    /// Do not block.
    pub const MSG_DONTWAIT: u32 = 0x40;
    /// End of record.
    pub const MSG_EOR: u32 = 0x80;
    /// Wait for the whole request.
    pub const MSG_WAITALL: u32 = 0x100;
    /// No SIGPIPE.
    pub const MSG_NOSIGNAL: u32 = 0x4000;
    /// recvmmsg: block for the first message only.
    pub const MSG_WAITFORONE: u32 = 0x10000;
    /// Received descriptors are close-on-exec.
    pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
    /// 32-bit control messages (never from arm64 programs).
    pub const MSG_CMSG_COMPAT: u32 = 0x8000_0000;
}

/// `SOL_SOCKET` and its options (asm-generic `socket.h`).
mod so {
    pub const SOL_SOCKET: i32 = 1;
    pub const SO_DEBUG: i32 = 1;
    pub const SO_REUSEADDR: i32 = 2;
    pub const SO_TYPE: i32 = 3;
    pub const SO_ERROR: i32 = 4;
    pub const SO_DONTROUTE: i32 = 5;
    pub const SO_BROADCAST: i32 = 6;
    pub const SO_SNDBUF: i32 = 7;
    pub const SO_RCVBUF: i32 = 8;
    pub const SO_KEEPALIVE: i32 = 9;
    pub const SO_OOBINLINE: i32 = 10;
    pub const SO_NO_CHECK: i32 = 11;
    pub const SO_PRIORITY: i32 = 12;
    pub const SO_LINGER: i32 = 13;
    pub const SO_BSDCOMPAT: i32 = 14;
    pub const SO_REUSEPORT: i32 = 15;
    pub const SO_PASSCRED: i32 = 16;
    pub const SO_PEERCRED: i32 = 17;
    pub const SO_RCVLOWAT: i32 = 18;
    pub const SO_SNDLOWAT: i32 = 19;
    pub const SO_RCVTIMEO_OLD: i32 = 20;
    pub const SO_SNDTIMEO_OLD: i32 = 21;
    pub const SO_ACCEPTCONN: i32 = 30;
    pub const SO_SNDBUFFORCE: i32 = 32;
    pub const SO_RCVBUFFORCE: i32 = 33;
    pub const SO_PROTOCOL: i32 = 38;
    pub const SO_DOMAIN: i32 = 39;
    pub const SO_PEEK_OFF: i32 = 42;
    pub const SCM_RIGHTS: i32 = 1;
    pub const SCM_CREDENTIALS: i32 = 2;
}

/// The socket-level options a socket keeps (Linux's fields of `struct sock`).
#[derive(Clone, Debug)]
pub struct SockOpts {
    /// SO_SNDBUF (as stored: twice what was asked).
    pub sndbuf: usize,
    /// SO_RCVBUF.
    pub rcvbuf: usize,
    /// SO_RCVTIMEO in jiffies ([`MAX_SCHEDULE_TIMEOUT`]: none).
    pub rcvtimeo_j: u64,
    /// SO_SNDTIMEO in jiffies.
    pub sndtimeo_j: u64,
    /// SO_PASSCRED.
    pub passcred: bool,
    /// SO_DEBUG, SO_REUSEADDR… that are only kept and read back: a bit per option number.
    pub bools: u64,
    /// SO_PRIORITY.
    pub priority: i32,
    /// SO_RCVLOWAT.
    pub rcvlowat: i32,
    /// SO_LINGER: on, seconds.
    pub linger: (i32, i32),
}

impl Default for SockOpts {
    fn default() -> Self {
        Self {
            sndbuf: SYSCTL_WMEM_MAX,
            rcvbuf: SYSCTL_RMEM_MAX,
            rcvtimeo_j: MAX_SCHEDULE_TIMEOUT,
            sndtimeo_j: MAX_SCHEDULE_TIMEOUT,
            passcred: false,
            bools: 0,
            priority: 0,
            rcvlowat: 1,
            linger: (0, 0),
        }
    }
}

impl SockOpts {
    /// How long a receive may wait (Linux's `sock_rcvtimeo`): 0 when non-blocking.
    pub fn rcvtimeo(&self, nonblock: bool) -> u64 {
        if nonblock {
            0
        } else {
            self.rcvtimeo_j
        }
    }

    /// How long a send may wait (Linux's `sock_sndtimeo`).
    pub fn sndtimeo(&self, nonblock: bool) -> u64 {
        if nonblock {
            0
        } else {
            self.sndtimeo_j
        }
    }
}

/// The errno of a socket wait a signal ended (Linux's `sock_intr_errno`): a restart when
/// there was no time limit, EINTR when there was one.
pub fn sock_intr_errno(timeo: u64) -> Errno {
    if timeo == MAX_SCHEDULE_TIMEOUT {
        ERESTARTSYS
    } else {
        Errno::EINTR
    }
}

/// Sleep on `wq` until `cond` holds, a signal comes ([`sock_intr_errno`]) or `timeo`
/// jiffies pass (then `*timeo` is 0 and the result Ok: the caller looks again and
/// answers EAGAIN). `*timeo` is what is left.
pub fn sock_wait(
    wq: &crate::kernel::sched::wait::WaitQueueHead,
    timeo: &mut u64,
    cond: impl FnMut() -> bool,
) -> Result<(), Errno> {
    if *timeo == MAX_SCHEDULE_TIMEOUT {
        return wq
            .wait_event_interruptible(cond)
            .map_err(|_| sock_intr_errno(MAX_SCHEDULE_TIMEOUT));
    }
    match wq.wait_event_interruptible_timeout(cond, *timeo) {
        Ok(left) => {
            // 0: the time ran out; else what was left when the condition came true.
            *timeo = if left == 0 { 0 } else { left };
            Ok(())
        }
        Err(_) => Err(Errno::EINTR),
    }
}

// ---- files ----

/// A new file for `sock` (Linux's `sock_alloc_file`), non-blocking with SOCK_NONBLOCK.
fn sock_alloc_file(sock: Arc<UnixSock>, sflags: u32) -> Arc<File> {
    File::anonymous_named(sock, flags::O_RDWR | (sflags & SOCK_NONBLOCK), "socket:")
}

/// Install `file` at the lowest free descriptor.
fn install(file: Arc<File>, cloexec: bool) -> Result<usize, Errno> {
    let files = current().files()?;
    let fd = files.lock().alloc_fd(0, file, cloexec)?;
    Ok(fd)
}

/// The socket behind `fd` (Linux's `sockfd_lookup_light`): EBADF, then ENOTSOCK.
fn sockfd_lookup(fd: i32) -> Result<(Arc<File>, Arc<UnixSock>), Errno> {
    let file = fdget(fd)?;
    let sock = unix_sock_of(&file).ok_or(Errno::ENOTSOCK)?;
    Ok((file, sock))
}

/// True if the file does not block: O_NONBLOCK, or MSG_DONTWAIT in `mflags`.
fn nonblocking(file: &File, mflags: u32) -> bool {
    file.flags() & flags::O_NONBLOCK != 0 || mflags & msg::MSG_DONTWAIT != 0
}

/// A socket address from user memory (Linux's `move_addr_to_kernel`).
fn move_addr_to_kernel(uaddr: u64, len: i32) -> Result<Vec<u8>, Errno> {
    if len < 0 || len as usize > SOCKADDR_STORAGE_SIZE {
        return Err(Errno::EINVAL);
    }
    let mut buf = vec![0u8; len as usize];
    if len > 0 {
        copy_from_user(&mut buf, uaddr)?;
    }
    Ok(buf)
}

fn read_i32(ptr: u64) -> Result<i32, Errno> {
    let mut b = [0u8; 4];
    copy_from_user(&mut b, ptr)?;
    Ok(i32::from_le_bytes(b))
}

/// Give a socket address to user memory (Linux's `move_addr_to_user`): what fits of it
/// at `uaddr`, its full length at `ulen`.
fn move_addr_to_user(kaddr: &[u8], uaddr: u64, ulen: u64) -> Result<(), Errno> {
    let len = read_i32(ulen)?;
    let len = len.min(kaddr.len() as i32);
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    if len > 0 {
        copy_to_user(uaddr, &kaddr[..len as usize])?;
    }
    copy_to_user(ulen, &(kaddr.len() as i32).to_le_bytes())
}

// ---- creating ----

/// Split `socket`'s type into the type and its flags (EINVAL for unknown flags).
fn sock_type_flags(type_: i32) -> Result<(u32, u32), Errno> {
    let t = type_ as u32;
    let sflags = t & !SOCK_TYPE_MASK;
    if sflags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((t & SOCK_TYPE_MASK, sflags))
}

/// A new socket (Linux's `__sock_create` and `unix_create`).
fn sock_create(family: i32, sock_type: u32, protocol: i32) -> Result<Arc<UnixSock>, Errno> {
    if !(0..NPROTO).contains(&family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    if sock_type >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    if family != AF_UNIX as i32 {
        return Err(Errno::EAFNOSUPPORT);
    }
    if protocol != 0 && protocol != AF_UNIX as i32 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let sock_type = match sock_type {
        SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET => sock_type,
        SOCK_RAW => SOCK_DGRAM,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    Ok(UnixSock::new(sock_type))
}

/// `socket(2)`.
pub fn sys_socket(family: i32, type_: i32, protocol: i32) -> SysResult {
    let (sock_type, sflags) = sock_type_flags(type_)?;
    let sock = sock_create(family, sock_type, protocol)?;
    let fd = install(sock_alloc_file(sock, sflags), sflags & SOCK_CLOEXEC != 0)?;
    Ok(fd as u64)
}

/// `socketpair(2)`: the descriptors are found and stored (EFAULT) before the sockets are
/// made, as Linux does.
pub fn sys_socketpair(family: i32, type_: i32, protocol: i32, usv: u64) -> SysResult {
    let (sock_type, sflags) = sock_type_flags(type_)?;
    let cloexec = sflags & SOCK_CLOEXEC != 0;
    let files = current().files()?;
    // Reserve two descriptors with placeholders, as `get_unused_fd_flags` does.
    let (fd1, fd2) = {
        let placeholder = sock_alloc_file(UnixSock::new(SOCK_DGRAM), 0);
        let mut table = files.lock();
        let fd1 = table.alloc_fd(0, placeholder.clone(), cloexec)?;
        match table.alloc_fd(0, placeholder, cloexec) {
            Ok(fd2) => (fd1, fd2),
            Err(e) => {
                let p = table.close(fd1);
                drop(table);
                drop(p);
                return Err(e);
            }
        }
    };
    let unreserve =
        |files: &Arc<crate::kernel::locking::SpinLock<crate::fs::file::FilesStruct>>| {
            let (a, b) = {
                let mut table = files.lock();
                (table.close(fd1), table.close(fd2))
            };
            drop((a, b));
        };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(fd1 as i32).to_le_bytes());
    out[4..].copy_from_slice(&(fd2 as i32).to_le_bytes());
    if let Err(e) = copy_to_user(usv, &out) {
        unreserve(&files);
        return Err(e);
    }
    let made = sock_create(family, sock_type, protocol)
        .and_then(|a| sock_create(family, sock_type, protocol).map(|b| (a, b)));
    let (a, b) = match made {
        Ok(pair) => pair,
        Err(e) => {
            unreserve(&files);
            return Err(e);
        }
    };
    UnixSock::socketpair(&a, &b);
    let (old1, old2) = {
        let mut table = files.lock();
        (
            table.install(fd1, sock_alloc_file(a, sflags), cloexec),
            table.install(fd2, sock_alloc_file(b, sflags), cloexec),
        )
    };
    drop((old1, old2));
    Ok(0)
}

// ---- names and connections ----

/// `bind(2)`.
pub fn sys_bind(fd: i32, uaddr: u64, addrlen: i32) -> SysResult {
    let (_file, sock) = sockfd_lookup(fd)?;
    let addr = move_addr_to_kernel(uaddr, addrlen)?;
    sock.bind(&addr)?;
    Ok(0)
}

/// `listen(2)`: a backlog past `somaxconn` (or negative) is cut to it.
pub fn sys_listen(fd: i32, backlog: i32) -> SysResult {
    let (_file, sock) = sockfd_lookup(fd)?;
    let backlog = (backlog as u32).min(SOMAXCONN) as usize;
    sock.listen(backlog)?;
    Ok(0)
}

/// `connect(2)`: the address is read before the file is asked whether it is a socket.
pub fn sys_connect(fd: i32, uaddr: u64, addrlen: i32) -> SysResult {
    let file = fdget(fd)?;
    let addr = move_addr_to_kernel(uaddr, addrlen)?;
    let sock = unix_sock_of(&file).ok_or(Errno::ENOTSOCK)?;
    let nonblock = file.flags() & flags::O_NONBLOCK != 0;
    if sock.sock_type() == SOCK_DGRAM {
        sock.dgram_connect(&addr)?;
    } else {
        sock.stream_connect(&addr, nonblock)?;
    }
    Ok(0)
}

/// `accept4(2)` (and `accept`, with no flags).
pub fn sys_accept4(fd: i32, uaddr: u64, ulen: u64, aflags: i32) -> SysResult {
    let aflags = aflags as u32;
    if aflags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = sockfd_lookup(fd)?;
    let nonblock = file.flags() & flags::O_NONBLOCK != 0;
    let newsock = sock.accept(nonblock)?;
    let name = if uaddr != 0 {
        Some(newsock.getname(true).map_err(|_| Errno::ECONNABORTED)?)
    } else {
        None
    };
    let newfile = sock_alloc_file(newsock, aflags);
    if let Some(name) = name {
        // The connection is lost if the address cannot be stored (Linux's `out_fd`).
        move_addr_to_user(&name, uaddr, ulen)?;
    }
    let fd = install(newfile, aflags & SOCK_CLOEXEC != 0)?;
    Ok(fd as u64)
}

/// `getsockname(2)`.
pub fn sys_getsockname(fd: i32, uaddr: u64, ulen: u64) -> SysResult {
    let (_file, sock) = sockfd_lookup(fd)?;
    let name = sock.getname(false)?;
    move_addr_to_user(&name, uaddr, ulen)?;
    Ok(0)
}

/// `getpeername(2)`.
pub fn sys_getpeername(fd: i32, uaddr: u64, ulen: u64) -> SysResult {
    let (_file, sock) = sockfd_lookup(fd)?;
    let name = sock.getname(true)?;
    move_addr_to_user(&name, uaddr, ulen)?;
    Ok(0)
}

/// `shutdown(2)`.
pub fn sys_shutdown(fd: i32, how: i32) -> SysResult {
    let (_file, sock) = sockfd_lookup(fd)?;
    sock.shutdown(how)?;
    Ok(0)
}

// ---- data ----

/// `sendto(2)` (and `send`): the buffer is checked before the descriptor.
pub fn sys_sendto(
    fd: i32,
    buf: u64,
    len: usize,
    mflags: u32,
    uaddr: u64,
    addrlen: i32,
) -> SysResult {
    let mut from = IovIter::ubuf(Direction::Source, buf, len)?;
    let (file, sock) = sockfd_lookup(fd)?;
    let addr = if uaddr != 0 {
        Some(move_addr_to_kernel(uaddr, addrlen)?)
    } else {
        None
    };
    // A zero-length address is no address (Linux's `msg_namelen` 0).
    let addr = addr.filter(|a| !a.is_empty());
    let n = sock.sendmsg(
        &mut from,
        addr.as_deref(),
        mflags,
        nonblocking(&file, mflags),
        Scm::default(),
    )?;
    Ok(n as u64)
}

/// `recvfrom(2)` (and `recv`): the buffer is checked before the descriptor.
pub fn sys_recvfrom(
    fd: i32,
    buf: u64,
    len: usize,
    mflags: u32,
    uaddr: u64,
    ulen: u64,
) -> SysResult {
    let mut to = IovIter::ubuf(Direction::Dest, buf, len)?;
    let (file, sock) = sockfd_lookup(fd)?;
    let (n, meta) = sock.recvmsg(&mut to, mflags, nonblocking(&file, mflags))?;
    // Descriptors received without a control buffer are closed (Linux's `scm_recv`).
    drop(meta.fds);
    if uaddr != 0 {
        let name = meta.addr.as_deref().unwrap_or(&[]);
        move_addr_to_user(name, uaddr, ulen)?;
    }
    Ok(n as u64)
}

/// The fields of a `struct msghdr` (arm64 LP64 layout, 56 bytes).
struct UserMsghdr {
    name: u64,
    namelen: i32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

const MSGHDR_SIZE: usize = 56;
const MSGHDR_CONTROLLEN: u64 = 40;
const MSGHDR_FLAGS: u64 = 48;
const MSGHDR_NAMELEN: u64 = 8;
const CMSGHDR_SIZE: usize = 16;

fn cmsg_align(len: usize) -> usize {
    (len + 7) & !7
}

impl UserMsghdr {
    /// Read a `struct msghdr` (Linux's `__copy_msghdr`): EINVAL for a negative name
    /// length, EMSGSIZE for more than UIO_MAXIOV buffers.
    fn read(ptr: u64) -> Result<Self, Errno> {
        let mut b = [0u8; MSGHDR_SIZE];
        copy_from_user(&mut b, ptr)?;
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        let mut m = UserMsghdr {
            name: u64_at(0),
            namelen: i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4])),
            iov: u64_at(16),
            iovlen: u64_at(24),
            control: u64_at(32),
            controllen: u64_at(40),
        };
        if m.name == 0 {
            m.namelen = 0;
        }
        if m.namelen < 0 {
            return Err(Errno::EINVAL);
        }
        m.namelen = m.namelen.min(SOCKADDR_STORAGE_SIZE as i32);
        if m.iovlen > UIO_MAXIOV as u64 {
            return Err(Errno::EMSGSIZE);
        }
        Ok(m)
    }
}

/// Parse the control messages of a send (Linux's `__scm_send`): SCM_RIGHTS takes the
/// descriptors (EBADF for one that is not open, EINVAL past SCM_MAX_FD), SCM_CREDENTIALS
/// the credentials the caller may claim (EPERM otherwise); other SOL_SOCKET types and
/// malformed headers are EINVAL, other levels are skipped.
fn scm_send(ctl: &[u8]) -> Result<Scm, Errno> {
    let mut scm = Scm::default();
    let mut off = 0usize;
    while ctl.len() >= off + CMSGHDR_SIZE {
        let h = &ctl[off..off + CMSGHDR_SIZE];
        let cmsg_len = u64::from_le_bytes(h[..8].try_into().unwrap_or([0; 8]));
        let level = i32::from_le_bytes(h[8..12].try_into().unwrap_or([0; 4]));
        let ctype = i32::from_le_bytes(h[12..16].try_into().unwrap_or([0; 4]));
        if cmsg_len < CMSGHDR_SIZE as u64 || cmsg_len > (ctl.len() - off) as u64 {
            return Err(Errno::EINVAL);
        }
        let cmsg_len = cmsg_len as usize;
        let data = &ctl[off + CMSGHDR_SIZE..off + cmsg_len];
        if level == so::SOL_SOCKET {
            match ctype {
                so::SCM_RIGHTS => {
                    let num = data.len() / 4;
                    if num > SCM_MAX_FD || scm.fds.len() + num > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    for chunk in data.chunks_exact(4) {
                        let fd = i32::from_le_bytes(chunk.try_into().unwrap_or([0; 4]));
                        scm.fds.push(fdget(fd)?);
                    }
                }
                so::SCM_CREDENTIALS => {
                    if cmsg_len != CMSGHDR_SIZE + 12 {
                        return Err(Errno::EINVAL);
                    }
                    let cred = Ucred {
                        pid: i32::from_le_bytes(data[..4].try_into().unwrap_or([0; 4])),
                        uid: u32::from_le_bytes(data[4..8].try_into().unwrap_or([0; 4])),
                        gid: u32::from_le_bytes(data[8..12].try_into().unwrap_or([0; 4])),
                    };
                    scm_check_creds(&cred)?;
                    scm.cred = Some(cred);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        off += cmsg_align(cmsg_len);
    }
    Ok(scm)
}

/// May the caller claim `cred` (Linux's `scm_check_creds`)?
fn scm_check_creds(cred: &Ucred) -> Result<(), Errno> {
    use crate::kernel::capability::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};
    if cred.uid == u32::MAX || cred.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let me = crate::kernel::sys::getpid();
    let ok = crate::kernel::cred::with_current_cred(|c| {
        (cred.pid == me || c.has_cap(CAP_SYS_ADMIN))
            && ([c.uid, c.euid, c.suid].contains(&cred.uid) || c.has_cap(CAP_SETUID))
            && ([c.gid, c.egid, c.sgid].contains(&cred.gid) || c.has_cap(CAP_SETGID))
    });
    if ok {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// One `sendmsg` on `sock` (Linux's `____sys_sendmsg`); the bytes sent.
fn do_sendmsg(file: &File, sock: &UnixSock, umsg: u64, mflags: u32) -> Result<usize, Errno> {
    let m = UserMsghdr::read(umsg)?;
    let addr = if m.namelen > 0 {
        Some(move_addr_to_kernel(m.name, m.namelen)?)
    } else {
        None
    };
    let mut from = IovIter::import_iovec(Direction::Source, m.iov, m.iovlen as usize)?;
    if m.controllen > i32::MAX as u64 {
        return Err(Errno::ENOBUFS);
    }
    let scm = if m.controllen > 0 {
        if m.controllen as usize > OPTMEM_MAX {
            return Err(Errno::ENOBUFS);
        }
        let mut ctl = vec![0u8; m.controllen as usize];
        copy_from_user(&mut ctl, m.control)?;
        scm_send(&ctl)?
    } else {
        Scm::default()
    };
    sock.sendmsg(
        &mut from,
        addr.as_deref(),
        mflags,
        nonblocking(file, mflags),
        scm,
    )
}

/// `sendmsg(2)`.
pub fn sys_sendmsg(fd: i32, umsg: u64, mflags: u32) -> SysResult {
    if mflags & msg::MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = sockfd_lookup(fd)?;
    Ok(do_sendmsg(&file, &sock, umsg, mflags)? as u64)
}

/// Where received control messages go: the caller's buffer and what is left of it.
struct CmsgOut {
    control: u64,
    left: u64,
    msg_flags: u32,
}

impl CmsgOut {
    /// Write one control message (Linux's `put_cmsg`): cut short (MSG_CTRUNC) to the
    /// room left; a fault is ignored, as Linux's callers do.
    fn put(&mut self, level: i32, ctype: i32, data: &[u8]) {
        if self.control == 0 || self.left < CMSGHDR_SIZE as u64 {
            self.msg_flags |= msg::MSG_CTRUNC;
            return;
        }
        let mut cmlen = (CMSGHDR_SIZE + data.len()) as u64;
        if self.left < cmlen {
            self.msg_flags |= msg::MSG_CTRUNC;
            cmlen = self.left;
        }
        let mut h = [0u8; CMSGHDR_SIZE];
        h[..8].copy_from_slice(&cmlen.to_le_bytes());
        h[8..12].copy_from_slice(&level.to_le_bytes());
        h[12..16].copy_from_slice(&ctype.to_le_bytes());
        if copy_to_user(self.control, &h).is_err() {
            return;
        }
        let n = cmlen as usize - CMSGHDR_SIZE;
        if copy_to_user(self.control + CMSGHDR_SIZE as u64, &data[..n]).is_err() {
            return;
        }
        let space = (cmsg_align(CMSGHDR_SIZE + data.len()) as u64).min(self.left);
        self.control += space;
        self.left -= space;
    }

    /// Install received descriptors and describe them (Linux's `scm_detach_fds`): as many
    /// as fit, the rest closed with MSG_CTRUNC.
    fn detach_fds(&mut self, fds: Vec<Arc<File>>, cloexec: bool) {
        let max = if self.left <= CMSGHDR_SIZE as u64 {
            0
        } else {
            ((self.left - CMSGHDR_SIZE as u64) / 4) as usize
        };
        let fdmax = max.min(fds.len());
        let count = fds.len();
        let mut installed = 0usize;
        let data = self.control + CMSGHDR_SIZE as u64;
        for file in fds.into_iter().take(fdmax) {
            let Ok(files) = current().files() else { break };
            let Ok(fd) = files.lock().alloc_fd(0, file, cloexec) else {
                break;
            };
            let slot = data + installed as u64 * 4;
            if copy_to_user(slot, &(fd as i32).to_le_bytes()).is_err() {
                let f = files.lock().close(fd);
                drop(f);
                break;
            }
            installed += 1;
        }
        if installed > 0 {
            let cmlen = (CMSGHDR_SIZE + installed * 4) as u64;
            let mut h = [0u8; CMSGHDR_SIZE];
            h[..8].copy_from_slice(&cmlen.to_le_bytes());
            h[8..12].copy_from_slice(&so::SOL_SOCKET.to_le_bytes());
            h[12..16].copy_from_slice(&so::SCM_RIGHTS.to_le_bytes());
            if copy_to_user(self.control, &h).is_ok() {
                let space = (cmsg_align(cmlen as usize) as u64).min(self.left);
                self.control += space;
                self.left -= space;
            }
        }
        if installed < count || (count > 0 && fdmax == 0) {
            self.msg_flags |= msg::MSG_CTRUNC;
        }
    }
}

/// One `recvmsg` on `sock` (Linux's `____sys_recvmsg`); the bytes received.
fn do_recvmsg(file: &File, sock: &UnixSock, umsg: u64, mflags: u32) -> Result<usize, Errno> {
    let m = UserMsghdr::read(umsg)?;
    let mut to = IovIter::import_iovec(Direction::Dest, m.iov, m.iovlen as usize)?;
    let (n, meta) = sock.recvmsg(&mut to, mflags, nonblocking(file, mflags))?;
    let mut out = CmsgOut {
        control: m.control,
        left: m.controllen,
        msg_flags: (mflags & (msg::MSG_CMSG_CLOEXEC | msg::MSG_CMSG_COMPAT)) | meta.msg_flags,
    };
    if m.control == 0 {
        if meta.cred.is_some() || !meta.fds.is_empty() {
            out.msg_flags |= msg::MSG_CTRUNC;
        }
        drop(meta.fds);
    } else {
        if let Some(cred) = meta.cred {
            out.put(so::SOL_SOCKET, so::SCM_CREDENTIALS, &cred.to_bytes());
        }
        if !meta.fds.is_empty() {
            out.detach_fds(meta.fds, mflags & msg::MSG_CMSG_CLOEXEC != 0);
        }
    }
    if m.name != 0 {
        let name: &[u8] = if m.namelen > 0 {
            meta.addr.as_deref().unwrap_or(&[])
        } else {
            &[]
        };
        move_addr_to_user(name, m.name, umsg + MSGHDR_NAMELEN)?;
    }
    copy_to_user(
        umsg + MSGHDR_FLAGS,
        &(out.msg_flags & !msg::MSG_CMSG_COMPAT).to_le_bytes(),
    )?;
    copy_to_user(
        umsg + MSGHDR_CONTROLLEN,
        &(out.control - m.control).to_le_bytes(),
    )?;
    Ok(n)
}

/// `recvmsg(2)`.
pub fn sys_recvmsg(fd: i32, umsg: u64, mflags: u32) -> SysResult {
    if mflags & msg::MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = sockfd_lookup(fd)?;
    Ok(do_recvmsg(&file, &sock, umsg, mflags)? as u64)
}

/// `sizeof(struct mmsghdr)`: a msghdr and the length, padded.
const MMSGHDR_SIZE: u64 = 64;

/// `sendmmsg(2)`: messages until one fails; the count sent, or the first error.
pub fn sys_sendmmsg(fd: i32, vec: u64, vlen: u32, mflags: u32) -> SysResult {
    if mflags & msg::MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let (file, sock) = sockfd_lookup(fd)?;
    let vlen = (vlen as usize).min(UIO_MAXIOV);
    let mut sent = 0usize;
    let mut err = Errno(0);
    while sent < vlen {
        let entry = vec + sent as u64 * MMSGHDR_SIZE;
        match do_sendmsg(&file, &sock, entry, mflags) {
            Ok(n) => {
                if let Err(e) = copy_to_user(entry + MSGHDR_SIZE as u64, &(n as u32).to_le_bytes())
                {
                    err = e;
                    break;
                }
                sent += 1;
            }
            Err(e) => {
                err = e;
                break;
            }
        }
    }
    if sent > 0 || err.0 == 0 {
        Ok(sent as u64)
    } else {
        Err(err)
    }
}

/// `recvmmsg(2)`: messages until one would block or fails, the time runs out
/// (checked between messages, as Linux does), or `vlen` came; MSG_WAITFORONE blocks for
/// the first only.
pub fn sys_recvmmsg(fd: i32, vec: u64, vlen: u32, mflags: u32, timeout: u64) -> SysResult {
    if mflags & msg::MSG_CMSG_COMPAT != 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = crate::kernel::time::timeout_deadline(timeout)?;
    let (file, sock) = sockfd_lookup(fd)?;
    if let Some(e) = sock.sock_error() {
        return Err(e);
    }
    let vlen = vlen as usize;
    let mut flags_now = mflags & !msg::MSG_WAITFORONE;
    let mut got = 0usize;
    let mut err = Errno(0);
    while got < vlen {
        let entry = vec + got as u64 * MMSGHDR_SIZE;
        match do_recvmsg(&file, &sock, entry, flags_now) {
            Ok(n) => {
                if let Err(e) = copy_to_user(entry + MSGHDR_SIZE as u64, &(n as u32).to_le_bytes())
                {
                    err = e;
                    break;
                }
                got += 1;
            }
            Err(e) => {
                err = e;
                break;
            }
        }
        if mflags & msg::MSG_WAITFORONE != 0 {
            flags_now |= msg::MSG_DONTWAIT;
        }
        if let Some(d) = deadline {
            let now = crate::kernel::time::ktime_get_ns();
            let left = d.saturating_sub(now);
            let mut ts = [0u8; 16];
            ts[..8].copy_from_slice(&((left / 1_000_000_000) as i64).to_le_bytes());
            ts[8..].copy_from_slice(&((left % 1_000_000_000) as i64).to_le_bytes());
            copy_to_user(timeout, &ts)?;
            if left == 0 {
                break;
            }
        }
    }
    if err.0 == 0 {
        return Ok(got as u64);
    }
    if got == 0 {
        return Err(err);
    }
    Ok(got as u64)
}

// ---- options ----

fn jiffies_to_timeval(j: u64) -> [u8; 16] {
    let (sec, usec) = if j == MAX_SCHEDULE_TIMEOUT {
        (0, 0)
    } else {
        (j / HZ, (j % HZ) * 1_000_000 / HZ)
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(sec as i64).to_le_bytes());
    b[8..].copy_from_slice(&(usec as i64).to_le_bytes());
    b
}

/// Read a `struct timeval` timeout option (Linux's `sock_set_timeout`): EINVAL if short,
/// EDOM for microseconds out of range; negative seconds mean "do not wait", zero "no
/// limit".
fn timeval_to_jiffies(optval: u64, optlen: u32) -> Result<u64, Errno> {
    if optlen < 16 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 16];
    copy_from_user(&mut b, optval)?;
    let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
    let usec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(0);
    }
    if sec == 0 && usec == 0 {
        return Ok(MAX_SCHEDULE_TIMEOUT);
    }
    if (sec as u64) < u64::MAX / HZ / 2 {
        Ok(sec as u64 * HZ + (usec as u64).div_ceil(1_000_000 / HZ))
    } else {
        Ok(MAX_SCHEDULE_TIMEOUT)
    }
}

/// `setsockopt(2)` (Linux's `sk_setsockopt` for SOL_SOCKET; AF_UNIX has no other level).
pub fn sys_setsockopt(fd: i32, level: i32, optname: i32, optval: u64, optlen: i32) -> SysResult {
    use so::*;
    if optlen < 0 {
        return Err(Errno::EINVAL);
    }
    let (_file, sock) = sockfd_lookup(fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    let optlen = optlen as u32;
    if optlen < 4 {
        return Err(Errno::EINVAL);
    }
    let val = read_i32(optval)?;
    let set_bool = |bit: i32| {
        sock.with_opts(|o| {
            if val != 0 {
                o.bools |= 1 << bit;
            } else {
                o.bools &= !(1 << bit);
            }
        })
    };
    match optname {
        SO_DEBUG | SO_REUSEADDR | SO_DONTROUTE | SO_BROADCAST | SO_KEEPALIVE | SO_OOBINLINE
        | SO_NO_CHECK | SO_REUSEPORT => set_bool(optname),
        SO_TYPE | SO_PROTOCOL | SO_DOMAIN | SO_ERROR => return Err(Errno::ENOPROTOOPT),
        SO_SNDBUF | SO_SNDBUFFORCE => {
            // Forcing past wmem_max needs CAP_NET_ADMIN; Cradle keeps the limit for all.
            let v = (val as u32 as usize)
                .min(SYSCTL_WMEM_MAX)
                .min(i32::MAX as usize / 2);
            sock.with_opts(|o| o.sndbuf = (v * 2).max(SOCK_MIN_SNDBUF));
            sock.wake_writers();
        }
        SO_RCVBUF | SO_RCVBUFFORCE => {
            let v = (val as u32 as usize)
                .min(SYSCTL_RMEM_MAX)
                .min(i32::MAX as usize / 2);
            sock.with_opts(|o| o.rcvbuf = (v * 2).max(SOCK_MIN_RCVBUF));
        }
        SO_PRIORITY => {
            let admin = crate::kernel::cred::with_current_cred(|c| c.has_cap(CAP_NET_ADMIN));
            if !(0..=6).contains(&val) && !admin {
                return Err(Errno::EPERM);
            }
            sock.with_opts(|o| o.priority = val);
        }
        SO_LINGER => {
            if optlen < 8 {
                return Err(Errno::EINVAL);
            }
            let secs = read_i32(optval + 4)?;
            sock.with_opts(|o| o.linger = (i32::from(val != 0), secs));
        }
        SO_BSDCOMPAT => {}
        SO_PASSCRED => sock.with_opts(|o| o.passcred = val != 0),
        SO_RCVLOWAT => sock.with_opts(|o| o.rcvlowat = if val < 0 { i32::MAX } else { val.max(1) }),
        SO_RCVTIMEO_OLD => {
            let j = timeval_to_jiffies(optval, optlen)?;
            sock.with_opts(|o| o.rcvtimeo_j = j);
        }
        SO_SNDTIMEO_OLD => {
            let j = timeval_to_jiffies(optval, optlen)?;
            sock.with_opts(|o| o.sndtimeo_j = j);
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}

/// `getsockopt(2)` (Linux's `sk_getsockopt`): the value cut to the caller's length, the
/// length stored back.
pub fn sys_getsockopt(fd: i32, level: i32, optname: i32, optval: u64, optlen: u64) -> SysResult {
    use so::*;
    let (_file, sock) = sockfd_lookup(fd)?;
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    let len = read_i32(optlen)?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let opts = sock.with_opts(|o| o.clone());
    let int = |v: i32| v.to_le_bytes().to_vec();
    let bool_opt = |bit: i32| int(i32::from(opts.bools & (1 << bit) != 0));
    let value: Vec<u8> = match optname {
        SO_DEBUG | SO_REUSEADDR | SO_DONTROUTE | SO_BROADCAST | SO_KEEPALIVE | SO_OOBINLINE
        | SO_NO_CHECK | SO_REUSEPORT => bool_opt(optname),
        SO_TYPE => int(sock.sock_type() as i32),
        SO_PROTOCOL => int(0),
        SO_DOMAIN => int(AF_UNIX as i32),
        SO_ERROR => int(sock.sock_error().map_or(0, |e| e.0)),
        SO_SNDBUF => int(opts.sndbuf as i32),
        SO_RCVBUF => int(opts.rcvbuf as i32),
        SO_PRIORITY => int(opts.priority),
        SO_LINGER => {
            let mut v = int(opts.linger.0);
            v.extend_from_slice(&opts.linger.1.to_le_bytes());
            v
        }
        SO_BSDCOMPAT => int(0),
        SO_PASSCRED => int(i32::from(opts.passcred)),
        SO_PEERCRED => {
            let cred = sock.peercred().unwrap_or(Ucred {
                pid: 0,
                uid: u32::MAX,
                gid: u32::MAX,
            });
            cred.to_bytes().to_vec()
        }
        SO_RCVLOWAT => int(opts.rcvlowat),
        SO_SNDLOWAT => int(1),
        SO_RCVTIMEO_OLD => jiffies_to_timeval(opts.rcvtimeo_j).to_vec(),
        SO_SNDTIMEO_OLD => jiffies_to_timeval(opts.sndtimeo_j).to_vec(),
        SO_ACCEPTCONN => int(i32::from(sock.is_listening())),
        SO_PEEK_OFF => int(-1),
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let n = (len as usize).min(value.len());
    copy_to_user(optval, &value[..n])?;
    copy_to_user(optlen, &(n as i32).to_le_bytes())?;
    Ok(0)
}
