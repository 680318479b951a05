//! A SQLite VFS that keeps files in memory and models durability honestly,
//! for crash tests. A write reaches a volatile layer (what reads see) and only
//! xSync makes it durable; a crash keeps the durable layer and may tear the
//! writes not yet synced (keep a prefix of them, or a random subset of their
//! sectors). A fault plan fails the Nth read, write, sync, truncate or lock
//! (of the database file or of the WAL index) of
//! a volume with the error code a real disk gives (SQLITE_IOERR_*, SQLITE_FULL).
//!
//! Paths `/crash-vfs/<volume>/<file>` are files of a volume; any other path
//! (the scratch database `check` attaches, temporary files) goes to the
//! default VFS. A volume serves one connection at a time, so locks are granted
//! without tracking other holders, and its shared memory (the WAL index) is
//! plain memory, lost in a crash as a power cut loses it.
//!
//! Every `unsafe` block of the crash tests is in this module.

use std::cell::UnsafeCell;
use std::collections::BTreeMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::ffi;

/// The name the VFS is registered under.
pub const VFS: &str = "girok-crash";
const VFS_NAME: &CStr = c"girok-crash";
const ROOT: &str = "/crash-vfs/";
/// The unit in which unsynced writes are torn.
const SECTOR: usize = 512;

/// The kinds of operation a fault plan can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
    Sync,
    Truncate,
    Lock,
}

impl Op {
    pub const ALL: [Op; 5] = [Op::Read, Op::Write, Op::Sync, Op::Truncate, Op::Lock];
}

/// Which operation fails, and how.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    pub op: Op,
    /// The operation of this kind that fails, counted from 1 after arming.
    pub nth: u64,
    /// Every later operation of this kind fails too (a disk that died).
    pub persistent: bool,
    /// A failed write puts a prefix of its sectors in the volatile layer;
    /// a failed sync loses the unsynced writes: reads still see them but they
    /// never become durable (what Linux does to dirty pages when fsync fails).
    pub partial: bool,
    /// A failed write reports a full disk rather than an I/O error.
    pub full: bool,
}

/// What a crash does to the writes that were not synced.
#[derive(Debug, Clone, Copy)]
pub enum Crash {
    /// They are all lost, and so are the deletes since the directory was last synced.
    Discard,
    /// The first few reached the disk, the next one up to a sector boundary
    /// (and each delete since the directory was last synced, or not).
    Prefix,
    /// A random subset of the sectors they changed reached the disk, the file
    /// has either its synced length or its latest one (and each delete since
    /// the directory was last synced happened or not).
    Sectors,
}

impl Crash {
    pub const ALL: [Crash; 3] = [Crash::Discard, Crash::Prefix, Crash::Sectors];
}

enum Unsynced {
    Write { offset: usize, data: Vec<u8> },
    Truncate(usize),
}

impl Unsynced {
    fn apply(&self, image: &mut Vec<u8>) {
        match self {
            Unsynced::Write { offset, data } => write_at(image, *offset, data),
            Unsynced::Truncate(size) => image.resize(*size, 0),
        }
    }
}

fn write_at(image: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if image.len() < offset + data.len() {
        image.resize(offset + data.len(), 0);
    }
    image[offset..offset + data.len()].copy_from_slice(data);
}

#[derive(Default)]
struct File {
    /// What reads see.
    volatile: Vec<u8>,
    /// What survives a crash.
    durable: Vec<u8>,
    /// Changes since the last sync, oldest first: the next sync makes them durable.
    unsynced: Vec<Unsynced>,
    /// Its next sync also syncs the directory.
    syncs_directory: bool,
}

impl File {
    fn synced(image: Vec<u8>) -> File {
        File {
            volatile: image.clone(),
            durable: image,
            unsynced: Vec::new(),
            syncs_directory: false,
        }
    }

