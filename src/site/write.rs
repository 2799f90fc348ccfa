//! Writing the site into its directory without touching anything else. The
//! directory must be new, empty, or an earlier `arrears doc` output (it holds
//! the manifest `.arrears-doc`, the list of files that run wrote). Only files
//! named in the manifest whose first line is this command's are replaced or,
//! when the site no longer has them, removed; any other file in the way stops
//! the run before anything is written. Symbolic links are never followed: the
//! directory itself may not be one, and a link where a page goes is refused.
//! Each page is written to a fresh partial file beside it and renamed into
//! place, after a manifest naming every file the run may leave, so a run that
//! stops part way can be run again. It must not write outside the directory.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::html::GENERATOR;
use super::Page;

/// The list of files an `arrears doc` run wrote, one name a line.
pub const MANIFEST: &str = ".arrears-doc";

/// What a run did to the directory.
#[derive(Debug, Default)]
pub struct Written {
    pub written: Vec<PathBuf>,
    /// Files an earlier run wrote that the site no longer has.
    pub removed: Vec<PathBuf>,
}

/// Writes `pages` into `dir` (created if missing); see the module doc for what it refuses.
pub fn write_site(dir: &Path, pages: &[Page]) -> Result<Written, String> {
    let shown = dir.display();
    let owned: Vec<String> = match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(format!(
                "`{shown}` is a symbolic link; give the directory it names (nothing written)"
            ))
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(format!("`{shown}` is not a directory (nothing written)"))
        }
        Ok(_) => previous_output(dir)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create `{shown}`: {e}"))?;
            Vec::new()
        }
        Err(e) => return Err(format!("cannot read `{shown}`: {e}")),
    };
    for page in pages {
        if !safe_name(&page.file) {
            return Err(format!("`{}` is not a plain file name", page.file));
        }
        let path = dir.join(&page.file);
        if fs::symlink_metadata(&path).is_ok() && !(owned.contains(&page.file) && ours(&path)) {
            return Err(format!(
                "`{}` exists and was not written by `arrears doc`; not replacing it (nothing written)",
                path.display()
            ));
        }
    }
    // The manifest goes first, naming every file this run may leave behind, so
    // a run that stops part way (a full disk) leaves a directory the next run
    // recognises as its own output and replaces.
    let mut listed = owned.clone();
    listed.extend(
        pages
            .iter()
            .filter(|p| !owned.contains(&p.file))
            .map(|p| p.file.clone()),
    );
    write_manifest(dir, listed.iter().map(String::as_str))?;
    remove_partials(dir, &listed);
    let mut done = Written::default();
    for page in pages {
        let path = dir.join(&page.file);
        replace(dir, &page.file, page.html.as_bytes())?;
        done.written.push(path);
    }
    for old in &owned {
        let path = dir.join(old);
        if safe_name(old) && !pages.iter().any(|p| &p.file == old) && ours(&path) {
            fs::remove_file(&path)
                .map_err(|e| format!("cannot remove `{}`: {e}", path.display()))?;
            done.removed.push(path);
        }
    }
    write_manifest(dir, pages.iter().map(|p| p.file.as_str()))?;
    Ok(done)
}

/// Removes the partial files an interrupted run left for the files it lists
/// (`.<name>.arrears-partial-<pid>`).
fn remove_partials(dir: &Path, listed: &[String]) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name
            .strip_prefix('.')
            .and_then(|rest| rest.rsplit_once(".arrears-partial-"))
            .is_some_and(|(file, pid)| {
                listed.iter().any(|l| l == file) && pid.bytes().all(|b| b.is_ascii_digit())
            });
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn write_manifest<'a>(dir: &Path, files: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut manifest = String::from("# files written by `arrears doc`; it replaces only these\n");
    for file in files {
        manifest.push_str(file);
        manifest.push('\n');
    }
    replace(dir, MANIFEST, manifest.as_bytes())
}

/// The files an earlier run wrote, or an error if the non-empty directory is not one's output.
fn previous_output(dir: &Path) -> Result<Vec<String>, String> {
    let mut entries =
        fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(Vec::new());
    }
    let manifest = dir.join(MANIFEST);
    let regular = fs::symlink_metadata(&manifest).is_ok_and(|m| m.is_file());
    let text = regular
        .then(|| fs::read_to_string(&manifest).ok())
        .flatten()
        .ok_or_else(|| {
            format!(
                "`{}` is not empty and is not an earlier `arrears doc` output (it has no `{MANIFEST}`); give a new or empty directory (nothing written)",
                dir.display()
            )
        })?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

/// A name of a file directly in the directory: no separator, no parent, not hidden.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Whether `path` is a regular file (not a link) that begins as this command's pages do.
fn ours(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let mut head = vec![0; GENERATOR.len()];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == GENERATOR.as_bytes())
}

/// Writes `bytes` to a new partial file in `dir` and renames it over `name`
/// (the rename replaces a directory entry; it follows no link).
fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let target = dir.join(name);
    let partial = dir.join(format!(".{name}.arrears-partial-{}", std::process::id()));
    let _ = fs::remove_file(&partial);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&partial, &target));
    written.map_err(|e| {
        let _ = fs::remove_file(&partial);
        format!("cannot write `{}`: {e}", target.display())
    })
}
