//! The base rules of `arrears diff --base` and `arrears lint --base`: a
//! directory, or a git revision of the repository that holds the rules
//! directory, whose rules directory at that revision is unpacked with
//! `git archive` into a temporary directory. It must not load or compare
//! rules: the commands do.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The base rules found: where they are and how to name them.
pub struct BaseRules {
    /// The rules directory to load (a temporary one for a revision).
    pub dir: PathBuf,
    /// `old-rules`, or `HEAD~1 (1a2b3c4d5e6f) rules/` for a revision.
    pub name: String,
    /// For a revision: the unpacked directory (removed when dropped) and what a
    /// path inside it is called, `HEAD~1:rules/`.
    unpacked: Option<(tempfile::TempDir, String)>,
}

impl BaseRules {
    /// A file name as loading gave it, with an unpacked revision's temporary
    /// directory written as git names it: `HEAD~1:rules/entry.yaml`.
    pub fn show(&self, file: &str) -> String {
        (self.shower())(file)
    }

    /// [`BaseRules::show`], as a function that outlives the borrow.
    pub fn shower(&self) -> Box<dyn Fn(&str) -> String> {
        let unpacked = self
            .unpacked
            .as_ref()
            .map(|(dir, label)| (dir.path().to_path_buf(), label.clone()));
        Box::new(move |file| match &unpacked {
            Some((dir, label)) => match Path::new(file).strip_prefix(dir) {
                Ok(rest) => format!("{label}{}", rest.display()),
                Err(_) => file.to_string(),
            },
            None => file.to_string(),
        })
    }

    /// Whether the base is a directory given as such (not a revision unpacked).
    pub fn is_dir(&self) -> bool {
        self.unpacked.is_none()
    }
}

/// The base rules: `base` itself when it is a directory, otherwise the rules
/// directory `rules` at git revision `base` (an error names both when it is neither).
pub fn base_rules(base: &str, rules: &Path) -> Result<BaseRules, String> {
    let path = Path::new(base);
    if path.is_dir() {
        return Ok(BaseRules {
            dir: path.to_path_buf(),
            name: base.to_string(),
            unpacked: None,
        });
    }
    // A file that exists is never meant as a revision: name what it is.
    if let Ok(meta) = std::fs::metadata(path) {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            // Only a directory of rules is one (`samples/accounts.yaml`'s is not).
            .filter(|p| crate::model::load::holds_rule_files(p))
            .map(|p| format!("; the rules directory is probably `{}`", p.display()))
            .unwrap_or_default();
        return Err(format!(
            "--base `{base}` is {}, not a rules directory{parent}",
            crate::input::kind_of(meta.file_type())
        ));
    }
    let neither = |why: String| {
        format!("--base `{base}` is neither a directory nor a git revision of the repository holding `{}`: {why}", rules.display())
    };
    if base.is_empty() {
        return Err(neither("it is empty".into()));
    }
    if base.starts_with('-') {
        return Err(neither("a revision does not start with `-`".into()));
    }
    let git = |args: &[&str]| git_in(rules, args);
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim().to_string();
    let top = PathBuf::from(text(
        git(&["rev-parse", "--show-toplevel"]).map_err(neither)?,
    ));
    let prefix = text(git(&["rev-parse", "--show-prefix"]).map_err(neither)?);
    let commit = text(
        git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{base}^{{commit}}"),
        ])
        .map_err(|_| {
            let mut why = "git knows no such revision".to_string();
            if let Some(hint) = misspelt_directory(path) {
                why.push_str("; ");
                why.push_str(&hint);
            }
            neither(why)
        })?,
    );
    let tree = format!("{commit}:{}", prefix.trim_end_matches('/'));
    // From the top: in a subdirectory, `git archive` keeps only that subdirectory's paths.
    let tar = git_in(&top, &["archive", "--format=tar", &tree]).map_err(|e| {
        format!("--base `{base}`: the rules directory `{prefix}` is not in that revision ({e})")
    })?;
    let dir = tempfile::Builder::new()
        .prefix("arrears-base-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    tar::Archive::new(tar.as_slice())
        .unpack(dir.path())
        .map_err(|e| format!("--base `{base}`: cannot unpack its rules: {e}"))?;
    let short = &commit[..commit.len().min(12)];
    let name = match prefix.as_str() {
        "" => format!("{base} ({short})"),
        p => format!("{base} ({short}) {p}"),
    };
    Ok(BaseRules {
        dir: dir.path().to_path_buf(),
        name,
        unpacked: Some((dir, format!("{base}:{prefix}"))),
    })
}

/// `git -C dir ARGS`'s standard output, or the first line of its error.
fn git_in(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let err = String::from_utf8_lossy(&output.stderr);
        Err(err
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_string())
    }
}

/// `did you mean `rules`?` when `path` is probably a misspelt directory beside it.
fn misspelt_directory(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dirs: Vec<String> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    let found = crate::diagnostic::nearest(name, dirs.iter().map(String::as_str))?;
    Some(
        format!(
            "did you mean the directory `{}`?",
            parent.join(found).display()
        )
        .replace("`./", "`"),
    )
}
