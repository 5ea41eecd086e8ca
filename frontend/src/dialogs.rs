//! What the page asks of the browser's own dialogs: a yes-or-no question,
//! and saving bytes fetched with a bearer as a file (a plain link cannot
//! send the header, so the page fetches, wraps the bytes in a Blob, and
//! clicks a temporary link to its object URL).

use gloo::timers::callback::Timeout;
use leptos::wasm_bindgen::JsCast;

/// How long the object URL outlives the click (the browser reads it
/// asynchronously), in ms.
const KEEP_URL_MS: u32 = 10_000;

/// Asks `question`; false when the browser cannot ask.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

pub fn save_file(file_name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let fail = |what: &str| format!("The file could not be saved ({what}).");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| fail("no document"))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| fail("no blob"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("no URL"))?;
    let link = document
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        .ok_or_else(|| fail("no link"))?;
    link.set_href(&url);
    link.set_download(file_name);
    // Firefox clicks only links that are in the document.
    let body = document.body().ok_or_else(|| fail("no body"))?;
    let _ = body.append_child(&link);
    link.click();
    link.remove();
    Timeout::new(KEEP_URL_MS, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
