//! Opening and reading input files without hanging or running out of memory:
//! only regular files are read whole (a FIFO would block, a device never
//! ends), a file is opened non-blocking and its type checked on the open
//! handle, and size limits apply to the bytes actually read, not to what
//! the metadata says.
//! It must not parse anything: callers get bytes or a reader.

use std::fs::{File, FileType, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("`{}` is larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
}

/// Keeps the first of the paths that name one file however they are spelt
/// (`x`, `./x`, absolute, through `..` or a link), so that a file given twice
/// is read once; a path that cannot be resolved is kept as written.
pub fn dedup_same_files(paths: &mut Vec<PathBuf>) {
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));
}

/// What a file that is not a regular file is, in words.
pub fn kind_of(ft: FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Opens `path` for reading if it is a regular file (through symlinks). Its
/// type is looked at before opening, so a FIFO is not opened at all; the open
/// does not block, and the type is checked again on the open handle, so a
/// file swapped for a FIFO in between is still caught.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let ft = std::fs::metadata(path).map_err(io)?.file_type();
    if !ft.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(ft),
        });
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let ft = file.metadata().map_err(io)?.file_type();
    if !ft.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(ft),
        });
    }
    Ok(file)
}

/// Which end of a FIFO a command opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FifoEnd {
    Read,
    Write,
}

/// How long opening a FIFO waits for a process at its other end (`arrears
/// batch --out p & gzip < p` may start the reader a moment later).
pub const FIFO_PEER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the FIFO `path` at `end`, waiting at most `wait` for a process to
/// open its other end; `Ok(None)` when none came. Opening a FIFO blocks until
/// its other end is open, so without a peer it would wait for ever, silently:
/// the open is made on a thread, and when the wait is over it is released by
/// opening the other end without blocking, and closed.
pub fn open_fifo(
    path: &Path,
    end: FifoEnd,
    wait: std::time::Duration,
) -> std::io::Result<Option<File>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let target = path.to_path_buf();
    std::thread::spawn(move || {
        let opened = match end {
            FifoEnd::Read => OpenOptions::new().read(true).open(&target),
            FifoEnd::Write => OpenOptions::new().write(true).open(&target),
        };
        let _ = tx.send(opened);
    });
    match rx.recv_timeout(wait) {
        Ok(opened) => opened.map(Some),
        Err(_) => {
            let other = match end {
                FifoEnd::Read => OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path),
                FifoEnd::Write => OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path),
            };
            // Released, the thread's open returns (a peer that came meanwhile is dropped too).
            if other.is_ok() {
                let _ = rx.recv();
            }
            Ok(None)
        }
    }
}

/// The bytes of the regular file `path`, refused past `limit` bytes read.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    read_limited(file, limit).map_err(|e| match e {
        LimitedError::Io(source) => ReadError::Io {
            path: path.to_path_buf(),
            source,
        },
        LimitedError::TooLarge => ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        },
    })
}

#[derive(Debug)]
pub enum LimitedError {
    Io(std::io::Error),
    TooLarge,
}

/// Everything `input` gives, or `TooLarge` once it gives more than `limit`
/// bytes (it is read no further).
pub fn read_limited(input: impl Read, limit: u64) -> Result<Vec<u8>, LimitedError> {
    let mut bytes = Vec::new();
    input
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(LimitedError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(LimitedError::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(dir: &Path) -> PathBuf {
        let path = dir.join("p");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        path
    }

    /// Either end of a FIFO waits a while for its peer, then gives up
    /// instead of blocking for ever; with a peer it is an ordinary pipe.
    #[test]
    fn a_fifo_end_waits_for_its_peer_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = mkfifo(dir.path());
        let wait = std::time::Duration::from_millis(200);
        for end in [FifoEnd::Read, FifoEnd::Write] {
            let started = std::time::Instant::now();
            assert!(open_fifo(&fifo, end, wait).unwrap().is_none());
            assert!(started.elapsed() >= wait);
        }
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, b"rows\n").unwrap())
        };
        let mut read = String::new();
        let file = open_fifo(&fifo, FifoEnd::Read, FIFO_PEER_WAIT)
            .unwrap()
            .unwrap();
        std::io::Read::read_to_string(&mut &file, &mut read).unwrap();
        writer.join().unwrap();
        assert_eq!(read, "rows\n");
    }

    #[test]
    fn a_limit_counts_the_bytes_read() {
        assert_eq!(read_limited(&b"12345"[..], 5).unwrap(), b"12345");
        assert!(matches!(
            read_limited(&b"123456"[..], 5),
            Err(LimitedError::TooLarge)
        ));
        // An endless reader stops one byte past the limit.
        assert!(matches!(
            read_limited(std::io::repeat(b'x'), 1000),
            Err(LimitedError::TooLarge)
        ));
    }
}
