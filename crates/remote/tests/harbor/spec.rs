//! Harbor's published API definition (`harbor-api-v2.0-swagger.yaml`, Swagger 2.0) as a
//! checker of requests and responses.
//!
//! The file is reference material kept outside the repository, in `shared/reference/` beside
//! the checkout (`BERTH_REFERENCE_DIR` names another folder); it is read at test time and not
//! copied in. When it is missing the checks are skipped with a note, unless
//! `BERTH_REQUIRE_SPECS=1` asks for them, which makes its absence a failure.
//!
//! Swagger 2.0 schemas are JSON Schema draft 4 with a few additions, converted here:
//! - `x-nullable: true` lets a value be `null`.
//! - `type: file` (uploads) has no JSON Schema counterpart and accepts anything.
//! - A bare `type: object` (no properties) is how the spec says "any value": go-swagger, which
//!   Harbor's server is generated with, turns it into `interface{}`, and Harbor fills such
//!   maps (`extra_attrs`) with strings as well as objects.
//! - Objects with `properties` and no `additionalProperties` are closed: JSON Schema would let
//!   other properties through, but Harbor ignores fields it does not declare, so a misspelt
//!   field in a request would be dropped without a word, and one in the double's answers would
//!   test the client against something Harbor never sends.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderMap, Method};
use serde_json::{json, Map, Value};

const SPEC_FILE: &str = "harbor-api-v2.0-swagger.yaml";

/// Where the spec is: `$BERTH_REFERENCE_DIR`, or `shared/reference/` beside the checkout.
fn spec_path() -> PathBuf {
    let folder = match std::env::var_os("BERTH_REFERENCE_DIR") {
        Some(folder) => PathBuf::from(folder),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
    };
    folder.join(SPEC_FILE)
}

/// The spec, read once per test binary; `None` (with a note) when it is missing and not
/// required.
pub fn load() -> Option<Arc<Spec>> {
    static SPEC: OnceLock<Option<Arc<Spec>>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(Arc::new(Spec::parse(&text))),
            Err(error) if std::env::var("BERTH_REQUIRE_SPECS").as_deref() == Ok("1") => {
                panic!(
                    "BERTH_REQUIRE_SPECS=1, but Harbor's API definition cannot be read at {}: {error}",
                    path.display()
                )
            }
            Err(error) => {
                // Written to stderr directly: the test harness would capture `eprintln!` and
                // show it only for a failing test, and this note is for passing runs.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: Harbor's API definition is not at {} ({error}); the Harbor client is tested without checking requests and answers against it (set BERTH_REQUIRE_SPECS=1 to make this a failure)",
                    path.display()
                );
                None
            }
        }
    })
    .clone()
}

/// An operation of the spec that a request matched.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    /// The path template, without the base path: `/projects/{project_name}/repositories`.
    pub template: String,
    /// Path parameters as Harbor's router sees them: decoded once.
    pub path_values: BTreeMap<String, String>,
    /// The operation's parameters, the path's own first, `$ref`s resolved.
    parameters: Vec<Value>,
    responses: Value,
}

pub struct Spec {
    base_path: String,
    paths: Map<String, Value>,
    parameters: Value,
    responses: Value,
    /// Every definition, converted to JSON Schema; each validator's root carries them so
    /// that `#/definitions/X` resolves.
    definitions: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Spec {
    fn parse(text: &str) -> Spec {
        let document: Value = serde_saphyr::from_str(text).expect("Harbor's swagger is YAML");
        assert_eq!(document["swagger"], "2.0", "a Swagger 2.0 document");
        let definitions = document["definitions"]
            .as_object()
            .expect("the spec has definitions")
            .iter()
            .map(|(name, schema)| (name.clone(), convert(schema)))
            .collect::<Map<_, _>>();
        Spec {
            base_path: document["basePath"]
                .as_str()
                .expect("the spec names its basePath")
                .trim_end_matches('/')
                .to_string(),
            paths: document["paths"]
                .as_object()
                .expect("the spec has paths")
                .clone(),
            parameters: document["parameters"].clone(),
            responses: document["responses"].clone(),
            definitions: Value::Object(definitions),
            validators: Mutex::new(HashMap::new()),
        }
    }

    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The operation `method raw_path` is, or why it is none. The path is decoded once before
    /// it is matched, as Go's HTTP server (and so Harbor's router) does: a repository name
    /// encoded only once brings its `/` back and matches no template.
    pub fn operation(&self, method: &Method, raw_path: &str) -> Result<Operation, String> {
        let decoded = percent_encoding::percent_decode_str(raw_path)
            .decode_utf8()
            .map_err(|_| format!("{raw_path} is not UTF-8 once decoded"))?;
        let Some(path) = decoded.strip_prefix(&self.base_path) else {
            return Err(format!(
                "{raw_path} is outside the base path {}",
                self.base_path
            ));
        };
        let segments: Vec<&str> = path.split('/').collect();
        // Of the templates that match, the one with the most literal segments wins
        // (`/users/current` before `/users/{user_id}`).
        let mut best: Option<(usize, &String, BTreeMap<String, String>)> = None;
        for template in self.paths.keys() {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut values = BTreeMap::new();
            let mut literals = 0;
            let matches = parts.iter().zip(&segments).all(|(part, segment)| {
                match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => {
                        values.insert(name.to_string(), segment.to_string());
                        !segment.is_empty()
                    }
                    None => {
                        literals += 1;
                        part == segment
                    }
                }
            });
            if matches && best.as_ref().is_none_or(|(most, _, _)| literals > *most) {
                best = Some((literals, template, values));
            }
        }
        let Some((_, template, path_values)) = best else {
            return Err(format!(
                "{method} {raw_path}: no path of the spec matches {path}"
            ));
        };
        let item = &self.paths[template];
        let method_key = method.as_str().to_ascii_lowercase();
        let Some(operation) = item.get(&method_key) else {
            return Err(format!(
                "{method} {raw_path}: the spec's {template} has no {method}"
            ));
        };
        let parameters = item["parameters"]
            .as_array()
            .into_iter()
            .chain(operation["parameters"].as_array())
            .flatten()
            .map(|parameter| self.resolve(parameter, "#/parameters/", &self.parameters))
            .collect();
        Ok(Operation {
            id: operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            template: template.clone(),
            path_values,
            parameters,
            responses: operation["responses"].clone(),
        })
    }

