//! Loading rule files: YAML and TOML into one set of Doc types.

pub mod doc;
pub mod load;
pub mod spanned;

pub use load::{load_dir, LoadError, RuleDocs};