    /// The image a crash leaves on the disk.
    fn after_crash(&self, crash: Crash, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let mut image = self.durable.clone();
        match crash {
            Crash::Discard => {}
            Crash::Prefix => {
                let kept = rng.random_range(0..=self.unsynced.len());
                for change in &self.unsynced[..kept] {
                    change.apply(&mut image);
                }
                if let Some(Unsynced::Write { offset, data }) = self.unsynced.get(kept) {
                    let cut = rng.random_range(0..=data.len().div_ceil(SECTOR)) * SECTOR;
                    write_at(&mut image, *offset, &data[..cut.min(data.len())]);
                }
            }
            Crash::Sectors => {
                let mut latest = self.durable.clone();
                for change in &self.unsynced {
                    change.apply(&mut latest);
                }
                let len = if rng.random_bool(0.5) {
                    latest.len()
                } else {
                    image.len()
                };
                image.resize(len, 0);
                for start in (0..len).step_by(SECTOR) {
                    let end = (start + SECTOR).min(len).min(latest.len());
                    if start < end
                        && image[start..end] != latest[start..end]
                        && rng.random_bool(0.5)
                    {
                        image[start..end].copy_from_slice(&latest[start..end]);
                    }
                }
            }
        }
        image
    }
}

#[derive(Default)]
struct Disk {
    files: BTreeMap<String, File>,
    /// Files deleted since the directory was last synced, with their durable
    /// content: a crash may bring them back. (A file's creation is durable at once.)
    unlinked: BTreeMap<String, Vec<u8>>,
    /// The WAL index's regions, written by SQLite through the pointers xShmMap hands out.
    shm: Vec<Box<[UnsafeCell<u8>]>>,
    fault: Option<Fault>,
    /// Operations of the armed fault's kind seen since it was armed.
    seen: u64,
    /// Faults injected so far.
    fired: u64,
    /// Operations of each kind (in the order of [`Op::ALL`]) outside the test's bookkeeping.
    operations: [u64; 5],
    /// The test's own bookkeeping is running: nothing fails and nothing is counted.
    quiet: bool,
    /// The volume crashed: whatever its old connection still does fails.
    dead: bool,
    /// Chooses how much of a failed write lands.
    rng: Option<ChaCha8Rng>,
}

impl Disk {
    /// Whether `op` fails now, counting it if a fault of its kind is armed.
    fn fails(&mut self, op: Op) -> Option<Fault> {
        if self.dead {
            return Some(Fault {
                op,
                nth: 0,
                persistent: true,
                partial: false,
                full: false,
            });
        }
        if !self.quiet {
            self.operations[op as usize] += 1;
        }
        let fault = self.fault.filter(|f| f.op == op && !self.quiet)?;
        self.seen += 1;
        let hit = if fault.persistent {
            self.seen >= fault.nth
        } else {
            self.seen == fault.nth
        };
        if hit {
            self.fired += 1;
        }
        hit.then_some(fault)
    }

    fn file(&mut self, name: &str) -> Option<&mut File> {
        self.files.get_mut(name)
    }
}

static VOLUMES: Mutex<BTreeMap<u64, Arc<Mutex<Disk>>>> = Mutex::new(BTreeMap::new());
static NEXT_VOLUME: AtomicU64 = AtomicU64::new(1);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not turn into one inside a callback from C.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A set of in-memory files that a database lives in, with its fault plan.
pub struct Volume {
    id: u64,
    disk: Arc<Mutex<Disk>>,
}

impl Volume {
    pub fn empty() -> Volume {
        register();
        Self::holding(Disk::default())
    }

    fn holding(disk: Disk) -> Volume {
        let id = NEXT_VOLUME.fetch_add(1, Ordering::Relaxed);
        let disk = Arc::new(Mutex::new(disk));
        lock(&VOLUMES).insert(id, disk.clone());
        Volume { id, disk }
    }

    /// The name of the database in this volume, for [`VFS`].
    pub fn database(&self) -> String {
        format!("{ROOT}{}/girok.sqlite", self.id)
    }

    /// From now on `fault` is injected (counting from zero again).
    pub fn arm(&self, fault: Fault, seed: u64) {
        let mut disk = lock(&self.disk);
        disk.fault = Some(fault);
        disk.seen = 0;
        disk.rng = Some(ChaCha8Rng::seed_from_u64(seed));
    }

    /// How many faults were injected so far.
    pub fn fired(&self) -> u64 {
        lock(&self.disk).fired
    }

    /// How many operations of each kind (in the order of [`Op::ALL`]) the
    /// store performed so far.
    pub fn operations(&self) -> [u64; 5] {
        lock(&self.disk).operations
    }

