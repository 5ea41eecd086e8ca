//! Who the learner is, in this browser: the learner token (a secret the
//! server keeps only the hash of) in localStorage, and the "continue on
//! another device" link that carries it in the URL fragment.

use std::cell::RefCell;

use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture, Shared};

use crate::api;
use crate::api::learner::LearnerFailure;

pub use crate::credentials::{clear_token, set_token, token};

/// The route a continue link opens.
pub const CONTINUE_PATH: &str = "/continue";

/// The link that opens this learner elsewhere. The token sits in the
/// fragment, which browsers never send to a server, so it stays out of
/// access logs and Referer headers.
pub fn continue_url(token: &str) -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    Some(format!("{origin}{CONTINUE_PATH}#{token}"))
}

/// On a continue link: takes the token from the fragment and strips it
/// from the address bar (so it is not bookmarked, shared by accident or
/// left in the history). Returns whether a token was adopted. Called once,
/// before anything else asks who the learner is, so a fresh browser never
/// creates an anonymous learner of its own first.
pub fn adopt_from_location() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let location = window.location();
    if location.pathname().ok().as_deref() != Some(CONTINUE_PATH) {
        return false;
    }
    let fragment = location.hash().unwrap_or_default();
    let token = token_in_fragment(&fragment);
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(CONTINUE_PATH));
    }
    let Some(token) = token else {
        return false;
    };
    if self::token().as_deref() != Some(token) {
        set_token(token);
        // The sandbox in this browser belonged to whoever was here before;
        // the adopted learner's own (live) session is handed back instead.
        crate::credentials::forget_session();
    }
    true
}

/// The token in `#<token>`, if it looks like one (the server decides
/// whether it is valid).
pub fn token_in_fragment(fragment: &str) -> Option<&str> {
    let token = fragment.strip_prefix('#').unwrap_or(fragment).trim();
    let plausible = !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    plausible.then_some(token)
}

type Creating = Shared<LocalBoxFuture<'static, Result<String, LearnerFailure>>>;

thread_local! {
    /// The one learner creation in flight (`POST /api/learners`, or a
    /// first session's, see `promise_learner`): the outline's sync and the
    /// console's first session may both ask at once, and must not create
    /// two learners.
    static CREATING: RefCell<Option<Creating>> = const { RefCell::new(None) };
}

/// A first session's promise to bring the learner token: kept with the
/// token the server sent, or broken (dropped) when the session brought none.
pub struct LearnerPromise(oneshot::Sender<String>);

impl LearnerPromise {
    /// Stores the token and hands it to everyone waiting in `ensure_token`.
    pub fn keep(self, token: &str) {
        set_token(token);
        let _ = self.0.send(token.to_owned());
    }
}

/// On a first visit (no token, and no learner being created), a console
/// that connects sends its first `POST /api/sessions` without a token: the
/// server then creates the learner with the session and sends the token
/// once. That is one round trip before the console is ready instead of two
/// (`POST /api/learners`, then the session). Until the session answers,
/// `ensure_token` waits for its token rather than creating a second
/// learner. Called synchronously when the console starts, so it is first.
pub fn promise_learner() -> Option<LearnerPromise> {
    if token().is_some() {
        return None;
    }
    CREATING.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_some() {
            return None;
        }
        let (sender, receiver) = oneshot::channel();
        *slot = Some(
            async move {
                receiver.await.map_err(|_| {
                    LearnerFailure::Offline(
                        "Your first sandbox, which brings your learner, could not be started yet."
                            .to_owned(),
                    )
                })
            }
            .boxed_local()
            .shared(),
        );
        Some(LearnerPromise(sender))
    })
}

/// This browser's learner token, creating an anonymous learner (cheap: no
/// sandbox) on the first visit.
pub async fn ensure_token() -> Result<String, LearnerFailure> {
    if let Some(token) = token() {
        return Ok(token);
    }
    let creating = CREATING.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| {
                async {
                    let created = api::learner::create_learner().await?;
                    set_token(&created.token);
                    Ok(created.token)
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    let result = creating.await;
    CREATING.with(|slot| slot.borrow_mut().take());
    result
}

#[cfg(test)]
mod tests {
    use super::token_in_fragment;

    #[test]
    fn a_continue_fragment_gives_its_token() {
        assert_eq!(token_in_fragment("#abc-DEF_12"), Some("abc-DEF_12"));
    }

    #[test]
    fn an_empty_or_odd_fragment_gives_no_token() {
        assert_eq!(token_in_fragment("#"), None);
        assert_eq!(token_in_fragment(""), None);
        assert_eq!(token_in_fragment("#<script>"), None);
    }
}
