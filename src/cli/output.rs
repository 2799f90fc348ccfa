//! The files `batch` (and `diff`, `generate`, `schema`, `man`) write. An output
//! path is refused when it names an input or another output; a regular file (or
//! a path not yet there) is written to a partial file beside it and renamed into
//! place only at the end; a device or FIFO is written directly (a FIFO nobody
//! reads is refused after a short wait), and a stream of the process (`-`, `/dev/stdout`,
//! `/dev/stderr`, `/dev/fd/N`) through its descriptor, never replaced; a symlink is followed
//! and its target replaced, so the link stays a link. Partial files are named
//! `.<target>.arrears-partial-<pid>`, removed on SIGINT/SIGTERM/SIGHUP, and a
//! later run removes those of dead processes for the same target.
//! It must not touch a file the user did not name.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Symbolic links followed before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// `path` with its symbolic links followed to what they finally name (which
/// may not exist yet). A loop is left to the open to report.
pub fn resolve_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            break;
        };
        if !meta.file_type().is_symlink() {
            break;
        }
        let Ok(link) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(dir) if link.is_relative() => dir.join(link),
            _ => link,
        };
    }
    path
}

/// The descriptor of this process an output path names: `-` and
/// `/dev/stdout` are 1, `/dev/stderr` 2, `/dev/fd/N`, `/proc/self/fd/N` and
/// `/proc/<own pid>/fd/N` are N, as is a symbolic link (or a chain) to one.
/// Such a path is the stream the process already has, whatever it leads to:
/// written through a copy of the descriptor, never replaced by a rename.
pub fn std_fd(path: &Path) -> Option<i32> {
    if is_std(path) {
        return Some(1);
    }
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if let Some(fd) = fd_path(&path) {
            return Some(fd);
        }
        let link = std::fs::read_link(&path).ok()?;
        path = match path.parent() {
            Some(dir) if link.is_relative() => dir.join(link),
            _ => link,
        };
    }
    None
}

/// The descriptor a path names by its text alone (see [`std_fd`]).
fn fd_path(path: &Path) -> Option<i32> {
    let text = path.to_str()?;
    match text {
        "/dev/stdin" => return Some(0),
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    let own = format!("/proc/{}/fd/", std::process::id());
    let n = ["/dev/fd/", "/proc/self/fd/", own.as_str()]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))?;
    n.parse().ok().filter(|n: &i32| *n >= 0)
}

/// What a path names: the device and inode of an existing file (of the open
/// file behind a descriptor path, a pipe's too), else the canonical directory
/// joined with the file name.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // `/dev/fd/N` stats the open file itself, pipe or socket included.
        let stat = match std_fd(path) {
            Some(fd) => std::fs::metadata(format!("/dev/fd/{fd}")),
            None => std::fs::metadata(path),
        };
        if let Ok(meta) = stat {
            return Identity::Inode(meta.dev(), meta.ino());
        }
    }
    let path = resolve_links(path);
    let canonical = match (parent_dir(&path).canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(&path).unwrap_or(path),
    };
    Identity::Path(canonical)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A path given on the command line, with how to name it in a message
/// (`the input`, `--out`).
pub struct Named<'a> {
    pub what: String,
    pub path: &'a Path,
}

/// `-` as a path: standard input or output.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The files a batch-like run reads besides its rules: `main` (the extract or
/// accounts, unless standard input or a directory), each companion file of the
/// mapping, and `more` (e.g. the open-cases list), named for messages.
pub fn read_files<'a>(
    main: (&str, &'a Path),
    mapping_lists: impl Iterator<Item = &'a str>,
    companions: &'a [std::path::PathBuf],
    more: &[(&str, Option<&'a Path>)],
) -> Vec<Named<'a>> {
    let (what, path) = main;
    let mut inputs = Vec::new();
    if !is_std(path) && !path.is_dir() {
        inputs.push(Named {
            what: what.into(),
            path,
        });
    }
    for (list, path) in mapping_lists.zip(companions) {
        inputs.push(Named {
            what: format!("the companion file for `{list}`"),
            path,
        });
    }
    inputs.extend(more.iter().filter_map(|&(what, path)| {
        path.map(|path| Named {
            what: what.into(),
            path,
        })
    }));
    inputs
}

/// The outputs given on the command line, by flag (`--out` to standard output is none).
pub fn written_files<'a>(flags: &[(&str, Option<&'a Path>)]) -> Vec<Named<'a>> {
    flags
        .iter()
        .filter_map(|&(flag, path)| {
            path.filter(|p| !is_std(p)).map(|path| Named {
                what: flag.into(),
                path,
            })
        })
        .collect()
}