    /// Runs `work` (the test's own reads) with no fault injected or counted.
    pub fn quiet<T>(&self, work: impl FnOnce() -> T) -> T {
        lock(&self.disk).quiet = true;
        let result = work();
        lock(&self.disk).quiet = false;
        result
    }

    /// A power cut: a new volume holding what reached the disk, torn as
    /// `crash` says; this one fails everything its connection still does.
    pub fn crash(&self, crash: Crash, rng: &mut ChaCha8Rng) -> Volume {
        let mut disk = lock(&self.disk);
        disk.dead = true;
        let mut files: BTreeMap<String, File> = disk
            .files
            .iter()
            .map(|(name, file)| (name.clone(), File::synced(file.after_crash(crash, rng))))
            .collect();
        for (name, image) in &disk.unlinked {
            if matches!(crash, Crash::Discard) || rng.random_bool(0.5) {
                files.insert(name.clone(), File::synced(image.clone()));
            }
        }
        Self::holding(Disk {
            files,
            ..Disk::default()
        })
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        lock(&VOLUMES).remove(&self.id);
    }
}

/// An open file of a volume. SQLite allocates it (`szOsFile` bytes) and
/// xOpen fills it in; xClose drops it.
#[repr(C)]
struct Handle {
    base: ffi::sqlite3_file,
    disk: Arc<Mutex<Disk>>,
    name: String,
}

/// The volume and file name of a path of this VFS.
fn parse(path: &CStr) -> Option<(u64, &str)> {
    let rest = path.to_str().ok()?.strip_prefix(ROOT)?;
    let (volume, name) = rest.split_once('/')?;
    Some((volume.parse().ok()?, name))
}

fn register() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: sqlite3_vfs_find(NULL) initialises SQLite and returns the
        // default VFS, which lives as long as the process.
        let default = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
        assert!(!default.is_null(), "SQLite has no default VFS");
        // SAFETY: `default` is a valid VFS (checked above), only read here.
        let (default_size, max_path) = unsafe { ((*default).szOsFile, (*default).mxPathname) };
        let own_size = c_int::try_from(size_of::<Handle>()).expect("handle size");
        let vfs = Box::leak(Box::new(ffi::sqlite3_vfs {
            iVersion: 2,
            // Big enough for our handles and for the default VFS's files it opens.
            szOsFile: own_size.max(default_size),
            mxPathname: max_path,
            pNext: ptr::null_mut(),
            zName: VFS_NAME.as_ptr(),
            pAppData: default.cast(),
            xOpen: Some(open),
            xDelete: Some(delete),
            xAccess: Some(access),
            xFullPathname: Some(full_pathname),
            xDlOpen: None,
            xDlError: None,
            xDlSym: None,
            xDlClose: None,
            xRandomness: Some(randomness),
            xSleep: Some(sleep),
            xCurrentTime: Some(current_time),
            xGetLastError: Some(last_error),
            xCurrentTimeInt64: Some(current_time_int64),
            xSetSystemCall: None,
            xGetSystemCall: None,
            xNextSystemCall: None,
        }));
        // SAFETY: the VFS is leaked, so it outlives every connection, and
        // its callbacks match the signatures SQLite calls them with.
        let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
        assert_eq!(rc, ffi::SQLITE_OK, "cannot register the crash VFS");
    });
}

/// The default VFS, which serves every path outside the volumes.
fn default_of(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    // SAFETY: SQLite passes back the VFS registered above, whose pAppData
    // is the default VFS.
    unsafe { (*vfs).pAppData.cast() }
}

/// The path SQLite passes, if it names a file of a volume.
fn ours(path: *const c_char) -> Option<(u64, String)> {
    if path.is_null() {
        return None;
    }
    // SAFETY: a non-null path from SQLite is a NUL-terminated string.
    let path = unsafe { CStr::from_ptr(path) };
    parse(path).map(|(volume, name)| (volume, name.to_string()))
}

