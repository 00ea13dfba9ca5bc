//! Masking of sensitive values in downloaded states, in both formats HCP
//! Terraform hosts: the JSON state (`terraform show -json`: `sensitive` on
//! outputs, `sensitive_values` beside each resource's `values`) and the raw
//! state file (`sensitive` on outputs, `sensitive_attributes` paths on each
//! resource instance). Provider-marked attributes (a database password, a
//! private key) are sensitive in the state just like sensitive outputs.

use serde_json::{Value, json};

use super::SENSITIVE_MARKER;

/// Replace every sensitive value of a state document (either format) with
/// [`SENSITIVE_MARKER`]; returns how many values were masked.
pub(crate) fn mask_state(state: &mut Value) -> usize {
    let mut n = 0;
    for ptr in ["/values/outputs", "/outputs"] {
        if let Some(Value::Object(outs)) = state.pointer_mut(ptr) {
            for o in outs.values_mut() {
                if let Value::Object(m) = o
                    && m.get("sensitive").and_then(Value::as_bool) == Some(true)
                    && m.get("value").is_some_and(|v| *v != json!(SENSITIVE_MARKER))
                {
                    m.insert("value".into(), json!(SENSITIVE_MARKER));
                    n += 1;
                }
            }
        }
    }
    if let Some(root) = state.pointer_mut("/values/root_module") {
        n += mask_module(root, 0);
    }
    if let Some(Value::Array(resources)) = state.get_mut("resources") {
        for r in resources {
            if let Some(Value::Array(instances)) = r.get_mut("instances") {
                for i in instances {
                    n += mask_instance(i);
                }
            }
        }
    }
    n
}

/// Deepest module nesting followed (modules nest a few levels in practice).
const MAX_MODULE_DEPTH: usize = 64;

/// JSON state: a module's resources and, recursively, its child modules.
fn mask_module(module: &mut Value, depth: usize) -> usize {
    if depth > MAX_MODULE_DEPTH {
        return 0;
    }
    let mut n = 0;
    if let Some(Value::Array(resources)) = module.get_mut("resources") {
        for r in resources {
            let Value::Object(m) = r else { continue };
            let Some(sensitive) = m.get("sensitive_values").cloned() else { continue };
            if let Some(values) = m.get_mut("values") {
                n += mask_by_shape(values, &sensitive, 0);
            }
        }
    }
    if let Some(Value::Array(children)) = module.get_mut("child_modules") {
        for c in children {
            n += mask_module(c, depth + 1);
        }
    }
    n
}

/// Deepest attribute nesting followed.
const MAX_VALUE_DEPTH: usize = 128;

/// `sensitive` mirrors `value`'s shape, with `true` where a value is
/// sensitive (`sensitive_values` of the JSON state and plan formats).
pub(crate) fn mask_by_shape(value: &mut Value, sensitive: &Value, depth: usize) -> usize {
    if depth > MAX_VALUE_DEPTH {
        return 0;
    }
    match (sensitive, value) {
        (Value::Bool(true), v) => {
            if v.is_null() {
                return 0;
            }
            *v = json!(SENSITIVE_MARKER);
            1
        }
        (Value::Object(s), Value::Object(v)) => {
            s.iter().map(|(k, sk)| v.get_mut(k).map(|vk| mask_by_shape(vk, sk, depth + 1)).unwrap_or(0)).sum()
        }
        (Value::Array(s), Value::Array(v)) => s.iter().zip(v.iter_mut()).map(|(sk, vk)| mask_by_shape(vk, sk, depth + 1)).sum(),
        _ => 0,
    }
}

/// Raw state: each `sensitive_attributes` entry is a path into the
/// instance's `attributes`, a list of steps `{"type": "get_attr", "value":
/// "password"}` or `{"type": "index", "value": {"value": 0, "type":
/// "number"}}`.
fn mask_instance(instance: &mut Value) -> usize {
    let Some(Value::Array(paths)) = instance.get("sensitive_attributes").cloned() else { return 0 };
    let Some(attributes) = instance.get_mut("attributes") else { return 0 };
    let mut n = 0;
    for path in &paths {
        let Some(steps) = path.as_array() else { continue };
        if let Some(target) = follow(attributes, steps)
            && !target.is_null()
            && *target != json!(SENSITIVE_MARKER)
        {
            *target = json!(SENSITIVE_MARKER);
            n += 1;
        }
    }
    n
}

fn follow<'v>(mut at: &'v mut Value, steps: &[Value]) -> Option<&'v mut Value> {
    for step in steps {
        let key = step.get("value")?;
        // An index step's value is a typed value `{"value", "type"}`.
        let key = if step.get("type").and_then(Value::as_str) == Some("index") { key.get("value").unwrap_or(key) } else { key };
        at = match (at, key) {
            (Value::Object(m), Value::String(k)) => m.get_mut(k)?,
            (Value::Array(a), Value::Number(i)) => a.get_mut(usize::try_from(i.as_u64()?).ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_state_resources_and_outputs() {
        let mut s = json!({"values": {
            "outputs": {"pw": {"sensitive": true, "value": "s3cret"}, "name": {"sensitive": false, "value": "db"}},
            "root_module": {
                "resources": [{"values": {"password": "s3cret", "user": "app", "tags": {"a": "x"}, "list": ["k1", "k2"]},
                               "sensitive_values": {"password": true, "tags": {}, "list": [false, true]}}],
                "child_modules": [{"resources": [{"values": {"key": "pem"}, "sensitive_values": {"key": true}}]}]
            }
        }});
        assert_eq!(mask_state(&mut s), 4);
        let text = s.to_string();
        assert!(!text.contains("s3cret") && !text.contains("pem") && !text.contains("k2"), "{text}");
        assert!(text.contains("\"app\"") && text.contains("k1") && text.contains("\"db\""));
    }

    #[test]
    fn raw_state_sensitive_attribute_paths() {
        let mut s = json!({"outputs": {"pw": {"sensitive": true, "value": "s3cret"}}, "resources": [{"instances": [{
            "attributes": {"password": "s3cret", "user": "app", "keys": ["k0", "k1"], "m": {"inner": "deep"}},
            "sensitive_attributes": [
                [{"type": "get_attr", "value": "password"}],
                [{"type": "get_attr", "value": "keys"}, {"type": "index", "value": {"value": 1, "type": "number"}}],
                [{"type": "get_attr", "value": "m"}, {"type": "index", "value": {"value": "inner", "type": "string"}}],
                [{"type": "get_attr", "value": "missing"}],
                "garbage"
            ]
        }]}]});
        assert_eq!(mask_state(&mut s), 4);
        let text = s.to_string();
        assert!(!text.contains("s3cret") && !text.contains("k1") && !text.contains("deep"), "{text}");
        assert!(text.contains("k0") && text.contains("\"app\""));
    }

    #[test]
    fn garbage_never_panics() {
        for mut v in [
            json!(null),
            json!({"resources": 3}),
            json!({"values": {"root_module": []}}),
            json!({"resources": [{"instances": [{"attributes": 1, "sensitive_attributes": [[{"value": 1}]]}]}]}),
        ] {
            let _ = mask_state(&mut v);
        }
    }
}
