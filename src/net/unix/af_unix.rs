//! UNIX-domain sockets: SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET between processes of
//! one machine (Linux: `net/unix/af_unix.c`).
//!
//! A [`UnixSock`] is the inode behind a socket's file (Linux keeps `struct socket` and
//! `struct sock` apart; one object is enough here). Each socket has a receive queue of
//! [`Skb`]s, Linux's `sk_buff`s: a message (a datagram, or a piece of a stream) with the
//! sender's address, credentials and any descriptors passed with it (SCM_RIGHTS). A sender
//! puts messages on its *peer's* queue; what it has queued and not yet been read counts
//! against its own send buffer (`wmem`, Linux's `sk_wmem_alloc`), so a writer blocks, or
//! gets EAGAIN, once the reader falls `SO_SNDBUF` behind. A datagram receiver that is not
//! connected back to its sender also limits its queue to `max_dgram_qlen` (10) messages.
//!
//! Names: a socket is bound to a filesystem path (an S_IFSOCK inode is made, and connect
//! finds the socket through that inode), to a name in the abstract namespace (a leading
//! NUL byte), or to an automatic abstract name (`autobind`: five hex digits). A listening
//! stream or seqpacket socket's queue holds connection requests: `connect` makes the
//! server's end (the "embryo") at once, already connected to the client, and `accept`
//! takes it off the queue.
//!
//! # Locking
//!
//! Each socket's state is under its spinlock `st`, never held across a user copy or a
//! sleep. Two sockets' locks are taken together only in address order
//! ([`lock_two`]); a listener's lock may be held while a new embryo's is taken (nobody
//! else knows the embryo yet). Readers of one socket are serialised by its `iolock`
//! (Linux's `u->iolock`): a reader takes a message off the queue, copies it out with no
//! spinlock held, and puts back what it did not deliver; writers only append. Messages are
//! never dropped under a lock: dropping one may close the descriptors it carries, which
//! may release another socket.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::garbage;
use crate::fs::file::File;
use crate::fs::inode::{mode, FileType, Inode, Kiocb, Stat};
use crate::fs::iov_iter::IovIter;
use crate::fs::select::{pollbits::*, PollHead};
use crate::kernel::errno::Errno;
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::net::socket::{
    msg, sock_wait, SockOpts, AF_UNIX, AF_UNSPEC, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM,
};

/// The receive side is shut down (Linux's `RCV_SHUTDOWN`).
pub const RCV_SHUTDOWN: u32 = 1;
/// The send side is shut down.
pub const SEND_SHUTDOWN: u32 = 2;
/// Both.
pub const SHUTDOWN_MASK: u32 = 3;

/// `offsetof(struct sockaddr_un, sun_path)`.
pub const SUN_PATH_OFFSET: usize = 2;
/// `sizeof(struct sockaddr_un)`.
pub const SOCKADDR_UN_SIZE: usize = 110;

/// How many datagrams a receiver not connected to the sender queues (Linux's
/// `net.unix.max_dgram_qlen`).
const MAX_DGRAM_QLEN: usize = 10;
/// What a queued message costs beyond its bytes (Linux's `skb->truesize` overhead: the
/// `sk_buff`, its shared info and rounding, about 768 bytes on arm64).
const SKB_OVERHEAD: usize = 768;
/// The largest piece a stream write queues at once (Linux: `SKB_MAX_HEAD(0) +
/// UNIX_SKB_FRAGS_SZ`, about 36 KiB).
const STREAM_CHUNK: usize = 32768;

/// Who sent a message, or who the peer was at connect time (Linux's `struct ucred`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    /// Process ID (the thread group).
    pub pid: i32,
    /// User ID.
    pub uid: u32,
    /// Group ID.
    pub gid: u32,
}

impl Ucred {
    /// The caller with its effective IDs, as SO_PEERCRED reports it (Linux's
    /// `init_peercred`: the effective credentials).
    pub fn current_peer() -> Self {
        let (uid, gid) = crate::kernel::cred::with_current_cred(|c| (c.euid, c.egid));
        Self {
            pid: crate::kernel::sys::getpid(),
            uid,
            gid,
        }
    }

    /// The caller with its real IDs, as a message's credentials (Linux's
    /// `current_uid_gid` in `unix_maybe_add_creds`).
    pub fn current_sender() -> Self {
        let (uid, gid) = crate::kernel::cred::with_current_cred(|c| (c.uid, c.gid));
        Self {
            pid: crate::kernel::sys::getpid(),
            uid,
            gid,
        }
    }

    /// `struct ucred` as bytes.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.pid.to_le_bytes());
        b[4..8].copy_from_slice(&self.uid.to_le_bytes());
        b[8..].copy_from_slice(&self.gid.to_le_bytes());
        b
    }
}

/// A socket's connection state (Linux's `sk_state`, TCP names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not connected (`TCP_CLOSE`).
    Close,
    /// Accepting connections (`TCP_LISTEN`).
    Listen,
    /// Connected (`TCP_ESTABLISHED`).
    Established,
}

/// One queued message (Linux's `sk_buff` with its `unix_skb_parms`).
pub struct Skb {
    data: Vec<u8>,
    /// Bytes already read (streams read a message in pieces).
    consumed: usize,
    /// What it counts against the sender's send buffer.
    truesize: usize,
    sender: Weak<UnixSock>,
    /// The sender's address when it was sent.
    addr: Option<Arc<[u8]>>,
    cred: Ucred,
    /// Descriptors passed with it (SCM_RIGHTS), in flight until received.
    fds: Vec<Arc<File>>,
    /// Whose descriptors they are (the sender's real user ID), for the in-flight limit.
    fd_user: u32,
    /// A connection request on a listener's queue: the server's end.
    embryo: Option<Arc<UnixSock>>,
}

impl Skb {
    fn len(&self) -> usize {
        self.data.len() - self.consumed
    }

    /// Take the descriptors out of flight: received, or thrown away.
    fn take_fds(&mut self) -> Vec<Arc<File>> {
        let fds = core::mem::take(&mut self.fds);
        garbage::unix_notinflight(&fds, self.fd_user);
        fds
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        if !self.fds.is_empty() {
            let fds = self.take_fds();
            garbage::defer_fput(fds);
        }
        if self.truesize > 0 {
            if let Some(sender) = self.sender.upgrade() {
                sender.wmem.fetch_sub(self.truesize, Ordering::AcqRel);
                sender.wake();
            }
        }
    }
}

