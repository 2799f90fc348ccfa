//! JSON Schemas (draft-07) of every document kind, for editors
//! (yaml-language-server, taplo): generated from the serde Doc types with
//! `schemars`, so a key the loader does not know is `additionalProperties:
//! false` here too, with the doc comments as descriptions, and the closed
//! string sets (hit policies, aggregates, event types, nominations,
//! observance rules, contact channels and outcomes) listed as enums from the
//! lists the checker itself uses. `arrears schema` writes them; `schemas/`
//! holds the committed copy. It must not read or check a document: the
//! loaders do, and an editor's schema only helps while typing.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::Value as Json;

use crate::lang::ir::{Aggregate, HitPolicy};
use crate::model::doc::{
    CalendarDoc, ExperimentDoc, GuardDoc, MappingDoc, PolicyDoc, SchemaDoc, TableDoc, TemplateDoc,
};
use crate::policy::calendar::Observance;
use crate::policy::Nomination;
use crate::simulate::TimelineDoc;
use crate::testing::TestDoc;

/// Every document kind, by the name `arrears schema KIND` takes (a test
/// document's top-level key is `tests`, a timeline's `timeline`).
pub const KINDS: [&str; 10] = [
    "schema",
    "table",
    "guardrails",
    "policy",
    "template",
    "experiment",
    "calendar",
    "mapping",
    "test",
    "timeline",
];

/// The file `arrears schema --out DIR` writes a kind's schema to.
pub fn file_name(kind: &str) -> String {
    format!("{kind}.schema.json")
}

/// The schema of one document kind, or `None` for an unknown kind.
pub fn schema(kind: &str) -> Option<Json> {
    let (mut schema, what) = match kind {
        "schema" => (root::<SchemaDoc>(), "the account schema"),
        "table" => (root::<TableDoc>(), "a decision table"),
        "guardrails" => (root::<GuardDoc>(), "a guard rail"),
        "policy" => (root::<PolicyDoc>(), "the policy"),
        "template" => (root::<TemplateDoc>(), "a treatment template"),
        "experiment" => (root::<ExperimentDoc>(), "an experiment"),
        "calendar" => (root::<CalendarDoc>(), "a calendar"),
        "mapping" => (root::<MappingDoc>(), "a batch column mapping"),
        "test" => (root::<TestDoc>(), "a test document"),
        "timeline" => (root::<TimelineDoc>(), "a timeline"),
        _ => return None,
    };
    for (pointer, names) in closed_sets(kind) {
        list_enum(&mut schema, &pointer, &names);
    }
    // What an editor shows first: the draft, the title, the description.
    let mut ordered = serde_json::Map::new();
    let title = Json::from(format!("arrears: {what} (`{kind}` document)"));
    ordered.insert("$schema".into(), schema["$schema"].take());
    ordered.insert("title".into(), title);
    if let Some(description) = schema.get_mut("description") {
        ordered.insert("description".into(), description.take());
    }
    if let Json::Object(rest) = schema {
        for (key, value) in rest {
            ordered.entry(key).or_insert(value);
        }
    }
    Some(Json::Object(ordered))
}

fn root<T: JsonSchema>() -> Json {
    SchemaSettings::draft07()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Per kind, the JSON pointers of string properties that take one of a
/// closed set of names, with the names (from the lists the checker uses).
fn closed_sets(kind: &str) -> Vec<(String, Vec<&'static str>)> {
    let observance = Observance::NAMES.to_vec();
    match kind {
        "table" => vec![
            ("/properties/hit".into(), names(&HitPolicy::ALL)),
            ("/properties/aggregate".into(), names(&Aggregate::ALL)),
        ],
        "guardrails" => vec![("/properties/hit".into(), names(&HitPolicy::ALL))],
        "template" => vec![(
            "/definitions/EventDoc/properties/type".into(),
            crate::data::schema::BUILTIN_ENUMS
                .iter()
                .find(|(name, _)| *name == "event_type")
                .map(|(_, variants)| variants.to_vec())
                .unwrap_or_default(),
        )],
        "policy" => vec![("/properties/nominate".into(), names(&Nomination::ALL))],
        "calendar" => vec![
            ("/properties/observance".into(), observance.clone()),
            (
                "/definitions/HolidayRuleDoc/properties/observance".into(),
                observance,
            ),
        ],
        _ => Vec::new(),
    }
}

fn names<T>(list: &[(&'static str, T)]) -> Vec<&'static str> {
    list.iter().map(|(name, _)| *name).collect()
}

/// Lists `names` as the `enum` of the schema at `pointer` (with `null` when it is nullable).
fn list_enum(schema: &mut Json, pointer: &str, names: &[&str]) {
    let Some(target) = schema.pointer_mut(pointer) else {
        panic!("no schema at {pointer}: the Doc type changed; update `closed_sets`");
    };
    let nullable = target["type"]
        .as_array()
        .is_some_and(|types| types.iter().any(|t| t == "null"));
    let mut values: Vec<Json> = names.iter().map(|n| Json::from(*n)).collect();
    if nullable {
        values.push(Json::Null);
    }
    target["enum"] = Json::Array(values);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_schema_with_its_document_key_required() {
        for kind in KINDS {
            let schema = schema(kind).unwrap();
            let key = if kind == "test" { "tests" } else { kind };
            let required = schema["required"].as_array().unwrap();
            assert!(required.iter().any(|k| k == key), "{kind}: {required:?}");
            assert_eq!(schema["additionalProperties"], false, "{kind}");
        }
        assert!(schema("tabel").is_none());
    }

    #[test]
    fn closed_sets_are_listed() {
        let table = schema("table").unwrap();
        assert_eq!(table["properties"]["hit"]["enum"][5], "rule_order");
        let template = schema("template").unwrap();
        let types = &template["definitions"]["EventDoc"]["properties"]["type"]["enum"];
        assert!(types.as_array().unwrap().iter().any(|t| t == "send_letter"));
    }
}
