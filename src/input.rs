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
