//! A WebSocket that closes when its page is left. A page left for another
//! (a reload, a link typed into the address bar) may be kept whole in the
//! browser's back/forward cache, its sockets open, and the server counts
//! every open socket against the session's cap (`sockets_per_session`): a
//! learner who reloaded a lesson a few times was refused a console until
//! the old pages' sockets timed out. Closing on `pagehide` (sent both when
//! a page is unloaded and when it enters that cache) frees the place at
//! once; a page restored from the cache finds its socket closed and
//! reconnects as after any drop.

use gloo::events::EventListener;
use gloo::net::websocket::futures::WebSocket;

/// A socket to `url`, and the listener that closes it when the page is
/// left (the socket's owner keeps it as long as the socket). `None` when
/// the browser refuses the URL.
pub fn open(url: &str) -> Option<(WebSocket, EventListener)> {
    let window = web_sys::window()?;
    let raw = web_sys::WebSocket::new(url).ok()?;
    let closer = raw.clone();
    let pagehide = EventListener::new(&window, "pagehide", move |_| {
        // Without a code: the server needs none to let the socket go.
        let _ = closer.close();
    });
    let socket = WebSocket::try_from(raw).ok()?;
    Some((socket, pagehide))
}