/// What an output path names, for telling two apart: two outputs on one
/// descriptor always clash; two on one file clash unless it is a character
/// device (a terminal, `/dev/null`), where lines may interleave harmlessly.
struct Target {
    id: Identity,
    fd: Option<i32>,
    character_device: bool,
}

fn target(path: &Path) -> Target {
    let fd = std_fd(path);
    let meta = match fd {
        Some(fd) => std::fs::metadata(format!("/dev/fd/{fd}")),
        None => std::fs::metadata(path),
    };
    #[cfg(unix)]
    let character_device = meta.is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_char_device()
    });
    #[cfg(not(unix))]
    let character_device = {
        let _ = meta;
        false
    };
    Target {
        id: identity(path),
        fd,
        character_device,
    }
}

/// Refuses an output that is the same file as an input or as an earlier
/// output, or the same stream (`-`, `/dev/stdout` and a file standard output
/// is redirected to are one).
pub fn refuse_same_files(inputs: &[Named], outputs: &[Named]) -> Result<(), String> {
    let inputs: Vec<_> = inputs.iter().map(|n| (n, identity(n.path))).collect();
    let mut seen: Vec<(&Named, Target)> = Vec::new();
    for output in outputs {
        let out = target(output.path);
        let same_input = inputs.iter().find(|(_, other)| *other == out.id);
        let same_output = seen.iter().find(|(_, other)| {
            (out.fd.is_some() && out.fd == other.fd)
                || (other.id == out.id && !out.character_device)
        });
        let clash = same_input
            .map(|(n, _)| (*n, false))
            .or(same_output.map(|(n, other)| (*n, other.fd.is_some() || out.fd.is_some())));
        if let Some((other, stream)) = clash {
            return Err(format!(
                "{} `{}` is the same {} as {} `{}`; give each output its own file",
                output.what,
                output.path.display(),
                if stream { "stream" } else { "file" },
                other.what,
                other.path.display()
            ));
        }
        seen.push((output, out));
    }
    Ok(())
}

/// `path` as an absolute path with its links followed: the deepest part that
/// exists canonicalised, the rest (not created yet) appended as written.
fn canonical_target(path: &Path) -> PathBuf {
    let path = resolve_links(path);
    let path = std::path::absolute(&path).unwrap_or(path);
    let mut missing = Vec::new();
    let mut existing = path.as_path();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return missing.iter().rev().fold(canonical, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                existing = parent;
            }
            _ => return path,
        }
    }
}

/// Refuses an output inside a rules directory (or the directory itself): the
/// next run reads every file there as rules, a mapping or a test document, and
/// an output named like one would replace it.
pub fn refuse_inside_rules(rules: &[&Path], outputs: &[Named]) -> Result<(), String> {
    let dirs: Vec<(&Path, &str)> = rules.iter().map(|dir| (*dir, "rules")).collect();
    refuse_inside_read_dirs(&dirs, outputs)
}

