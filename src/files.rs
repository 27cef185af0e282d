//! The files fsx-migrate writes beside the operator's — the plan's checkpoint, the simulator's world — are
//! replaced atomically and guarded by an exclusive lock file. One implementation for both.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Failure, io_failure};

/// The file a path names, symlinks followed (also a dangling one, whose target is yet to be created).
pub fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(target) => {
                current = match current.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                }
            }
            Err(_) => break,
        }
    }
    current
}

/// What a write must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A power loss too: the file and its directory are fsynced (the plan: its checkpoint is the migration's
    /// memory).
    PowerLoss,
    /// The writer's crash (SIGKILL): the renamed file is in the page cache. For the simulator's world, which
    /// stands in for the cloud and is written on every call: fsyncing it made rehearsals I/O-bound.
    ProcessCrash,
}

/// Writes a file so that a reader sees the old or the new content, never a mix (invariant 4), durably.
///
/// A symlink is followed: its target is replaced, the link stays. The file keeps its permissions.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    write_atomically_with(path, bytes, Durability::PowerLoss)
}

/// [`write_atomically`] with the durability the file needs.
pub fn write_atomically_with(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), Failure> {
    let real = resolve(path);
    let permissions = std::fs::metadata(&real).ok().map(|m| m.permissions());
    match durability {
        Durability::PowerLoss => {
            let mut file =
                atomic_write_file::AtomicWriteFile::open(&real).map_err(|e| io_failure("write", path, e))?;
            file.write_all(bytes).map_err(|e| io_failure("write", path, e))?;
            file.commit().map_err(|e| io_failure("write", path, e))?;
        }
        Durability::ProcessCrash => {
            let mut name = real.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(format!(".tmp-{}", std::process::id()));
            let temp = real.with_file_name(name);
            std::fs::write(&temp, bytes).map_err(|e| io_failure("write", &temp, e))?;
            std::fs::rename(&temp, &real).map_err(|e| io_failure("replace", path, e))?;
        }
    }
    if let Some(permissions) = permissions
        && std::fs::metadata(&real).is_ok_and(|m| m.permissions() != permissions)
    {
        std::fs::set_permissions(&real, permissions)
            .map_err(|e| io_failure("set permissions of", path, e))?;
    }
    Ok(())
}

/// An exclusive lock on a file, taken on a `.lock` file beside it and held until dropped or the process dies.
/// The lock file names the holder's pid, for the message of whoever finds it taken.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// The lock file that sits beside `file`.
    pub fn path_for(file: &Path) -> PathBuf {
        let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".lock");
        file.with_file_name(name)
    }

    /// Takes the lock if no other process holds it.
    pub fn try_acquire(file: &Path) -> Result<Option<FileLock>, Failure> {
        let path = FileLock::path_for(file);
        let mut lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_failure("open lock file", &path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io_failure("lock", &path, e)),
        }
        lock.set_len(0)
            .map_err(|e| io_failure("write lock file", &path, e))?;
        let _ = write!(lock, "pid {}", std::process::id());
        Ok(Some(FileLock { _file: lock }))
    }

    /// Whether another process holds the lock on `file` now, without taking it (a shared lock, tried and
    /// dropped at once: for the instant it is held, another process's exclusive `try_acquire` would fail, so
    /// only read-only commands such as `status` ask).
    pub fn is_held(file: &Path) -> bool {
        let Ok(lock) = File::open(FileLock::path_for(file)) else {
            return false;
        };
        matches!(lock.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
    }

    /// The failure of a process that finds `file` locked by another: `headline`, and who holds it.
    pub fn in_use(file: &Path, headline: String) -> Failure {
        let path = FileLock::path_for(file);
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        Failure::user(headline).cause(format!(
            "lock file {} is held by {}",
            path.display(),
            holder.trim()
        ))
    }
}
