// SPDX-License-Identifier: GPL-2.0

//! The forwarding tables 0..63 and their lifetime rules (those of rtpengine 10.5):
//! `add` of an existing id → EEXIST, `del` of a missing one → ENOENT, `del` while the
//! table's control file is open → EBUSY, one control opener at a time → EBUSY.
//!
//! Tables are reference counted. The registry owns one reference per live table and
//! publishes a raw pointer for the packet path, which reads it under RCU (netfilter
//! hooks run inside `rcu_read_lock`); `del` unpublishes, waits for a grace period, and
//! only then drops its reference.

use crate::ffi;
use crate::proc::dir::ProcDir;
use crate::proc::tree;
use crate::rtpengine_core::abi::MAX_TABLES;
use crate::tables::recording::TableRecording;
use crate::tables::targets::Targets;
use core::ops::Deref;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

pub(crate) const NUM_TABLES: usize = MAX_TABLES as usize;

/// One forwarding table.
#[pin_data]
pub(crate) struct Table {
    pub(crate) id: u32,
    /// tgid of the process holding `N/control` open, 0 when none. Set under
    /// `Registry::tables` so that `del` and `open` cannot race; see `ControlClaim`.
    control_pid: AtomicU32,
    /// Open files holding this table (shown as the refcount in `status`).
    open_files: AtomicU32,
    #[pin]
    pub(crate) targets: Targets,
    /// Recorded calls and streams (`N/calls/`).
    #[pin]
    pub(crate) recording: TableRecording,
}

impl Table {
    pub(crate) fn control_pid(&self) -> u32 {
        self.control_pid.load(Ordering::Relaxed)
    }
    pub(crate) fn open_files(&self) -> u32 {
        self.open_files.load(Ordering::Relaxed)
    }
    pub(crate) fn num_targets(&self) -> u32 {
        self.targets.len()
    }
}

/// A table held by an open file: counted in the refcount `status` shows.
pub(crate) struct TableRef(Arc<Table>);

impl TableRef {
    fn new(table: Arc<Table>) -> Self {
        table.open_files.fetch_add(1, Ordering::Relaxed);
        TableRef(table)
    }
}

impl Deref for TableRef {
    type Target = Table;

    fn deref(&self) -> &Table {
        &self.0
    }
}