/// Refuses an output inside a directory the command reads every file of (or
/// the directory itself), each given with what its files are read as
/// (`rules`, `accounts`): the next run would read the output as one of them.
pub fn refuse_inside_read_dirs(dirs: &[(&Path, &str)], outputs: &[Named]) -> Result<(), String> {
    for &(dir, read_as) in dirs {
        let Ok(dir_canonical) = dir.canonicalize() else {
            continue;
        };
        for output in outputs {
            // A stream is written through, never replaced.
            if std_fd(output.path).is_some() {
                continue;
            }
            if canonical_target(output.path).starts_with(&dir_canonical) {
                return Err(format!(
                    "{} `{}` is inside the {read_as} directory `{}`; write it outside, as every file there is read as {read_as}",
                    output.what,
                    output.path.display(),
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// Creates the directory an `--out DIR` names (and its parents); a file there
/// is named as such rather than as the OS's "File exists".
pub fn create_out_dir(dir: &Path) -> Result<(), String> {
    if let Ok(meta) = std::fs::metadata(dir) {
        if !meta.is_dir() {
            return Err(format!(
                "`{}` is {}, not a directory; --out names the directory to write into",
                dir.display(),
                crate::input::kind_of(meta.file_type())
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))
}

/// Refuses, before anything is written, a file an `--out DIR` command would
/// replace that is not a regular file: a symbolic link there would have its
/// target outside the directory replaced, and a FIFO would block the write.
pub fn refuse_special_in_dir(paths: &[PathBuf]) -> Result<(), String> {
    for path in paths {
        if let Some(kind) = not_a_regular_file(path) {
            return Err(format!(
                "`{}` is {kind}; `--out DIR` replaces only regular files there (nothing written)",
                path.display()
            ));
        }
    }
    Ok(())
}

/// What `path` is when it exists and is not a regular file (a symbolic link
/// is one, whatever it leads to): replacing it would write elsewhere or block.
pub fn not_a_regular_file(path: &Path) -> Option<&'static str> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    match meta.file_type() {
        t if t.is_symlink() => Some("a symbolic link"),
        t if t.is_file() => None,
        t => Some(crate::input::kind_of(t)),
    }
}

/// Refuses an output that is a loop of symbolic links (replacing it would
/// put a file where the link was) or a read-only file (someone protected it).
pub fn refuse_unreplaceable(path: &Path) -> Result<(), String> {
    if std_fd(path).is_some() {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Err(e) if is_link_loop(&e) => Err(format!(
            "`{}` is a loop of symbolic links (it never leads to a file); it is not replaced: give a file or a link to one",
            path.display()
        )),
        Ok(meta) if meta.is_file() && meta.permissions().readonly() => Err(format!(
            "`{}` is read-only; it is not replaced: make it writable (chmod u+w) or remove it to write a new one",
            path.display()
        )),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn is_link_loop(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_loop(_e: &std::io::Error) -> bool {
    false
}

/// A writer whose errors name the output it writes (``--changed `x.jsonl`:
/// No space left on device``), for a command writing several; the error's
/// kind is kept (a closed pipe stays one), and [`failed_output`] tells which
/// output it was.
pub struct NamedWriter<W> {
    inner: W,
    option: &'static str,
    name: String,
}

impl<W: std::io::Write> NamedWriter<W> {
    /// `inner`, the output `option` names as `path` (`None` or `-`: standard output).
    pub fn new(option: &'static str, path: Option<&Path>, inner: W) -> Self {
        NamedWriter {
            inner,
            option,
            name: output_name(option, path),
        }
    }

    fn named(&self, e: std::io::Error) -> std::io::Error {
        let kind = e.kind();
        let message = format!("{}: {e}", self.name);
        std::io::Error::new(
            kind,
            OutputError {
                option: self.option,
                message,
            },
        )
    }
}

impl<W: std::io::Write> std::io::Write for NamedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}

/// A write error of a [`NamedWriter`]: the output's option, and the message naming it.
#[derive(Debug)]
struct OutputError {
    option: &'static str,
    message: String,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OutputError {}

/// The option of the output a [`NamedWriter`] failed to write, if `e` is such an error.
pub fn failed_output(e: &std::io::Error) -> Option<&'static str> {
    let named = e.get_ref()?.downcast_ref::<OutputError>()?;
    Some(named.option)
}

/// An output as its messages name it: its option and path (``--out `o.jsonl` ``),
/// or `--out (standard output)`.
pub fn output_name(option: &str, path: Option<&Path>) -> String {
    match path {
        Some(p) if !is_std(p) => format!("{option} `{}`", p.display()),
        _ => format!("{option} (standard output)"),
    }
}

/// An output a command was asked for, as a failed run leaves it.
pub struct Asked {
    pub option: &'static str,
    pub name: String,
    /// A file put in place only when the run succeeds (or one nothing was
    /// written to yet); else a stream, written as it goes.
    pub untouched: bool,
}

impl Asked {
    pub fn new(option: &'static str, path: Option<&Path>, untouched: bool) -> Asked {
        Asked {
            option,
            name: output_name(option, path),
            untouched,
        }
    }
}

/// What a failed run left of `outputs`, but the one `failed` names (an
/// option; empty when no output failed): the streams' part written, whole
/// once the run is `done`, else incomplete, and the files not written (or,
/// when no output failed and no stream was written, `no output written`).
/// The one statement of it for `batch` and `diff`.
pub fn what_became(outputs: &[Asked], failed: &str, done: bool) -> String {
    let (untouched, streams): (Vec<&Asked>, Vec<&Asked>) = (outputs.iter())
        .filter(|o| o.option != failed)
        .partition(|o| o.untouched);
    let names = |outputs: &[&Asked]| {
        let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
        names.join(" and ")
    };
    let mut said = Vec::new();
    if !streams.is_empty() {
        said.push(format!(
            "what went to {} is {} (a stream cannot be taken back)",
            names(&streams),
            if done { "complete" } else { "incomplete" }
        ));
    }
    said.push(match untouched.as_slice() {
        // Nothing failed to be written and nothing went out: the files asked
        // for were never touched.
        _ if failed.is_empty() && streams.is_empty() => "no output written".to_string(),
        [] => "no other output written".to_string(),
        files => format!(
            "{} not written (a file already there is left as it was)",
            names(files)
        ),
    });
    said.join("; ")
}

/// An output file being written.
pub enum Output {
    /// A device or FIFO: written as it goes, nothing to take back.
    Direct(File),
    Staged(Staged),
}

impl Output {
    /// [`Output::open`] for the output `what` (`--out`, `--summary`) names: an
    /// error says which, as a command writes several.
    pub fn open_as(what: &str, path: &Path) -> Result<Output, String> {
        Output::open(path).map_err(|e| format!("{what}: {e}"))
    }

    pub fn open(path: &Path) -> Result<Output, String> {
        if let Some(fd) = std_fd(path) {
            return dup_fd(fd)
                .map(Output::Direct)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()));
        }
        let target = resolve_links(path);
        refuse_unreplaceable(path)?;
        match std::fs::metadata(&target) {
            Ok(meta) if meta.is_dir() => Err(format!("`{}` is a directory", path.display())),
            Ok(meta) if !meta.is_file() => open_direct(path, &target).map(Output::Direct),
            _ => Staged::new(path, target).map(Output::Staged),
        }
    }

    /// Whether what is written can still be discarded (a partial file).
    pub fn is_staged(&self) -> bool {
        matches!(self, Output::Staged(_))
    }

    pub fn file(&mut self) -> &mut File {
        match self {
            Output::Direct(file) => file,
            Output::Staged(staged) => &mut staged.file,
        }
    }

    /// Puts a staged output in place; a direct one is already written.
    pub fn commit(self) -> Result<(), String> {
        match self {
            Output::Direct(_) => Ok(()),
            Output::Staged(staged) => staged.commit(),
        }
    }
}

/// A device or FIFO opened for writing as it is. Opening a FIFO no process
/// reads would block for ever, so it waits `input::FIFO_PEER_WAIT` for a
/// reader (as an input FIFO waits for its writer) and then says so instead.
fn open_direct(shown: &Path, target: &Path) -> Result<File, String> {
    let cannot = |e: std::io::Error| format!("cannot write `{}`: {e}", shown.display());
    #[cfg(unix)]
    {
        use crate::input::{open_fifo, FifoEnd, FIFO_PEER_WAIT};
        use std::os::unix::fs::FileTypeExt;
        if std::fs::metadata(target).is_ok_and(|m| m.file_type().is_fifo()) {
            return match open_fifo(target, FifoEnd::Write, FIFO_PEER_WAIT) {
                Ok(Some(file)) => Ok(file),
                Ok(None) => Err(format!(
                    "`{}` is a FIFO (named pipe) that no process reads; start its reader first (nothing written)",
                    shown.display()
                )),
                Err(e) => Err(cannot(e)),
            };
        }
    }
    OpenOptions::new().write(true).open(target).map_err(cannot)
}

/// A copy of this process's descriptor `fd`: written through it, the output
/// shares the stream's position (a redirected file is appended to, as the
/// shell's `>` set it up), and nothing is renamed over what it leads to.
#[cfg(unix)]
fn dup_fd(fd: i32) -> std::io::Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_DUPFD_CLOEXEC only makes a new descriptor (or fails with EBADF).
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EBADF) => std::io::Error::other(format!("descriptor {fd} is not open")),
            _ => e,
        });
    }
    // SAFETY: `copy` is a new descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(copy) })
}

#[cfg(not(unix))]
fn dup_fd(fd: i32) -> std::io::Result<File> {
    Err(std::io::Error::other(format!(
        "descriptor {fd}: not supported on this system"
    )))
}

/// An output written to `.<name>.arrears-partial-<pid>` beside its target and
/// renamed over it by `commit`; dropped uncommitted, the partial is removed.
pub struct Staged {
    shown: PathBuf,
    target: PathBuf,
    partial: PathBuf,
    file: File,
    committed: bool,
}

impl Staged {
    fn new(shown: &Path, target: PathBuf) -> Result<Staged, String> {
        let dir = parent_dir(&target);
        let name = target
            .file_name()
            .ok_or_else(|| format!("`{}` is not a file name", shown.display()))?
            .to_string_lossy();
        let prefix = format!(".{name}.arrears-partial-");
        remove_stale_partials(dir, &prefix);
        let partial = dir.join(format!("{prefix}{}", std::process::id()));
        // Registered before it exists, so a signal at any point removes it.
        partials().push(partial.clone());
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            // A replaced file keeps its mode; a new one is an ordinary 0644 file.
            let mode = std::fs::metadata(&target).map_or(0o644, |m| m.permissions().mode());
            options.mode(mode & 0o7777);
        }
        let file = options.open(&partial).map_err(|e| {
            unregister(&partial);
            format!("cannot create a file in `{}`: {e}", dir.display())
        })?;
        Ok(Staged {
            shown: shown.to_path_buf(),
            target,
            partial,
            file,
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), String> {
        std::fs::rename(&self.partial, &self.target)
            .map_err(|e| format!("cannot write `{}`: {e}", self.shown.display()))?;
        self.committed = true;
        unregister(&self.partial);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial);
            unregister(&self.partial);
        }
    }
}

