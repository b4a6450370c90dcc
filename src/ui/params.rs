//! Reading and writing one numeric setting of a learner by its serde field name, so one form
//! serves every learner listed in [`crate::causal::catalog`].

use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::AlgorithmParams;

/// The inner settings object of an externally tagged `{"Variant": {...}}` value.
fn inner(value: &JsValue) -> Option<JsValue> {
    let object = value.dyn_ref::<js_sys::Object>()?;
    Some(js_sys::Object::values(object).get(0))
}

/// The value of setting `key`, if it is a number.
pub fn get(params: &AlgorithmParams, key: &str) -> Option<f64> {
    let value = serde_wasm_bindgen::to_value(params).ok()?;
    js_sys::Reflect::get(&inner(&value)?, &JsValue::from_str(key))
        .ok()?
        .as_f64()
}

/// A copy of `params` with setting `key` set to `value` (rounded for integer settings), or
/// `None` if the result does not deserialize (e.g. a negative count).
pub fn set(params: &AlgorithmParams, key: &str, value: f64) -> Option<AlgorithmParams> {
    let object = serde_wasm_bindgen::to_value(params).ok()?;
    let settings = inner(&object)?;
    let old = js_sys::Reflect::get(&settings, &JsValue::from_str(key)).ok()?;
    old.as_f64()?;
    js_sys::Reflect::set(
        &settings,
        &JsValue::from_str(key),
        &JsValue::from_f64(value),
    )
    .ok()?;
    serde_wasm_bindgen::from_value(object).ok()
}