/// A socket's state. Lock: `UnixSock::st`.
struct UnixState {
    state: State,
    peer: Option<Arc<UnixSock>>,
    /// The bound name: `sockaddr_un` bytes, as long as Linux's `addr->len`.
    addr: Option<Arc<[u8]>>,
    /// The key of a filesystem binding in [`BSD_SOCKETS`].
    bsd_key: Option<usize>,
    queue: VecDeque<Skb>,
    /// Connection requests (listeners) or datagrams (others) the queue may hold past.
    max_backlog: usize,
    shutdown: u32,
    /// A pending error (Linux's `sk_err`), returned once.
    err: i32,
    /// Released (Linux's `SOCK_DEAD`).
    dead: bool,
    opts: SockOpts,
    /// The peer's credentials at connect or socketpair time; a listener's own (SO_PEERCRED).
    peercred: Option<Ucred>,
}

static NEXT_SOCK_INO: AtomicU64 = AtomicU64::new(1 << 36);

/// A UNIX-domain socket (Linux's `struct unix_sock` and its `struct socket`).
pub struct UnixSock {
    me: Weak<UnixSock>,
    ino: u64,
    owner: (u32, u32),
    sock_type: u32,
    st: SpinLock<UnixState>,
    /// Serialises readers (Linux's `iolock`).
    iolock: Mutex<()>,
    /// Readers wait here for messages, writers for room (in this socket's send buffer,
    /// or in this socket's queue as a datagram receiver), connectors for the backlog.
    wait: WaitQueueHead,
    poll_head: PollHead,
    /// Bytes (with overhead) of this socket's messages not yet read by their receiver.
    wmem: AtomicUsize,
    /// Set (for good) by `listen`: read without the lock by a connect that holds a
    /// listener's lock (Linux's `READ_ONCE(sk->sk_state)` before the second lock).
    listening: AtomicBool,
}

/// Abstract names: `sun_path` bytes (with the leading NUL) to the socket.
static ABSTRACT: SpinLock<BTreeMap<Vec<u8>, Weak<UnixSock>>> = SpinLock::new(BTreeMap::new());
/// Filesystem bindings: the S_IFSOCK inode's address to it and the socket.
static BSD_SOCKETS: SpinLock<BTreeMap<usize, BsdBinding>> = SpinLock::new(BTreeMap::new());
/// The next autobind name to try.
static AUTOBIND_NEXT: AtomicU64 = AtomicU64::new(0x1a2b3);

struct BsdBinding {
    inode: Weak<dyn Inode>,
    sock: Weak<UnixSock>,
}

fn inode_key(inode: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(inode) as *const u8 as usize
}

/// Lock two sockets' states in address order (Linux's `unix_state_double_lock`).
fn lock_two<'a>(
    a: &'a UnixSock,
    b: &'a UnixSock,
) -> (
    crate::kernel::locking::SpinLockGuard<'a, UnixState>,
    crate::kernel::locking::SpinLockGuard<'a, UnixState>,
) {
    if (a as *const UnixSock) < (b as *const UnixSock) {
        let ga = a.st.lock();
        let gb = b.st.lock();
        (ga, gb)
    } else {
        let gb = b.st.lock();
        let ga = a.st.lock();
        (ga, gb)
    }
}

