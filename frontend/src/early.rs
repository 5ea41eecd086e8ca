//! The requests index.html's first script sends before the app has loaded
//! (`window.redisTutorEarly`): on a lesson page its text, and on a first
//! visit to a page with a console that console's sandbox session. They run
//! while the wasm downloads and compiles. The app takes each answer once,
//! where it would have asked itself (`api::lesson`, the connection's first
//! session), and asks itself when there is none.

use gloo::net::http::Response;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A request index.html sent: its answer, once it comes.
pub struct Sent(JsFuture);

impl Sent {
    /// The response, or why there is none (the network failed).
    pub async fn response(self) -> Result<Response, String> {
        match self.0.await {
            Ok(response) => Ok(response.unchecked_into::<web_sys::Response>().into()),
            Err(e) => Err(e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "the request failed".to_owned())),
        }
    }
}

/// Removes `field` from `window.redisTutorEarly` and returns it.
fn take(field: &str) -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let early = js_sys::Reflect::get(&window, &"redisTutorEarly".into())
        .ok()
        .filter(JsValue::is_object)?;
    let value = js_sys::Reflect::get(&early, &field.into())
        .ok()
        .filter(|v| !v.is_undefined())?;
    let _ =
        js_sys::Reflect::delete_property(early.unchecked_ref::<js_sys::Object>(), &field.into());
    Some(value)
}

fn sent(promise: JsValue) -> Option<Sent> {
    Some(Sent(JsFuture::from(
        promise.dyn_into::<js_sys::Promise>().ok()?,
    )))
}

/// The early `GET /api/lessons/<slug>`, if it was for `slug`.
pub fn take_lesson(slug: &str) -> Option<Sent> {
    let lesson = take("lesson")?;
    let asked = js_sys::Reflect::get(&lesson, &"slug".into())
        .ok()?
        .as_string()?;
    if asked != slug {
        return None;
    }
    sent(js_sys::Reflect::get(&lesson, &"response".into()).ok()?)
}

/// The early `POST /api/sessions` (sent without a learner token: this
/// browser had neither a learner nor a session).
pub fn take_session() -> Option<Sent> {
    sent(take("session")?)
}
