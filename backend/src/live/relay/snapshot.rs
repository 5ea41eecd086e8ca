//! A room's state as the control store holds it (the payloads last
//! published), for a node where the room's first page opens, or that
//! lost its Pub/Sub connection for a while.

use std::collections::{HashSet, VecDeque};

use axum::extract::ws::Utf8Bytes;
use protocol::{ConsoleLine, Place, RoomServerMessage};

use super::super::{LiveRoom, RECENT_LINES};
use super::{console_key, decode, state_key};
use crate::control::{ControlStore, StoreError};

/// One published message, read back.
pub(super) struct Stored {
    id: (String, u64),
    message: RoomServerMessage,
    text: Utf8Bytes,
}

fn parse(value: &redis::Value) -> Option<Stored> {
    let redis::Value::BulkString(bytes) = value else {
        return None;
    };
    let (header, tail) = decode(bytes)?;
    let text = std::str::from_utf8(tail).ok()?;
    let message = serde_json::from_str(text).ok()?;
    Some(Stored {
        id: (header.node, header.seq),
        message,
        text: Utf8Bytes::from(text.to_owned()),
    })
}

#[derive(Default)]
pub(super) struct Snapshot {
    goto: Option<Stored>,
    pace: Option<Stored>,
    pub ended: bool,
    console: Vec<Stored>,
}

impl Snapshot {
    pub(super) async fn read(control: &ControlStore, room: &str) -> Result<Snapshot, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL").arg(state_key(room));
        pipe.cmd("LRANGE").arg(console_key(room)).arg(0).arg(-1);
        let mut values = control.read(&pipe).await?.into_iter();
        let mut snapshot = Snapshot::default();
        // RESP2 answers HGETALL with field, value, field, value.
        let pairs: Vec<(redis::Value, redis::Value)> = match values.next() {
            Some(redis::Value::Array(items)) => {
                let mut items = items.into_iter();
                std::iter::from_fn(|| Some((items.next()?, items.next()?))).collect()
            }
            Some(redis::Value::Map(pairs)) => pairs,
            _ => Vec::new(),
        };
        for (_, value) in pairs {
            let Some(stored) = parse(&value) else {
                continue;
            };
            match stored.message {
                RoomServerMessage::Goto { .. } => snapshot.goto = Some(stored),
                RoomServerMessage::Pace { .. } => snapshot.pace = Some(stored),
                RoomServerMessage::Ended => snapshot.ended = true,
                _ => {}
            }
        }
        if let Some(redis::Value::Array(lines)) = values.next() {
            snapshot.console = lines.iter().filter_map(parse).collect();
        }
        Ok(snapshot)
    }

    /// The pace lock it holds, if one is set.
    pub(super) fn pace(&self) -> Option<Place> {
        match &self.pace.as_ref()?.message {
            RoomServerMessage::Pace { place } => place.clone(),
            _ => None,
        }
    }

    /// Every message it holds, by `(node, seq)`.
    pub(super) fn ids(&self) -> HashSet<(String, u64)> {
        self.goto
            .iter()
            .chain(&self.pace)
            .chain(&self.console)
            .map(|s| s.id.clone())
            .collect()
    }
}

impl LiveRoom {
    /// Brings this node's copy of the room up to `snapshot`. What the
    /// store holds replaces this node's; what it lacks is kept (a write
    /// that never reached it). Pages already open here are told a
    /// position or pace that changed meanwhile.
    pub(super) fn restore(&self, snapshot: Snapshot) {
        let mut tell = Vec::new();
        {
            let mut live = self.live();
            if let Some(Stored {
                message: RoomServerMessage::Goto { place },
                text,
                ..
            }) = snapshot.goto
            {
                if live.position.as_ref() != Some(&place) {
                    live.position = Some(place);
                    tell.push(text);
                }
            }
            if let Some(Stored {
                message: RoomServerMessage::Pace { place },
                text,
                ..
            }) = snapshot.pace
            {
                if live.pace != place {
                    live.pace = place;
                    tell.push(text);
                }
            }
            let mut lines: VecDeque<ConsoleLine> = snapshot
                .console
                .into_iter()
                .filter_map(|s| match s.message {
                    RoomServerMessage::Console { line } => Some(line),
                    _ => None,
                })
                .collect();
            while lines.len() > RECENT_LINES {
                lines.pop_front();
            }
            if !lines.is_empty() {
                live.recent = lines;
            }
        }
        for text in tell {
            let _ = self.tx.send(text);
        }
    }
}