/// Check a `sockaddr_un` (Linux's `unix_validate_addr`).
pub fn validate_addr(addr: &[u8]) -> Result<(), Errno> {
    if addr.len() <= SUN_PATH_OFFSET || addr.len() > SOCKADDR_UN_SIZE {
        return Err(Errno::EINVAL);
    }
    if u16::from_le_bytes([addr[0], addr[1]]) != AF_UNIX {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The path of a filesystem address: `sun_path` up to its first NUL (Linux's
/// `unix_mkname_bsd`).
fn bsd_path(addr: &[u8]) -> &[u8] {
    let path = &addr[SUN_PATH_OFFSET..];
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    &path[..end]
}

/// What a message costs its sender.
fn truesize(len: usize) -> usize {
    len + SKB_OVERHEAD
}

/// A kernel buffer of `len` bytes, or ENOBUFS (Linux's allocation of an skb fails so).
fn alloc_buf(len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Errno::ENOBUFS)?;
    v.resize(len, 0);
    Ok(v)
}

/// What a received message brought besides its bytes.
#[derive(Default)]
pub struct RecvMeta {
    /// The sender's address, if it had one.
    pub addr: Option<Arc<[u8]>>,
    /// MSG_TRUNC, MSG_CTRUNC… for `msg_flags`.
    pub msg_flags: u32,
    /// The descriptors passed.
    pub fds: Vec<Arc<File>>,
    /// The sender's credentials, if the socket has SO_PASSCRED.
    pub cred: Option<Ucred>,
}

/// What a sender passes besides its bytes (Linux's `struct scm_cookie`).
#[derive(Default)]
pub struct Scm {
    /// Descriptors to pass (SCM_RIGHTS).
    pub fds: Vec<Arc<File>>,
    /// Credentials given with SCM_CREDENTIALS.
    pub cred: Option<Ucred>,
}

impl UnixSock {
    /// A new unconnected socket of `sock_type` (Linux's `unix_create1`).
    pub fn new(sock_type: u32) -> Arc<UnixSock> {
        let owner = crate::kernel::cred::with_current_cred(|c| (c.fsuid, c.fsgid));
        Arc::new_cyclic(|me| UnixSock {
            me: me.clone(),
            ino: NEXT_SOCK_INO.fetch_add(1, Ordering::Relaxed),
            owner,
            sock_type,
            st: SpinLock::new(UnixState {
                state: State::Close,
                peer: None,
                addr: None,
                bsd_key: None,
                queue: VecDeque::new(),
                max_backlog: MAX_DGRAM_QLEN,
                shutdown: 0,
                err: 0,
                dead: false,
                opts: SockOpts::default(),
                peercred: None,
            }),
            iolock: Mutex::new(()),
            wait: WaitQueueHead::new(),
            poll_head: PollHead::new(),
            wmem: AtomicUsize::new(0),
            listening: AtomicBool::new(false),
        })
    }

    fn arc(&self) -> Arc<UnixSock> {
        // `me` points at the Arc this socket lives in, alive while `&self` is.
        self.me.upgrade().expect("a socket outlives its methods")
    }

    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    pub fn sock_type(&self) -> u32 {
        self.sock_type
    }

    fn connection_based(&self) -> bool {
        self.sock_type != SOCK_DGRAM
    }

    /// The send buffer grew (SO_SNDBUF): let blocked writers look again.
    pub fn wake_writers(&self) {
        self.wake();
    }

    /// Something changed: wake sleepers and pollers.
    fn wake(&self) {
        self.wait.wake_up_all();
        self.poll_head.wake();
    }

    /// Join two new sockets back to back (Linux's `unix_socketpair`).
    pub fn socketpair(a: &Arc<UnixSock>, b: &Arc<UnixSock>) {
        let cred = Ucred::current_peer();
        for (x, y) in [(a, b), (b, a)] {
            let mut st = x.st.lock();
            st.peer = Some(y.clone());
            st.peercred = Some(cred);
            st.state = State::Established;
        }
    }

    /// Run `f` on the socket options.
    pub fn with_opts<R>(&self, f: impl FnOnce(&mut SockOpts) -> R) -> R {
        f(&mut self.st.lock().opts)
    }

    /// Take the pending error (Linux's `sock_error`), as a negative-free errno.
    pub fn sock_error(&self) -> Option<Errno> {
        let mut st = self.st.lock();
        let err = core::mem::take(&mut st.err);
        (err != 0).then_some(Errno(err))
    }

    /// True if listening (SO_ACCEPTCONN).
    pub fn is_listening(&self) -> bool {
        self.st.lock().state == State::Listen
    }

    /// The peer's credentials (SO_PEERCRED).
    pub fn peercred(&self) -> Option<Ucred> {
        self.st.lock().peercred
    }

    /// Bytes queued for reading (FIONREAD/SIOCINQ: Linux's `unix_inq_len`).
    pub fn inq_len(&self) -> Result<usize, Errno> {
        let st = self.st.lock();
        if st.state == State::Listen {
            return Err(Errno::EINVAL);
        }
        Ok(match self.sock_type {
            SOCK_DGRAM => st.queue.front().map_or(0, |s| s.len()),
            _ => st.queue.iter().map(|s| s.len()).sum(),
        })
    }

    /// Bytes sent and not yet read (SIOCOUTQ).
    pub fn outq_len(&self) -> usize {
        self.wmem.load(Ordering::Acquire)
    }

    fn sndbuf(&self) -> usize {
        self.st.lock().opts.sndbuf
    }

    // ---- names ----

    /// `getsockname` (`peer` false) or `getpeername` (Linux's `unix_getname`): the
    /// `sockaddr_un` bytes, just the family for a socket with no name.
    pub fn getname(&self, peer: bool) -> Result<Vec<u8>, Errno> {
        let addr = if peer {
            let p = self.st.lock().peer.clone().ok_or(Errno::ENOTCONN)?;
            let a = p.st.lock().addr.clone();
            a
        } else {
            self.st.lock().addr.clone()
        };
        Ok(match addr {
            Some(a) => a.to_vec(),
            None => AF_UNIX.to_le_bytes().to_vec(),
        })
    }

    /// `bind` (Linux's `unix_bind`): the family alone autobinds; a leading NUL is an
    /// abstract name; anything else a path, where an S_IFSOCK inode is made.
    pub fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        if addr.len() == SUN_PATH_OFFSET && u16::from_le_bytes([addr[0], addr[1]]) == AF_UNIX {
            return self.autobind();
        }
        validate_addr(addr)?;
        if addr[SUN_PATH_OFFSET] != 0 {
            self.bind_bsd(addr)
        } else {
            self.bind_abstract(addr)
        }
    }

    fn bind_bsd(&self, addr: &[u8]) -> Result<(), Errno> {
        use crate::fs::namei;
        let path = bsd_path(addr);
        let mut name = Vec::with_capacity(SUN_PATH_OFFSET + path.len() + 1);
        name.extend_from_slice(&AF_UNIX.to_le_bytes());
        name.extend_from_slice(path);
        name.push(0);
        let path = core::str::from_utf8(path).map_err(|_| Errno::EINVAL)?;
        let base = namei::at_base(namei::AT_FDCWD, path)?;
        let (parent, last) = namei::path_parent(&base, path)?;
        let cred = crate::kernel::cred::current_cred();
        let in_use = |e: Errno| {
            if e == Errno::EEXIST {
                Errno::EADDRINUSE
            } else {
                e
            }
        };
        namei::may_create_in(&parent, last, &cred).map_err(in_use)?;
        let umask = crate::kernel::task::current().fs()?.lock().umask;
        let inode = parent
            .inode
            .create(last, mode::S_IFSOCK | (0o777 & !umask), 0)
            .map_err(in_use)?;
        crate::fs::inode::init_owner(&parent, &inode, &cred);
        crate::fs::notify::fsnotify_create(&parent.inode, last, false);
        let key = inode_key(&inode);
        {
            let mut st = self.st.lock();
            if st.addr.is_none() {
                st.addr = Some(Arc::from(name));
                st.bsd_key = Some(key);
                BSD_SOCKETS.lock().insert(
                    key,
                    BsdBinding {
                        inode: Arc::downgrade(&inode),
                        sock: self.me.clone(),
                    },
                );
                return Ok(());
            }
        }
        // Bound already: take back the inode just made (Linux's `out_unlink`).
        let _ = parent.inode.unlink(last, false);
        Err(Errno::EINVAL)
    }

    fn bind_abstract(&self, addr: &[u8]) -> Result<(), Errno> {
        let mut st = self.st.lock();
        if st.addr.is_some() {
            return Err(Errno::EINVAL);
        }
        let key = addr[SUN_PATH_OFFSET..].to_vec();
        let mut names = ABSTRACT.lock();
        if names.get(&key).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        names.insert(key, self.me.clone());
        st.addr = Some(Arc::from(addr));
        Ok(())
    }

    /// Bind to a free abstract name of five hex digits (Linux's `unix_autobind`); nothing
    /// if bound already.
    pub fn autobind(&self) -> Result<(), Errno> {
        let mut st = self.st.lock();
        if st.addr.is_some() {
            return Ok(());
        }
        let mut names = ABSTRACT.lock();
        for _ in 0..=0xfffff {
            let n = AUTOBIND_NEXT.fetch_add(1, Ordering::Relaxed) & 0xfffff;
            let mut addr = Vec::with_capacity(8);
            addr.extend_from_slice(&AF_UNIX.to_le_bytes());
            addr.push(0);
            for shift in [16, 12, 8, 4, 0] {
                addr.push(b"0123456789abcdef"[((n >> shift) & 0xf) as usize]);
            }
            let key = addr[SUN_PATH_OFFSET..].to_vec();
            if names.get(&key).is_some_and(|w| w.strong_count() > 0) {
                continue;
            }
            names.insert(key, self.me.clone());
            st.addr = Some(Arc::from(addr));
            return Ok(());
        }
        Err(Errno::ENOSPC)
    }

    /// Forget this socket's name in the tables (the filesystem inode stays).
    fn unbind(&self, st: &UnixState) {
        if let Some(key) = st.bsd_key {
            BSD_SOCKETS.lock().remove(&key);
        } else if let Some(addr) = &st.addr {
            let mut names = ABSTRACT.lock();
            let key = &addr[SUN_PATH_OFFSET..];
            if names
                .get(key)
                .is_some_and(|w| core::ptr::eq(w.as_ptr(), self as *const UnixSock))
            {
                names.remove(key);
            }
        }
    }

    // ---- connections ----

    /// `listen` (Linux's `unix_listen`).
    pub fn listen(&self, backlog: usize) -> Result<(), Errno> {
        if self.sock_type == SOCK_DGRAM {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut st = self.st.lock();
        if st.addr.is_none() {
            return Err(Errno::EINVAL);
        }
        if st.state != State::Close && st.state != State::Listen {
            return Err(Errno::EINVAL);
        }
        st.max_backlog = backlog;
        st.state = State::Listen;
        self.listening.store(true, Ordering::Release);
        st.peercred = Some(Ucred::current_peer());
        drop(st);
        self.wake();
        Ok(())
    }

    /// Connect a stream or seqpacket socket (Linux's `unix_stream_connect`).
    pub fn stream_connect(&self, addr: &[u8], nonblock: bool) -> Result<(), Errno> {
        validate_addr(addr)?;
        if self.with_opts(|o| o.passcred) {
            self.autobind()?;
        }
        let mut timeo = self.with_opts(|o| o.sndtimeo(nonblock));
        let newsk = UnixSock::new(self.sock_type);
        let mycred = Ucred::current_peer();
        loop {
            let other = find_other(addr, self.sock_type)?;
            let mut ost = other.st.lock();
            if ost.dead {
                continue;
            }
            if ost.state != State::Listen || ost.shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::ECONNREFUSED);
            }
            if ost.queue.len() > ost.max_backlog {
                drop(ost);
                if timeo == 0 {
                    return Err(Errno::EAGAIN);
                }
                sock_wait(&other.wait, &mut timeo, || {
                    let o = other.st.lock();
                    o.dead || o.shutdown & RCV_SHUTDOWN != 0 || o.queue.len() <= o.max_backlog
                })?;
                continue;
            }
            // The listener's lock, then ours. A listener never takes a connecting
            // socket's lock while holding its own: it fails here first, without ours.
            if self.listening.load(Ordering::Acquire) {
                return Err(Errno::EINVAL);
            }
            let mut st = self.st.lock();
            match st.state {
                State::Close => {}
                State::Established => return Err(Errno::EISCONN),
                State::Listen => return Err(Errno::EINVAL),
            }
            {
                let mut nst = newsk.st.lock();
                nst.state = State::Established;
                nst.peer = Some(self.arc());
                nst.peercred = Some(mycred);
                nst.addr = ost.addr.clone();
                nst.opts.passcred = ost.opts.passcred;
            }
            st.peercred = ost.peercred;
            st.state = State::Established;
            st.peer = Some(newsk.clone());
            drop(st);
            ost.queue.push_back(Skb {
                data: Vec::new(),
                consumed: 0,
                truesize: 0,
                sender: Weak::new(),
                addr: None,
                cred: mycred,
                fds: Vec::new(),
                fd_user: 0,
                embryo: Some(newsk),
            });
            drop(ost);
            other.wake();
            self.wake();
            return Ok(());
        }
    }

    /// Connect a datagram socket to `addr`, or disconnect it with AF_UNSPEC (Linux's
    /// `unix_dgram_connect`).
    pub fn dgram_connect(&self, addr: &[u8]) -> Result<(), Errno> {
        if addr.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let other = if u16::from_le_bytes([addr[0], addr[1]]) != AF_UNSPEC {
            validate_addr(addr)?;
            if self.with_opts(|o| o.passcred) {
                self.autobind()?;
            }
            loop {
                let other = find_other(addr, self.sock_type)?;
                if other.st.lock().dead {
                    continue;
                }
                break Some(other);
            }
        } else {
            None
        };
        let old = {
            let (mut st, ost) = match &other {
                Some(o) if !core::ptr::eq(Arc::as_ptr(o), self) => {
                    let (st, ost) = lock_two(self, o);
                    (st, Some(ost))
                }
                _ => (self.st.lock(), None),
            };
            if let Some(o) = &other {
                let peer_of_other = match &ost {
                    Some(ost) => ost.peer.clone(),
                    None => st.peer.clone(),
                };
                if peer_of_other.is_some_and(|p| !core::ptr::eq(Arc::as_ptr(&p), self)) {
                    return Err(Errno::EPERM);
                }
                let _ = o;
                st.state = State::Established;
            } else {
                st.state = State::Close;
            }
            core::mem::replace(&mut st.peer, other.clone())
        };
        if let Some(old) = old {
            if other.as_ref().is_none_or(|o| !Arc::ptr_eq(o, &old)) {
                self.dgram_disconnected(&old);
            }
        }
        self.wake();
        Ok(())
    }

    /// A datagram socket left `other`: what was queued is lost, and a peer connected back
    /// gets ECONNRESET (Linux's `unix_dgram_disconnected`).
    fn dgram_disconnected(&self, other: &Arc<UnixSock>) {
        let purged = core::mem::take(&mut self.st.lock().queue);
        if purged.is_empty() {
            return;
        }
        drop(purged);
        self.wake();
        let mut ost = other.st.lock();
        if !ost.dead
            && ost
                .peer
                .as_ref()
                .is_some_and(|p| core::ptr::eq(Arc::as_ptr(p), self))
        {
            ost.err = Errno::ECONNRESET.0;
            drop(ost);
            other.wake();
        }
    }

    /// `accept` (Linux's `unix_accept`): the next connection's server end.
    pub fn accept(&self, nonblock: bool) -> Result<Arc<UnixSock>, Errno> {
        if self.sock_type == SOCK_DGRAM {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut timeo = {
            let st = self.st.lock();
            if st.state != State::Listen {
                return Err(Errno::EINVAL);
            }
            st.opts.rcvtimeo(nonblock)
        };
        loop {
            let skb = {
                let mut st = self.st.lock();
                if st.err != 0 {
                    return Err(Errno(core::mem::take(&mut st.err)));
                }
                st.queue.pop_front()
            };
            if let Some(mut skb) = skb {
                self.wake();
                if let Some(embryo) = skb.embryo.take() {
                    return Ok(embryo);
                }
                continue;
            }
            if timeo == 0 {
                return Err(Errno::EAGAIN);
            }
            {
                let st = self.st.lock();
                if st.shutdown & RCV_SHUTDOWN != 0 {
                    return Err(Errno::EINVAL);
                }
                if st.state != State::Listen {
                    return Err(Errno::EINVAL);
                }
            }
            sock_wait(&self.wait, &mut timeo, || {
                let st = self.st.lock();
                !st.queue.is_empty() || st.err != 0 || st.shutdown & RCV_SHUTDOWN != 0
            })?;
        }
    }

    /// `shutdown` (Linux's `unix_shutdown`): `how` is SHUT_RD, SHUT_WR or SHUT_RDWR.
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(0..=2).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mode = how as u32 + 1;
        let other = {
            let mut st = self.st.lock();
            st.shutdown |= mode;
            st.peer.clone()
        };
        self.wake();
        if let Some(other) = other {
            if self.connection_based() {
                let mut peer_mode = 0;
                if mode & RCV_SHUTDOWN != 0 {
                    peer_mode |= SEND_SHUTDOWN;
                }
                if mode & SEND_SHUTDOWN != 0 {
                    peer_mode |= RCV_SHUTDOWN;
                }
                other.st.lock().shutdown |= peer_mode;
                other.wake();
            }
        }
        Ok(())
    }

    /// The socket's file closed (Linux's `unix_release_sock`); `embryo` for a connection
    /// never accepted, thrown out with its listener.
    fn release_sock(&self, embryo: bool) {
        let (peer, queue, was) = {
            let mut st = self.st.lock();
            if st.dead {
                return;
            }
            self.unbind(&st);
            st.dead = true;
            st.shutdown = SHUTDOWN_MASK;
            let was = st.state;
            st.state = State::Close;
            (st.peer.take(), core::mem::take(&mut st.queue), was)
        };
        self.wake();
        if let Some(peer) = peer {
            if self.connection_based() {
                let mut pst = peer.st.lock();
                pst.shutdown = SHUTDOWN_MASK;
                if queue.iter().any(|s| s.len() > 0 || s.embryo.is_some()) || embryo {
                    pst.err = Errno::ECONNRESET.0;
                }
                drop(pst);
            }
            peer.wake();
        }
        for mut skb in queue {
            if was == State::Listen {
                if let Some(e) = skb.embryo.take() {
                    e.release_sock(true);
                }
            }
            drop(skb);
        }
        garbage::unix_gc();
    }

    // ---- sending ----

    /// Wait until this socket's send buffer has room (Linux's `sock_alloc_send_pskb`):
    /// a pending error first, EPIPE once the send side is shut down, EAGAIN when `timeo`
    /// runs out.
    fn wait_for_wmem(&self, timeo: &mut u64) -> Result<(), Errno> {
        loop {
            {
                let mut st = self.st.lock();
                if st.err != 0 {
                    return Err(Errno(core::mem::take(&mut st.err)));
                }
                if st.shutdown & SEND_SHUTDOWN != 0 {
                    return Err(Errno::EPIPE);
                }
                if self.wmem.load(Ordering::Acquire) < st.opts.sndbuf {
                    return Ok(());
                }
            }
            if *timeo == 0 {
                return Err(Errno::EAGAIN);
            }
            sock_wait(&self.wait, timeo, || {
                let st = self.st.lock();
                st.err != 0
                    || st.shutdown & SEND_SHUTDOWN != 0
                    || self.wmem.load(Ordering::Acquire) < st.opts.sndbuf
            })?;
        }
    }

    /// A message from this socket, its size counted against the send buffer and its
    /// descriptors put in flight (ETOOMANYREFS past the sender's limit: Linux's
    /// `unix_attach_fds`).
    fn new_skb(&self, data: Vec<u8>, fds: Vec<Arc<File>>, cred: Ucred) -> Result<Skb, Errno> {
        let fd_user = crate::kernel::cred::with_current_cred(|c| c.uid);
        if !fds.is_empty() && garbage::too_many_unix_fds(fd_user) {
            return Err(Errno::ETOOMANYREFS);
        }
        let size = truesize(data.len());
        self.wmem.fetch_add(size, Ordering::AcqRel);
        garbage::unix_inflight(&fds, fd_user);
        Ok(Skb {
            data,
            consumed: 0,
            truesize: size,
            sender: self.me.clone(),
            addr: self.st.lock().addr.clone(),
            cred,
            fds,
            fd_user,
            embryo: None,
        })
    }

    /// Send `from` (Linux's `unix_stream_sendmsg`, `unix_dgram_sendmsg`,
    /// `unix_seqpacket_sendmsg`): to `addr` if given (datagrams), else to the peer.
    /// `nonblock` is O_NONBLOCK or MSG_DONTWAIT. EPIPE on a stream sends SIGPIPE unless
    /// `flags` has MSG_NOSIGNAL.
    pub fn sendmsg(
        &self,
        from: &mut IovIter<'_>,
        addr: Option<&[u8]>,
        flags: u32,
        nonblock: bool,
        scm: Scm,
    ) -> Result<usize, Errno> {
        match self.sock_type {
            SOCK_STREAM => self.stream_sendmsg(from, addr, flags, nonblock, scm),
            SOCK_SEQPACKET => {
                if let Some(e) = self.sock_error() {
                    return Err(e);
                }
                if self.st.lock().state != State::Established {
                    return Err(Errno::ENOTCONN);
                }
                self.dgram_sendmsg(from, None, flags, nonblock, scm)
            }
            _ => self.dgram_sendmsg(from, addr, flags, nonblock, scm),
        }
    }

    fn stream_sendmsg(
        &self,
        from: &mut IovIter<'_>,
        addr: Option<&[u8]>,
        flags: u32,
        nonblock: bool,
        mut scm: Scm,
    ) -> Result<usize, Errno> {
        if flags & msg::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let other = {
            let st = self.st.lock();
            if addr.is_some() {
                return Err(if st.state == State::Established {
                    Errno::EISCONN
                } else {
                    Errno::EOPNOTSUPP
                });
            }
            let other = st.peer.clone().ok_or(Errno::ENOTCONN)?;
            if st.shutdown & SEND_SHUTDOWN != 0 {
                drop(st);
                return pipe_err(0, flags);
            }
            other
        };
        let cred = scm.cred.unwrap_or_else(Ucred::current_sender);
        let len = from.count();
        let mut timeo = self.with_opts(|o| o.sndtimeo(nonblock));
        let mut sent = 0;
        while sent < len {
            let size = (len - sent)
                .min((self.sndbuf() / 2).saturating_sub(64).max(1))
                .min(STREAM_CHUNK);
            if let Err(e) = self.wait_for_wmem(&mut timeo) {
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
            let mut data = match alloc_buf(size) {
                Ok(d) => d,
                Err(e) => return if sent > 0 { Ok(sent) } else { Err(e) },
            };
            if from.copy_from_iter(&mut data) < size {
                return if sent > 0 {
                    Ok(sent)
                } else {
                    Err(Errno::EFAULT)
                };
            }
            let skb = match self.new_skb(data, core::mem::take(&mut scm.fds), cred) {
                Ok(skb) => skb,
                Err(e) => return if sent > 0 { Ok(sent) } else { Err(e) },
            };
            let mut ost = other.st.lock();
            if ost.dead || ost.shutdown & RCV_SHUTDOWN != 0 {
                drop(ost);
                drop(skb);
                return pipe_err(sent, flags);
            }
            ost.queue.push_back(skb);
            drop(ost);
            other.wake();
            sent += size;
        }
        Ok(sent)
    }

    fn dgram_sendmsg(
        &self,
        from: &mut IovIter<'_>,
        addr: Option<&[u8]>,
        flags: u32,
        nonblock: bool,
        scm: Scm,
    ) -> Result<usize, Errno> {
        if flags & msg::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(a) = addr {
            validate_addr(a)?;
        }
        if self.with_opts(|o| o.passcred) {
            self.autobind()?;
        }
        let len = from.count();
        if len > self.sndbuf().saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        let mut timeo = self.with_opts(|o| o.sndtimeo(nonblock));
        self.wait_for_wmem(&mut timeo)?;
        let mut data = alloc_buf(len)?;
        if from.copy_from_iter(&mut data) < len {
            return Err(Errno::EFAULT);
        }
        let cred = scm.cred.unwrap_or_else(Ucred::current_sender);
        let mut skb = Some(self.new_skb(data, scm.fds, cred)?);
        let mut other = match addr {
            Some(a) => find_other(a, self.sock_type)?,
            None => self.st.lock().peer.clone().ok_or(Errno::ENOTCONN)?,
        };
        loop {
            let mut ost = other.st.lock();
            if ost
                .peer
                .as_ref()
                .is_some_and(|p| !core::ptr::eq(Arc::as_ptr(p), self))
            {
                return Err(Errno::EPERM);
            }
            if ost.dead {
                drop(ost);
                if self.sock_type == SOCK_SEQPACKET {
                    return Err(Errno::EPIPE);
                }
                let was_peer = {
                    let mut st = self.st.lock();
                    if st.peer.as_ref().is_some_and(|p| Arc::ptr_eq(p, &other)) {
                        st.peer = None;
                        st.state = State::Close;
                        true
                    } else {
                        false
                    }
                };
                if was_peer {
                    self.dgram_disconnected(&other);
                    return Err(Errno::ECONNREFUSED);
                }
                match addr {
                    Some(a) => {
                        other = find_other(a, self.sock_type)?;
                        continue;
                    }
                    None => return Err(Errno::ECONNRESET),
                }
            }
            if ost.shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            let to_self = core::ptr::eq(Arc::as_ptr(&other), self);
            let peer_is_me = ost
                .peer
                .as_ref()
                .is_some_and(|p| core::ptr::eq(Arc::as_ptr(p), self));
            if !to_self && !peer_is_me && ost.queue.len() > ost.max_backlog {
                drop(ost);
                if timeo == 0 {
                    return Err(Errno::EAGAIN);
                }
                let target = other.clone();
                sock_wait(&target.wait, &mut timeo, || {
                    let o = target.st.lock();
                    o.dead || o.shutdown & RCV_SHUTDOWN != 0 || o.queue.len() <= o.max_backlog
                })?;
                continue;
            }
            if let Some(skb) = skb.take() {
                ost.queue.push_back(skb);
            }
            drop(ost);
            other.wake();
            return Ok(len);
        }
    }

    // ---- receiving ----

    /// Receive into `to` (Linux's `unix_stream_recvmsg`, `unix_dgram_recvmsg`,
    /// `unix_seqpacket_recvmsg`); `nonblock` is O_NONBLOCK or MSG_DONTWAIT.
    pub fn recvmsg(
        &self,
        to: &mut IovIter<'_>,
        flags: u32,
        nonblock: bool,
    ) -> Result<(usize, RecvMeta), Errno> {
        match self.sock_type {
            SOCK_STREAM => self.stream_recvmsg(to, flags, nonblock),
            SOCK_SEQPACKET => {
                if self.st.lock().state != State::Established {
                    return Err(Errno::ENOTCONN);
                }
                self.dgram_recvmsg(to, flags, nonblock)
            }
            _ => self.dgram_recvmsg(to, flags, nonblock),
        }
    }

    fn dgram_recvmsg(
        &self,
        to: &mut IovIter<'_>,
        flags: u32,
        nonblock: bool,
    ) -> Result<(usize, RecvMeta), Errno> {
        if flags & msg::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let peek = flags & msg::MSG_PEEK != 0;
        let mut timeo = self.with_opts(|o| o.rcvtimeo(nonblock));
        let io = loop {
            let io = self.iolock.lock();
            {
                let mut st = self.st.lock();
                if st.err != 0 {
                    return Err(Errno(core::mem::take(&mut st.err)));
                }
                if !st.queue.is_empty() {
                    break io;
                }
                if timeo == 0 {
                    if self.sock_type == SOCK_SEQPACKET && st.shutdown & RCV_SHUTDOWN != 0 {
                        return Ok((0, RecvMeta::default()));
                    }
                    return Err(Errno::EAGAIN);
                }
                // Linux's `__skb_wait_for_more_packets`, before it sleeps.
                if st.shutdown & RCV_SHUTDOWN != 0 {
                    return Ok((0, RecvMeta::default()));
                }
                if self.connection_based() && st.state != State::Established {
                    return Err(Errno::ENOTCONN);
                }
            }
            drop(io);
            sock_wait(&self.wait, &mut timeo, || {
                let st = self.st.lock();
                !st.queue.is_empty() || st.err != 0 || st.shutdown & RCV_SHUTDOWN != 0
            })?;
        };
        // Under the iolock the queue's head is ours: writers only append.
        let (skb, copy) = {
            let mut st = self.st.lock();
            if peek {
                let Some(front) = st.queue.front() else {
                    return Err(Errno::EAGAIN);
                };
                let copy = PeekCopy {
                    data: front.data[front.consumed..].to_vec(),
                    addr: front.addr.clone(),
                    cred: front.cred,
                    fds: front.fds.clone(),
                };
                (None, Some(copy))
            } else {
                (st.queue.pop_front(), None)
            }
        };
        let mut meta = RecvMeta::default();
        let passcred = self.with_opts(|o| o.passcred);
        let (bytes, full) = match (&skb, &copy) {
            (Some(s), _) => {
                meta.addr = s.addr.clone();
                meta.cred = passcred.then_some(s.cred);
                (&s.data[s.consumed..], s.len())
            }
            (None, Some(c)) => {
                meta.addr = c.addr.clone();
                meta.cred = passcred.then_some(c.cred);
                (&c.data[..], c.data.len())
            }
            (None, None) => return Err(Errno::EAGAIN),
        };
        let size = to.count();
        let n = size.min(full);
        if size < full {
            meta.msg_flags |= msg::MSG_TRUNC;
        }
        let copied = to.copy_to_iter(&bytes[..n]);
        let result = if copied < n {
            Err(Errno::EFAULT)
        } else {
            Ok(if flags & msg::MSG_TRUNC != 0 { full } else { n })
        };
        if result.is_ok() {
            match (skb, copy) {
                (Some(mut s), _) => {
                    meta.fds = s.take_fds();
                    drop(io);
                    drop(s);
                }
                (None, Some(c)) => {
                    meta.fds = c.fds;
                    drop(io);
                }
                _ => drop(io),
            }
        } else {
            drop(io);
        }
        self.wake();
        result.map(|n| (n, meta))
    }

    fn stream_recvmsg(
        &self,
        to: &mut IovIter<'_>,
        flags: u32,
        nonblock: bool,
    ) -> Result<(usize, RecvMeta), Errno> {
        if self.st.lock().state != State::Established {
            return Err(Errno::EINVAL);
        }
        if flags & msg::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let peek = flags & msg::MSG_PEEK != 0;
        let mut size = to.count();
        let target = if flags & msg::MSG_WAITALL != 0 {
            size
        } else {
            size.min(1)
        }
        .max(1);
        let mut timeo = self.with_opts(|o| o.rcvtimeo(nonblock));
        let passcred = self.with_opts(|o| o.passcred);
        let mut meta = RecvMeta::default();
        let mut copied = 0usize;
        let mut err: Option<Errno> = None;
        let mut creds: Option<Ucred> = None;
        let mut got_addr = false;
        'redo: loop {
            let io = self.iolock.lock();
            // With MSG_PEEK, how many messages (and bytes of the next) were looked at.
            let mut peek_index = 0usize;
            let mut peek_skip = 0usize;
            loop {
                if size == 0 {
                    break 'redo;
                }
                // The queue's length when nothing was found: a wait ends when it moves.
                let seen;
                let taken = {
                    let mut st = self.st.lock();
                    seen = st.queue.len();
                    if st.dead {
                        err = Some(Errno::ECONNRESET);
                        None
                    } else if peek {
                        st.queue.get(peek_index).map(|s| {
                            let start = s.consumed + peek_skip;
                            Taken::Peeked(PeekCopy {
                                data: s.data[start..].to_vec(),
                                addr: s.addr.clone(),
                                cred: s.cred,
                                fds: s.fds.clone(),
                            })
                        })
                    } else {
                        st.queue.pop_front().map(Taken::Owned)
                    }
                };
                let Some(taken) = taken else {
                    if err.is_some() || copied >= target {
                        break 'redo;
                    }
                    let mut st = self.st.lock();
                    if st.err != 0 {
                        err = Some(Errno(core::mem::take(&mut st.err)));
                        break 'redo;
                    }
                    if st.shutdown & RCV_SHUTDOWN != 0 {
                        break 'redo;
                    }
                    drop(st);
                    if timeo == 0 {
                        err = Some(Errno::EAGAIN);
                        break 'redo;
                    }
                    drop(io);
                    let waited = sock_wait(&self.wait, &mut timeo, || {
                        let st = self.st.lock();
                        st.queue.len() != seen
                            || st.err != 0
                            || st.shutdown & RCV_SHUTDOWN != 0
                            || st.dead
                    });
                    if let Err(e) = waited {
                        return if copied > 0 {
                            Ok((copied, meta))
                        } else {
                            Err(e)
                        };
                    }
                    continue 'redo;
                };
                let (cred, addr) = match &taken {
                    Taken::Owned(s) => (s.cred, s.addr.clone()),
                    Taken::Peeked(c) => (c.cred, c.addr.clone()),
                };
                if let Some(c) = creds {
                    // Never glue messages from different writers.
                    if c != cred {
                        self.put_back(taken);
                        break 'redo;
                    }
                } else if passcred {
                    creds = Some(cred);
                    meta.cred = Some(cred);
                }
                if !got_addr {
                    meta.addr = addr;
                    got_addr = true;
                }
                match taken {
                    Taken::Owned(mut s) => {
                        let chunk = s.len().min(size);
                        let n = to.copy_to_iter(&s.data[s.consumed..s.consumed + chunk]);
                        if n < chunk {
                            self.st.lock().queue.push_front(s);
                            if copied == 0 {
                                err = Some(Errno::EFAULT);
                            }
                            break 'redo;
                        }
                        copied += chunk;
                        size -= chunk;
                        s.consumed += chunk;
                        let had_fds = !s.fds.is_empty();
                        if had_fds {
                            let fds = s.take_fds();
                            meta.fds.extend(fds);
                        }
                        if s.len() > 0 {
                            self.st.lock().queue.push_front(s);
                            break 'redo;
                        }
                        drop(s);
                        self.wake();
                        if had_fds {
                            break 'redo;
                        }
                    }
                    Taken::Peeked(c) => {
                        let chunk = c.data.len().min(size);
                        let n = to.copy_to_iter(&c.data[..chunk]);
                        if n < chunk {
                            if copied == 0 {
                                err = Some(Errno::EFAULT);
                            }
                            break 'redo;
                        }
                        copied += chunk;
                        size -= chunk;
                        let had_fds = !c.fds.is_empty();
                        meta.fds.extend(c.fds);
                        if had_fds || chunk < c.data.len() {
                            break 'redo;
                        }
                        peek_index += 1;
                        peek_skip = 0;
                        // Peeking past the queue's end ends the read.
                        if self.st.lock().queue.len() <= peek_index {
                            break 'redo;
                        }
                    }
                }
            }
        }
        self.wake();
        if copied > 0 {
            Ok((copied, meta))
        } else if let Some(e) = err {
            Err(e)
        } else {
            Ok((0, meta))
        }
    }

    /// Put a message taken for a stream read back at the head of the queue.
    fn put_back(&self, taken: Taken) {
        if let Taken::Owned(s) = taken {
            self.st.lock().queue.push_front(s);
        }
    }

    /// What the socket is ready for (Linux's `unix_poll` and `unix_dgram_poll`).
    fn poll_mask(&self) -> u32 {
        let st = self.st.lock();
        let mut mask = 0;
        if st.err != 0 {
            mask |= POLLERR;
        }
        if st.shutdown == SHUTDOWN_MASK {
            mask |= POLLHUP;
        }
        if st.shutdown & RCV_SHUTDOWN != 0 {
            mask |= POLLRDHUP | POLLIN | POLLRDNORM;
        }
        if !st.queue.is_empty() {
            mask |= POLLIN | POLLRDNORM;
        }
        if self.connection_based() && st.state == State::Close {
            mask |= POLLHUP;
        }
        let mut writable =
            st.state != State::Listen && self.wmem.load(Ordering::Acquire) << 2 <= st.opts.sndbuf;
        if writable && self.sock_type != SOCK_STREAM {
            if let Some(other) = st.peer.clone() {
                drop(st);
                let ost = other.st.lock();
                let peer_is_me = ost
                    .peer
                    .as_ref()
                    .is_some_and(|p| core::ptr::eq(Arc::as_ptr(p), self));
                if !peer_is_me && ost.queue.len() > ost.max_backlog && !ost.dead {
                    writable = false;
                }
            }
        }
        if writable {
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        mask
    }

    /// For the garbage collector: the descriptors in this socket's queue.
    pub(super) fn queued_files(&self, f: &mut dyn FnMut(&Arc<File>)) {
        let st = self.st.lock();
        for skb in &st.queue {
            for file in &skb.fds {
                f(file);
            }
        }
    }

    /// For the garbage collector: empty the queue of a socket only garbage refers to.
    pub(super) fn purge_queue(&self) -> VecDeque<Skb> {
        core::mem::take(&mut self.st.lock().queue)
    }
}

/// A message taken off the queue by a stream read, or a copy of one peeked at.
enum Taken {
    Owned(Skb),
    Peeked(PeekCopy),
}

/// What MSG_PEEK gives: a copy, the descriptors duplicated (Linux's `unix_peek_fds`).
struct PeekCopy {
    data: Vec<u8>,
    addr: Option<Arc<[u8]>>,
    cred: Ucred,
    fds: Vec<Arc<File>>,
}

/// A stream write that found the reader gone: SIGPIPE unless MSG_NOSIGNAL or something was
/// sent, then EPIPE or the count.
fn pipe_err(sent: usize, flags: u32) -> Result<usize, Errno> {
    if sent == 0 && flags & msg::MSG_NOSIGNAL == 0 {
        let task = crate::kernel::task::current();
        crate::kernel::signal::send_signal(task, crate::kernel::signal::sig::SIGPIPE);
    }
    if sent > 0 {
        Ok(sent)
    } else {
        Err(Errno::EPIPE)
    }
}

/// The socket bound to `addr` (Linux's `unix_find_other`): through the path's inode
/// (ENOENT and the walk's errors, EACCES without write permission, ECONNREFUSED if no
/// socket is bound there) or the abstract table (ECONNREFUSED); EPROTOTYPE for a socket of
/// another type.
fn find_other(addr: &[u8], sock_type: u32) -> Result<Arc<UnixSock>, Errno> {
    let sock = if addr[SUN_PATH_OFFSET] != 0 {
        let path = core::str::from_utf8(bsd_path(addr)).map_err(|_| Errno::ENOENT)?;
        let dentry = crate::fs::namei::lookup_at(crate::fs::namei::AT_FDCWD, path, true)?;
        crate::fs::namei::inode_permission(&dentry.inode, crate::fs::permission::MAY_WRITE)?;
        if dentry.inode.file_type() != FileType::Socket {
            return Err(Errno::ECONNREFUSED);
        }
        let key = inode_key(&dentry.inode);
        let table = BSD_SOCKETS.lock();
        let binding = table.get(&key).ok_or(Errno::ECONNREFUSED)?;
        let same = binding
            .inode
            .upgrade()
            .is_some_and(|i| Arc::ptr_eq(&i, &dentry.inode));
        if !same {
            return Err(Errno::ECONNREFUSED);
        }
        binding.sock.upgrade().ok_or(Errno::ECONNREFUSED)?
    } else {
        ABSTRACT
            .lock()
            .get(&addr[SUN_PATH_OFFSET..])
            .and_then(|w| w.upgrade())
            .ok_or(Errno::ECONNREFUSED)?
    };
    if sock.sock_type != sock_type {
        return Err(Errno::EPROTOTYPE);
    }
    Ok(sock)
}

impl Inode for UnixSock {
    fn stat(&self) -> Stat {
        Stat {
            ino: self.ino,
            mode: mode::S_IFSOCK | 0o777,
            nlink: 1,
            uid: self.owner.0,
            gid: self.owner.1,
            dev: 0x08,
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Socket
    }

    /// `read` on a socket is `recv` with no flags (Linux's `sock_read_iter`).
    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if to.count() == 0 {
            return Ok(0);
        }
        let (n, meta) = self.recvmsg(to, 0, iocb.nonblock())?;
        drop(meta);
        Ok(n)
    }

    /// `write` on a socket is `send` with no flags (Linux's `sock_write_iter`).
    fn write_iter(&self, iocb: &Kiocb, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        self.sendmsg(from, None, 0, iocb.nonblock(), Scm::default())
    }

    fn poll_read_ready(&self) -> bool {
        // The socket decides for itself whether a read blocks (File::read's shortcut
        // must not answer EAGAIN for it: a stream read on an unconnected socket is
        // EINVAL).
        true
    }

    fn poll_write_ready(&self) -> bool {
        true
    }

    fn poll(&self, _file_flags: u32) -> u32 {
        self.poll_mask()
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64, Errno> {
        const SIOCINQ: u32 = 0x541b; // FIONREAD
        const SIOCOUTQ: u32 = 0x5411; // TIOCOUTQ
        let n = match cmd {
            SIOCINQ => self.inq_len()?,
            SIOCOUTQ => self.outq_len(),
            _ => return Err(Errno::ENOTTY),
        };
        crate::arch::uaccess::copy_to_user(arg, &(n as i32).to_le_bytes())?;
        Ok(0)
    }

    /// A socket cannot be opened by path (Linux's `sock_no_open`).
    fn open(&self, file_flags: u32) -> Result<(), Errno> {
        if file_flags & crate::fs::file::flags::O_PATH != 0 {
            return Ok(());
        }
        Err(Errno::ENXIO)
    }

    fn release(&self, file_flags: u32) {
        if file_flags & crate::fs::file::flags::O_PATH != 0 {
            return;
        }
        self.release_sock(false);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The UNIX socket behind `file`, if it is one.
pub fn unix_sock_of(file: &File) -> Option<Arc<UnixSock>> {
    file.inode
        .as_any()
        .downcast_ref::<UnixSock>()
        .map(|s| s.arc())
}
