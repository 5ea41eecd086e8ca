//! `GET /api/sessions`: where the console's session stands when its
//! socket was refused. A browser is not told why a WebSocket upgrade
//! failed, so without asking, a session open in too many tabs looked
//! expired: the page dropped it and said so, while it was alive.

use gloo::net::http::Request;
use protocol::SessionStatus;

/// What a refused socket meant.
pub enum Standing {
    /// Gone (expired, or the server restarted without it): start anew.
    Gone,
    /// Alive, with every socket it may have already open (other tabs).
    Full { cap: u32 },
    /// Alive with room, or the server did not answer: try again.
    Unclear,
}

pub async fn standing(session: &str) -> Standing {
    let Ok(response) = Request::get("/api/sessions")
        .header("Authorization", &format!("Bearer {session}"))
        .send()
        .await
    else {
        return Standing::Unclear;
    };
    if response.status() == 401 {
        return Standing::Gone;
    }
    match response.json::<SessionStatus>().await {
        Ok(status) if status.sockets >= status.sockets_per_session => Standing::Full {
            cap: status.sockets_per_session,
        },
        _ => Standing::Unclear,
    }
}
