//! The rule files as written: plain serde types, cells kept as spanned text.
//! Nothing here is interpreted; the checker does that.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

use super::spanned::{CellText, Spanned};

/// A map of cells keyed by column name, in file order.
pub type CellMap = IndexMap<String, Spanned<CellText>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDoc {
    pub schema: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub currency: Option<Spanned<String>>,
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub enums: IndexMap<String, Spanned<Vec<Spanned<String>>>>,
    pub fields: Spanned<FieldTypeDoc>,
}

/// A field's declared type: `money?`, a nested record, or a list.
#[derive(Debug)]
pub enum FieldTypeDoc {
    Named(String),
    Record(IndexMap<String, Spanned<FieldTypeDoc>>),
    List(Vec<Spanned<FieldTypeDoc>>),
}

impl<'de> Deserialize<'de> for FieldTypeDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TypeVisitor;
        impl<'de> Visitor<'de> for TypeVisitor {
            type Value = FieldTypeDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type name such as `money`, a mapping (record) or a one-element list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldTypeDoc, E> {
                Ok(FieldTypeDoc::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldTypeDoc, A::Error> {
                let mut fields = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Spanned<FieldTypeDoc>>()?;
                    if fields.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format!(
                            "field `{key}` is declared twice"
                        )));
                    }
                }
                Ok(FieldTypeDoc::Record(fields))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldTypeDoc, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<FieldTypeDoc>>()? {
                    items.push(item);
                }
                Ok(FieldTypeDoc::List(items))
            }
        }
        deserializer.deserialize_any(TypeVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDoc {
    pub table: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub hit: Spanned<String>,
    #[serde(default)]
    pub aggregate: Option<Spanned<String>>,
    pub inputs: Spanned<CellMap>,
    pub outputs: Spanned<IndexMap<String, Spanned<String>>>,
    pub rows: Vec<Spanned<RowDoc>>,
    #[serde(default)]
    pub default: Option<Spanned<CellMap>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowDoc {
    pub id: Spanned<CellText>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub when: CellMap,
    #[serde(default)]
    pub then: CellMap,
}

/// Which kind of document a file holds, read from its top-level keys.
#[derive(Debug, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub schema: Option<de::IgnoredAny>,
    #[serde(default)]
    pub table: Option<de::IgnoredAny>,
}