/// Removes `<prefix><pid>` files in `dir` left by processes that are gone
/// (or by an earlier process with this one's pid).
fn remove_stale_partials(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !process_is_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence only; EPERM means it exists as another user.
    // SAFETY: kill with signal 0 sends nothing.
    let signalled = unsafe { libc::kill(pid, 0) } == 0;
    signalled || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_is_alive(_pid: u32) -> bool {
    true
}

/// Partial files that exist now, for the signal handler to remove.
static PARTIALS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn partials() -> MutexGuard<'static, Vec<PathBuf>> {
    PARTIALS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unregister(partial: &Path) {
    partials().retain(|p| p != partial);
}

/// On SIGINT, SIGTERM or SIGHUP: remove the partial files, say so in one line
/// (an operator seeing only 143 would not know whether the outputs are whole),
/// and exit 128 + the signal number (130, 143, 129), as a shell reports a
/// process killed by it.
#[cfg(unix)]
pub fn remove_partials_on_signal() -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // The lock is held until exit, so no new partial file appears.
                let partials = partials();
                for partial in partials.iter() {
                    let _ = std::fs::remove_file(partial);
                }
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                super::error_line(format!(
                    "stopped by {name} before the end: no output file was written, and files there before are as they were"
                ));
                std::process::exit(128 + signal);
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn remove_partials_on_signal() -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(what: &str, path: &'a Path) -> Named<'a> {
        Named {
            what: what.into(),
            path,
        }
    }

    #[test]
    fn an_output_that_does_not_exist_yet_is_the_same_file_by_its_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let plain = dir.path().join("new.jsonl");
        let roundabout = dir.path().join("sub/../new.jsonl");
        let err = refuse_same_files(
            &[],
            &[named("--out", &plain), named("--summary", &roundabout)],
        )
        .unwrap_err();
        assert!(err.starts_with("--summary `"), "{err}");
        assert!(err.contains("is the same file as --out"), "{err}");
        let other = dir.path().join("other.json");
        assert!(
            refuse_same_files(&[], &[named("--out", &plain), named("--summary", &other)]).is_ok()
        );
    }

    #[test]
    fn a_partial_file_of_a_dead_process_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir
            .path()
            .join(format!(".out.jsonl.arrears-partial-{dead}"));
        let alive = dir.path().join(format!(".out.jsonl.arrears-partial-{}", 1));
        let unrelated = dir.path().join(".out.jsonl.arrears-partial-x");
        for f in [&stale, &alive, &unrelated] {
            std::fs::write(f, "").unwrap();
        }
        let out = Output::open(&dir.path().join("out.jsonl")).unwrap();
        assert!(out.is_staged());
        assert!(!stale.exists(), "the dead process's partial is still there");
        assert!(alive.exists(), "pid 1's partial was removed");
        assert!(unrelated.exists());
        drop(out);
        let own = dir
            .path()
            .join(format!(".out.jsonl.arrears-partial-{}", std::process::id()));
        assert!(!own.exists(), "an uncommitted output left its partial file");
    }
}