fn volume(id: u64) -> Option<Arc<Mutex<Disk>>> {
    lock(&VOLUMES).get(&id).cloned()
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock_file),
    xUnlock: Some(unlock_file),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    path: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some((id, name)) = ours(path) else {
        let default = default_of(vfs);
        // SAFETY: the default VFS opens its own files in the buffer SQLite
        // allocated, which is at least its szOsFile bytes (see `register`).
        return unsafe {
            match (*default).xOpen {
                Some(open) => open(default, path, file, flags, out_flags),
                None => ffi::SQLITE_CANTOPEN,
            }
        };
    };
    // SAFETY: `file` is the buffer SQLite allocated for this open; a null
    // pMethods tells it there is nothing to close if the open fails.
    unsafe { (*file).pMethods = ptr::null() };
    let Some(disk) = volume(id) else {
        return ffi::SQLITE_CANTOPEN;
    };
    {
        let mut guard = lock(&disk);
        if guard.dead {
            return ffi::SQLITE_CANTOPEN;
        }
        if !guard.files.contains_key(&name) {
            if flags & ffi::SQLITE_OPEN_CREATE == 0 {
                return ffi::SQLITE_CANTOPEN;
            }
            guard.unlinked.remove(&name);
        }
        let opened = guard.files.entry(name.clone()).or_default();
        // Like SQLite's unix VFS, which syncs the directory at the first sync
        // of a journal or WAL it opened to create.
        let journal =
            ffi::SQLITE_OPEN_MAIN_JOURNAL | ffi::SQLITE_OPEN_SUPER_JOURNAL | ffi::SQLITE_OPEN_WAL;
        if flags & ffi::SQLITE_OPEN_CREATE != 0 && flags & journal != 0 {
            opened.syncs_directory = true;
        }
    }
    // SAFETY: the buffer is szOsFile bytes, at least a Handle, and aligned
    // as SQLite aligns every allocation (8 bytes, a Handle's alignment);
    // out_flags, when not null, points to an int.
    unsafe {
        ptr::write(
            file.cast::<Handle>(),
            Handle {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                disk,
                name,
            },
        );
        if !out_flags.is_null() {
            *out_flags = flags;
        }
    }
    ffi::SQLITE_OK
}

extern "C" fn delete(vfs: *mut ffi::sqlite3_vfs, path: *const c_char, sync_dir: c_int) -> c_int {
    let Some((id, name)) = ours(path) else {
        let default = default_of(vfs);
        // SAFETY: a path outside the volumes is the default VFS's to delete.
        return unsafe {
            match (*default).xDelete {
                Some(delete) => delete(default, path, sync_dir),
                None => ffi::SQLITE_IOERR_DELETE,
            }
        };
    };
    let Some(disk) = volume(id) else {
        return ffi::SQLITE_IOERR_DELETE_NOENT;
    };
    let mut disk = lock(&disk);
    if disk.dead {
        return ffi::SQLITE_IOERR_DELETE;
    }
    let Some(file) = disk.files.remove(&name) else {
        return ffi::SQLITE_IOERR_DELETE_NOENT;
    };
    // A delete is durable once the directory is synced.
    if sync_dir == 0 {
        disk.unlinked.insert(name, file.durable);
    } else {
        disk.unlinked.clear();
    }
    ffi::SQLITE_OK
}

extern "C" fn access(
    vfs: *mut ffi::sqlite3_vfs,
    path: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    let Some((id, name)) = ours(path) else {
        let default = default_of(vfs);
        // SAFETY: a path outside the volumes is the default VFS's to look at.
        return unsafe {
            match (*default).xAccess {
                Some(access) => access(default, path, flags, out),
                None => ffi::SQLITE_IOERR_ACCESS,
            }
        };
    };
    let exists = volume(id).is_some_and(|disk| lock(&disk).files.contains_key(&name));
    // SAFETY: SQLite passes a pointer to the int that receives the answer.
    unsafe { *out = c_int::from(exists) };
    ffi::SQLITE_OK
}

extern "C" fn full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    path: *const c_char,
    size: c_int,
    out: *mut c_char,
) -> c_int {
    if ours(path).is_none() {
        let default = default_of(vfs);
        // SAFETY: a path outside the volumes is the default VFS's to resolve.
        return unsafe {
            match (*default).xFullPathname {
                Some(full_pathname) => full_pathname(default, path, size, out),
                None => ffi::SQLITE_CANTOPEN,
            }
        };
    }
    // Paths of the volumes are absolute already.
    // SAFETY: `path` is NUL-terminated (checked by `ours`) and `out` has
    // room for `size` bytes; the copy, NUL included, is checked to fit.
    unsafe {
        let length = CStr::from_ptr(path).to_bytes_with_nul().len();
        if length > usize::try_from(size).unwrap_or(0) {
            return ffi::SQLITE_CANTOPEN;
        }
        ptr::copy_nonoverlapping(path, out, length);
    }
    ffi::SQLITE_OK
}

