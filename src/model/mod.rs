//! Loading rule files: YAML and TOML into one set of Doc types.
//! It owns reading the files and their shapes (keys, spans); it must not
//! interpret a cell or know the schema: the checker and `data::schema` do.

pub mod doc;
pub mod effective;
pub mod load;
pub mod spanned;

pub use load::{load_dir, LoadError, RuleDocs};