    /// What is wrong with a request for `operation`: undeclared or ill-typed parameters,
    /// headers the operation does not declare, a body that does not fit its schema.
    pub fn check_request(
        &self,
        operation: &Operation,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let declared = |place: &str, name: &str| {
            operation.parameters.iter().find(|p| {
                p["in"] == place
                    && p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        };
        for (name, value) in query {
            match declared("query", name) {
                Some(parameter) => {
                    if let Err(problem) = check_simple(parameter, value) {
                        problems.push(format!("query parameter {name}={value}: {problem}"));
                    }
                }
                None => problems.push(format!("query parameter {name} is not declared")),
            }
        }
        for parameter in &operation.parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            let required = parameter["required"] == true;
            match parameter["in"].as_str() {
                Some("query") if required && !query.iter().any(|(n, _)| n == name) => {
                    problems.push(format!("required query parameter {name} is missing"));
                }
                Some("path") => match operation.path_values.get(name) {
                    Some(value) => {
                        if let Err(problem) = check_simple(parameter, value) {
                            problems.push(format!("path parameter {name}={value}: {problem}"));
                        }
                    }
                    None => problems.push(format!("path parameter {name} is not in the path")),
                },
                Some("header") if required && !headers.contains_key(name) => {
                    problems.push(format!("required header {name} is missing"));
                }
                _ => {}
            }
        }
        // Harbor's own headers must be ones the operation declares: one it does not know is
        // ignored, and whatever the client meant by it does not happen.
        for (name, value) in headers {
            if !name.as_str().starts_with("x-") {
                continue;
            }
            match declared("header", name.as_str()) {
                Some(parameter) => {
                    let value = value.to_str().unwrap_or_default();
                    if let Err(problem) = check_simple(parameter, value) {
                        problems.push(format!("header {name}: {problem}"));
                    }
                }
                None => problems.push(format!("header {name} is not declared")),
            }
        }
        let body_parameter = operation.parameters.iter().find(|p| p["in"] == "body");
        match (body_parameter, body.is_empty()) {
            (None, true) => {}
            (None, false) => problems.push("a body was sent, and the operation takes none".into()),
            (Some(parameter), true) => {
                if parameter["required"] == true {
                    problems.push("the required body is missing".into());
                }
            }
            (Some(parameter), false) => {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !content_type.starts_with("application/json") {
                    problems.push(format!(
                        "the body's Content-Type is `{content_type}`, and the spec consumes application/json"
                    ));
                }
                match serde_json::from_slice::<Value>(body) {
                    Ok(instance) => problems.extend(
                        self.validate(&parameter["schema"], &instance)
                            .into_iter()
                            .map(|p| format!("request body: {p}")),
                    ),
                    Err(error) => problems.push(format!("the body is not JSON: {error}")),
                }
            }
        }
        problems
            .into_iter()
            .map(|p| format!("{} ({}): {p}", operation.id, operation.template))
            .collect()
    }

    /// What is wrong with an answer to `operation`: a status the operation does not declare,
    /// a body that does not fit the status's schema (or a body where it declares none), a
    /// declared header of the wrong type.
    pub fn check_response(
        &self,
        operation: &Operation,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let declared = operation
            .responses
            .get(status.to_string())
            .or_else(|| operation.responses.get("default"));
        match declared {
            None => problems.push(format!("status {status} is not declared")),
            Some(response) => {
                let response = self.resolve(response, "#/responses/", &self.responses);
                match response.get("schema") {
                    Some(schema) => match serde_json::from_slice::<Value>(body) {
                        Ok(instance) => problems.extend(
                            self.validate(schema, &instance)
                                .into_iter()
                                .map(|p| format!("answer body ({status}): {p}")),
                        ),
                        Err(error) => {
                            problems.push(format!("answer body ({status}) is not JSON: {error}"))
                        }
                    },
                    None if !body.is_empty() => problems.push(format!(
                        "status {status} declares no body, and one was sent"
                    )),
                    None => {}
                }
                for (name, header) in response["headers"].as_object().into_iter().flatten() {
                    let Some(value) = headers.get(name.as_str()) else {
                        continue;
                    };
                    let value = value.to_str().unwrap_or_default();
                    if header["type"] == "integer" && value.trim().parse::<i64>().is_err() {
                        problems.push(format!("header {name}: `{value}` is not an integer"));
                    }
                }
            }
        }
        problems
            .into_iter()
            .map(|p| format!("{} ({}): {p}", operation.id, operation.template))
            .collect()
    }

    /// The problems of `instance` against a schema of the spec (converted, with every
    /// definition beside it).
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let key = schema.to_string();
        let validator = {
            let mut validators = self.validators.lock().unwrap();
            validators
                .entry(key)
                .or_insert_with(|| {
                    let mut root = convert(schema);
                    if let Value::Object(root) = &mut root {
                        root.insert("definitions".into(), self.definitions.clone());
                    } else {
                        root = json!({"definitions": self.definitions, "allOf": [root]});
                    }
                    Arc::new(
                        jsonschema::draft4::options()
                            .should_validate_formats(true)
                            .build(&root)
                            .unwrap_or_else(|e| panic!("the spec's schema {schema} compiles: {e}")),
                    )
                })
                .clone()
        };
        validator
            .iter_errors(instance)
            .map(|error| format!("at `{}`: {error}", error.instance_path()))
            .collect()
    }