impl Drop for TableRef {
    fn drop(&mut self) {
        self.0.open_files.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The open `N/control` of a table: at most one exists per table, and `del` is refused
/// while it does. A single store releases it: `del` and a second open read the owner
/// under the registry's lock, and either sees the file open or closed, both consistent.
pub(crate) struct ControlClaim(TableRef);

impl Deref for ControlClaim {
    type Target = Table;

    fn deref(&self) -> &Table {
        &self.0
    }
}

impl Drop for ControlClaim {
    fn drop(&mut self) {
        self.0.control_pid.store(0, Ordering::Relaxed);
    }
}

/// The module's /proc directories.
struct Dirs {
    root: Option<ProcDir>,
    tables: [Option<ProcDir>; NUM_TABLES],
}

/// All tables of the module.
#[pin_data]
pub(crate) struct Registry {
    /// Owning references, by id. Short critical sections, process context only.
    #[pin]
    tables: Mutex<[Option<Arc<Table>>; NUM_TABLES]>,
    /// /proc/rtpengine and its per-table directories. Held for the whole of `add`/`del`
    /// so that the directory of a deleted table is gone before the id can be added again.
    #[pin]
    dirs: Mutex<Dirs>,
    /// Pointers into `tables` for the packet path (RCU readers).
    published: [AtomicPtr<Table>; NUM_TABLES],
}

static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(ptr::null_mut());

/// The module's registry, from a callback that procfs or x_tables invoked.
pub(crate) fn registry() -> Option<&'static Registry> {
    let p = REGISTRY.load(Ordering::Acquire);
    // SAFETY: `REGISTRY` points to the pinned registry from `install` until `uninstall`,
    // which runs only after every /proc entry and the x_tables target (the only callers)
    // are gone, so no caller can observe a dangling pointer.
    unsafe { p.as_ref() }
}

impl Registry {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Registry {
            tables <- kernel::new_mutex!([const { None }; NUM_TABLES], "rtpengine_tables"),
            dirs <- kernel::new_mutex!(
                Dirs { root: None, tables: [const { None }; NUM_TABLES] },
                "rtpengine_dirs"
            ),
            published: [const { AtomicPtr::new(ptr::null_mut()) }; NUM_TABLES],
        }? Error)
    }

    /// Makes `self` reachable from callbacks. Call before creating any /proc entry.
    pub(crate) fn install(self: Pin<&Self>) {
        REGISTRY.store(
            self.get_ref() as *const Self as *mut Self,
            Ordering::Release,
        );
    }

    /// Undoes `install`; call after all callbacks are gone.
    pub(crate) fn uninstall(&self) {
        REGISTRY.store(ptr::null_mut(), Ordering::Release);
    }

    /// `add N`.
    pub(crate) fn add(&self, id: u32) -> Result {
        let idx = index(id)?;
        let mut dirs = self.dirs.lock();
        // Gone only while the module is being unloaded.
        let Some(root) = dirs.root.as_ref() else {
            return Err(ENODEV);
        };
        let table = {
            let mut tables = self.tables.lock();
            if tables[idx].is_some() {
                return Err(EEXIST);
            }
            // A table pins the module, as in 10.5: rmmod is refused while tables exist.
            // SAFETY: plain call into module refcounting.
            if !unsafe { ffi::rtpe_module_get() } {
                return Err(ENXIO);
            }
            let table = match Arc::pin_init(
                try_pin_init!(Table {
                    id,
                    control_pid: AtomicU32::new(0),
                    open_files: AtomicU32::new(0),
                    targets <- Targets::new(),
                    recording <- TableRecording::new(),
                }? Error),
                GFP_KERNEL,
            ) {
                Ok(t) => t,
                Err(e) => {
                    // SAFETY: balances the successful `rtpe_module_get` above.
                    unsafe { ffi::rtpe_module_put() };
                    return Err(e);
                }
            };
            tables[idx] = Some(table.clone());
            table
        };
        match tree::create_table_dir(id, root) {
            Ok((dir, calls)) => {
                table.recording.set_calls_dir(calls);
                dirs.tables[idx] = Some(dir);
            }
            Err(e) => {
                drop(dirs);
                pr_warn!("cannot create /proc/rtpengine/{}: {:?}\n", id, e);
                self.unlink(idx);
                return Err(e);
            }
        }
        self.published[idx].store(&*table as *const Table as *mut Table, Ordering::Release);
        Ok(())
    }

    /// `del N`.
    pub(crate) fn del(&self, id: u32) -> Result {
        let idx = index(id)?;
        let mut dirs = self.dirs.lock();
        let table = {
            let mut tables = self.tables.lock();
            match &tables[idx] {
                None => return Err(ENOENT),
                Some(t) if t.control_pid() != 0 => return Err(EBUSY),
                Some(_) => {}
            }
            self.published[idx].store(ptr::null_mut(), Ordering::Release);
            tables[idx].take()
        };
        // Recorded calls first: their entries live below the table's directory.
        if let Some(table) = &table {
            table.recording.clear();
        }
        // Removing the directory waits for running callbacks and releases open files.
        drop(dirs.tables[idx].take());
        drop(dirs);
        if let Some(table) = table {
            self.retire(table);
        }
        Ok(())
    }

    /// Unpublishes and drops the registry's reference to table `idx`.
    fn unlink(&self, idx: usize) {
        let table = self.tables.lock()[idx].take();
        self.published[idx].store(ptr::null_mut(), Ordering::Release);
        if let Some(table) = table {
            self.retire(table);
        }
    }

    /// Drops the registry's reference to an unpublished table.
    fn retire(&self, table: Arc<Table>) {
        // SAFETY: plain call; waits until no packet-path reader can still hold the
        // pointer that was unpublished before.
        unsafe { kernel::bindings::synchronize_rcu() };
        drop(table);
        // SAFETY: balances the `rtpe_module_get` of `add`.
        unsafe { ffi::rtpe_module_put() };
    }

    /// Creates /proc/rtpengine with its `control` (0220) and `list` (0444).
    pub(crate) fn create_proc(&self) -> Result {
        let root = tree::create_root()?;
        self.dirs.lock().root = Some(root);
        Ok(())
    }

    /// Module exit: removes /proc/rtpengine (waiting for running callbacks) and deletes
    /// any table left (normally none: tables pin the module).
    pub(crate) fn shutdown(&self) {
        let (root, tables) = {
            let mut dirs = self.dirs.lock();
            (
                dirs.root.take(),
                core::mem::replace(&mut dirs.tables, [const { None }; NUM_TABLES]),
            )
        };
        // Recorded calls before the directories they live in.
        for t in self.tables.lock().iter().flatten() {
            t.recording.clear();
        }
        // Outside the lock: a running `add`/`del` callback may be waiting for it.
        drop(tables);
        drop(root);
        for idx in 0..NUM_TABLES {
            self.unlink(idx);
        }
    }

    /// A counted reference to table `id`, for a file being opened.
    pub(crate) fn get(&self, id: u32) -> Result<TableRef> {
        let idx = index(id)?;
        let table = self.tables.lock()[idx].clone().ok_or(ENOENT)?;
        Ok(TableRef::new(table))
    }

    /// Marks `N/control` as opened by `pid` until the claim is dropped; a second opener
    /// gets EBUSY.
    pub(crate) fn claim_control(&self, id: u32, pid: u32) -> Result<ControlClaim> {
        let idx = index(id)?;
        let tables = self.tables.lock();
        let table = tables[idx].as_ref().ok_or(ENOENT)?;
        if table.control_pid() != 0 {
            return Err(EBUSY);
        }
        // A pid of 0 would read as "closed"; tgids are never 0 for user processes.
        table.control_pid.store(pid.max(1), Ordering::Relaxed);
        Ok(ControlClaim(TableRef::new(table.clone())))
    }

    /// Ids of the existing tables, ascending.
    pub(crate) fn ids(&self) -> [bool; NUM_TABLES] {
        let tables = self.tables.lock();
        let mut ids = [false; NUM_TABLES];
        for (i, t) in tables.iter().enumerate() {
            ids[i] = t.is_some();
        }
        ids
    }

    /// Table `id` for the packet path.
    ///
    /// # Safety
    /// The caller must be inside an RCU read-side critical section and must not use the
    /// reference after leaving it.
    pub(crate) unsafe fn published(&self, id: u32) -> Option<&Table> {
        let p = self.published.get(id as usize)?.load(Ordering::Acquire);
        // SAFETY: a published pointer refers to a table kept alive by `tables` until
        // `unlink` has unpublished it and waited for a grace period; the caller is in a
        // read-side section, so that grace period has not ended.
        unsafe { p.as_ref() }
    }
}

fn index(id: u32) -> Result<usize> {
    if id < MAX_TABLES {
        Ok(id as usize)
    } else {
        Err(EINVAL)
    }
}
