//! How worker messages cross between the page and the engine worker: as plain JS values
//! (serde-wasm-bindgen), so that the browser's structured clone carries them and model bytes
//! travel as one `Uint8Array` (`#[serde(with = "serde_bytes")]` in the protocol).

use gloo_worker::Codec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// gloo-worker's `Codec` on `serde_wasm_bindgen::to_value` / `from_value`.
pub struct JsValues;

impl Codec for JsValues {
    fn encode<I: Serialize>(input: I) -> JsValue {
        // u64 above 2^53 (seeds, byte counts) would not fit a JS number: BigInt keeps them exact.
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(true);
        // Both sides are this crate's own types: a failure here is a bug, not bad input.
        input.serialize(&serializer).expect("a worker message serialises to a JS value")
    }

    fn decode<O: DeserializeOwned>(input: JsValue) -> O {
        serde_wasm_bindgen::from_value(input).unwrap_or_else(|e| panic!("not a worker message: {e}"))
    }
}