    /// A `$ref` into `#/parameters/` or `#/responses/`, looked up; anything else as it is.
    fn resolve(&self, value: &Value, prefix: &str, table: &Value) -> Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference
                    .strip_prefix(prefix)
                    .unwrap_or_else(|| panic!("`{reference}` points outside {prefix}"));
                table
                    .get(name)
                    .unwrap_or_else(|| panic!("`{reference}` points to nothing"))
                    .clone()
            }
            None => value.clone(),
        }
    }
}

/// A Swagger 2.0 schema as a JSON Schema draft 4 schema (see the module's documentation).
fn convert(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let nullable = map.get("x-nullable") == Some(&Value::Bool(true));
    if let Some(reference) = map.get("$ref") {
        // Draft 4 ignores a `$ref`'s siblings, so `x-nullable` wraps it.
        let reference = json!({ "$ref": reference });
        return if nullable {
            json!({"anyOf": [reference, {"type": "null"}]})
        } else {
            reference
        };
    }
    if map.get("type") == Some(&json!("file")) {
        return json!({});
    }
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), convert(property)))
                    .collect(),
            ),
            "items" | "additionalProperties" if value.is_object() => convert(value),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(convert)
                    .collect(),
            ),
            // Documentation and generator hints; `x-nullable` is applied below.
            "example" | "description" | "title" | "readOnly" | "xml" | "externalDocs"
            | "discriminator" => continue,
            key if key.starts_with("x-") => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let is_object = out.get("type") == Some(&json!("object"));
    let has_shape = ["properties", "additionalProperties", "allOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    if is_object && !has_shape {
        out.remove("type");
    } else if out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if nullable {
        if let Some(Value::String(kind)) = out.get("type").cloned() {
            out.insert("type".into(), json!([kind, "null"]));
        }
    }
    Value::Object(out)
}

/// A query, path or header value against its parameter's declared type and bounds.
fn check_simple(parameter: &Value, value: &str) -> Result<(), String> {
    match parameter["type"].as_str() {
        Some("integer") => {
            let number: i64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not an integer"))?;
            if let Some(maximum) = parameter["maximum"].as_i64() {
                if number > maximum {
                    return Err(format!("{number} is above the maximum of {maximum}"));
                }
            }
            if let Some(minimum) = parameter["minimum"].as_i64() {
                if number < minimum {
                    return Err(format!("{number} is below the minimum of {minimum}"));
                }
            }
        }
        Some("boolean") if !matches!(value, "true" | "false") => {
            return Err(format!("`{value}` is not a boolean"));
        }
        Some("string") => {
            if let Some(min) = parameter["minLength"].as_u64() {
                if (value.chars().count() as u64) < min {
                    return Err(format!("`{value}` is shorter than {min}"));
                }
            }
        }
        _ => {}
    }
    if let Some(allowed) = parameter["enum"].as_array() {
        if !allowed.iter().any(|a| a.as_str() == Some(value)) {
            return Err(format!("`{value}` is not one of {allowed:?}"));
        }
    }
    Ok(())
}