extern "C" fn randomness(vfs: *mut ffi::sqlite3_vfs, size: c_int, out: *mut c_char) -> c_int {
    let default = default_of(vfs);
    // SAFETY: delegated with SQLite's own arguments.
    unsafe { (*default).xRandomness.map_or(0, |f| f(default, size, out)) }
}

extern "C" fn sleep(vfs: *mut ffi::sqlite3_vfs, microseconds: c_int) -> c_int {
    let default = default_of(vfs);
    // SAFETY: delegated with SQLite's own arguments.
    unsafe { (*default).xSleep.map_or(0, |f| f(default, microseconds)) }
}

extern "C" fn current_time(vfs: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    let default = default_of(vfs);
    // SAFETY: delegated with SQLite's own arguments.
    unsafe {
        (*default)
            .xCurrentTime
            .map_or(ffi::SQLITE_ERROR, |f| f(default, out))
    }
}

extern "C" fn current_time_int64(vfs: *mut ffi::sqlite3_vfs, out: *mut i64) -> c_int {
    let default = default_of(vfs);
    // SAFETY: delegated with SQLite's own arguments.
    unsafe {
        (*default)
            .xCurrentTimeInt64
            .map_or(ffi::SQLITE_ERROR, |f| f(default, out))
    }
}

extern "C" fn last_error(vfs: *mut ffi::sqlite3_vfs, size: c_int, out: *mut c_char) -> c_int {
    let default = default_of(vfs);
    // SAFETY: delegated with SQLite's own arguments.
    unsafe {
        (*default)
            .xGetLastError
            .map_or(0, |f| f(default, size, out))
    }
}

/// The handle behind a file SQLite passes to one of [`METHODS`].
fn handle<'a>(file: *mut ffi::sqlite3_file) -> &'a Handle {
    // SAFETY: SQLite calls METHODS only on files whose pMethods is METHODS,
    // which only `open` sets, on a Handle it wrote there; the handle lives
    // until `close`, after which SQLite makes no call on it.
    unsafe { &*file.cast::<Handle>() }
}

extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as in `handle`; SQLite closes a file once and then frees it.
    unsafe { ptr::drop_in_place(file.cast::<Handle>()) };
    ffi::SQLITE_OK
}

extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    out: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    if disk.fails(Op::Read).is_some() {
        return ffi::SQLITE_IOERR_READ;
    }
    let (Ok(amount), Ok(offset)) = (usize::try_from(amount), usize::try_from(offset)) else {
        return ffi::SQLITE_IOERR_READ;
    };
    // SAFETY: SQLite passes a buffer of `amount` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(out.cast::<u8>(), amount) };
    let data = disk.file(&handle.name).map_or(&[][..], |f| &f.volatile[..]);
    let available = data.len().saturating_sub(offset).min(amount);
    out[..available].copy_from_slice(&data[offset.min(data.len())..][..available]);
    if available < amount {
        // SQLite requires the rest of a short read to be zeroed.
        out[available..].fill(0);
        return ffi::SQLITE_IOERR_SHORT_READ;
    }
    ffi::SQLITE_OK
}

extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    let (Ok(amount), Ok(offset)) = (usize::try_from(amount), usize::try_from(offset)) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite passes a buffer of `amount` bytes.
    let data = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), amount) };
    let failed = disk.fails(Op::Write);
    let landed = match failed {
        Some(fault) if fault.partial => {
            let sectors = disk
                .rng
                .as_mut()
                .map_or(0, |rng| rng.random_range(0..amount.div_ceil(SECTOR).max(1)));
            &data[..(sectors * SECTOR).min(amount)]
        }
        Some(_) => &[][..],
        None => data,
    };
    if !landed.is_empty() {
        let Some(file) = disk.file(&handle.name) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        write_at(&mut file.volatile, offset, landed);
        file.unsynced.push(Unsynced::Write {
            offset,
            data: landed.to_vec(),
        });
    }
    match failed {
        Some(fault) if fault.full => ffi::SQLITE_FULL,
        Some(_) => ffi::SQLITE_IOERR_WRITE,
        None => ffi::SQLITE_OK,
    }
}

extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    if disk.fails(Op::Truncate).is_some() {
        return ffi::SQLITE_IOERR_TRUNCATE;
    }
    let (Ok(size), Some(file)) = (usize::try_from(size), disk.file(&handle.name)) else {
        return ffi::SQLITE_IOERR_TRUNCATE;
    };
    file.volatile.resize(size, 0);
    file.unsynced.push(Unsynced::Truncate(size));
    ffi::SQLITE_OK
}

extern "C" fn sync(file: *mut ffi::sqlite3_file, _flags: c_int) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    let failed = disk.fails(Op::Sync);
    let Some(file) = disk.file(&handle.name) else {
        return ffi::SQLITE_IOERR_FSYNC;
    };
    if let Some(fault) = failed {
        if fault.partial {
            file.unsynced.clear();
        }
        return ffi::SQLITE_IOERR_FSYNC;
    }
    for change in std::mem::take(&mut file.unsynced) {
        change.apply(&mut file.durable);
    }
    if std::mem::take(&mut file.syncs_directory) {
        disk.unlinked.clear();
    }
    ffi::SQLITE_OK
}

extern "C" fn file_size(file: *mut ffi::sqlite3_file, out: *mut i64) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    let size = disk.file(&handle.name).map_or(0, |f| f.volatile.len());
    // SAFETY: SQLite passes a pointer to the integer that receives the size.
    unsafe { *out = i64::try_from(size).unwrap_or(i64::MAX) };
    ffi::SQLITE_OK
}

extern "C" fn lock_file(file: *mut ffi::sqlite3_file, _level: c_int) -> c_int {
    let handle = handle(file);
    match lock(&handle.disk).fails(Op::Lock) {
        Some(_) => ffi::SQLITE_IOERR_LOCK,
        None => ffi::SQLITE_OK,
    }
}

extern "C" fn unlock_file(_file: *mut ffi::sqlite3_file, _level: c_int) -> c_int {
    ffi::SQLITE_OK
}

extern "C" fn check_reserved_lock(_file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: SQLite passes a pointer to the int that receives the answer.
    unsafe { *out = 0 };
    ffi::SQLITE_OK
}

extern "C" fn file_control(_file: *mut ffi::sqlite3_file, _op: c_int, _arg: *mut c_void) -> c_int {
    ffi::SQLITE_NOTFOUND
}

extern "C" fn sector_size(_file: *mut ffi::sqlite3_file) -> c_int {
    SECTOR as c_int
}

extern "C" fn device_characteristics(_file: *mut ffi::sqlite3_file) -> c_int {
    // A torn write changes only the sectors it was writing, as `Crash` tears them.
    ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE
}

extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let handle = handle(file);
    let mut disk = lock(&handle.disk);
    let (Ok(region), Ok(size)) = (usize::try_from(region), usize::try_from(size)) else {
        return ffi::SQLITE_IOERR_SHMMAP;
    };
    if disk.dead {
        return ffi::SQLITE_IOERR_SHMMAP;
    }
    if disk.shm.len() <= region && extend != 0 {
        disk.shm.resize_with(region + 1, || {
            (0..size).map(|_| UnsafeCell::new(0)).collect()
        });
    }
    let mapped = disk
        .shm
        .get(region)
        .map_or(ptr::null_mut(), |r| UnsafeCell::raw_get(r.as_ptr()).cast());
    // SAFETY: SQLite passes a pointer to the pointer that receives the region.
    unsafe { *out = mapped };
    ffi::SQLITE_OK
}

extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    _offset: c_int,
    _n: c_int,
    flags: c_int,
) -> c_int {
    // In WAL mode the database file stays locked while the connection is
    // open; every transaction takes locks of the WAL index instead.
    if flags & ffi::SQLITE_SHM_LOCK != 0 && lock(&handle(file).disk).fails(Op::Lock).is_some() {
        return ffi::SQLITE_IOERR_SHMLOCK;
    }
    ffi::SQLITE_OK
}

extern "C" fn shm_barrier(_file: *mut ffi::sqlite3_file) {
    std::sync::atomic::fence(Ordering::SeqCst);
}

extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    if delete != 0 {
        lock(&handle(file).disk).shm.clear();
    }
    ffi::SQLITE_OK
}
