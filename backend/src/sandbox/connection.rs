//! One plain RESP2 connection to a sandbox over its unix socket: write a
//! command, read its reply, nothing in between. redis-rs packs commands and
//! parses replies; there is no multiplexer task, because the gateway sends
//! one command at a time, and a dropped caller must be detectable
//! (`in_flight`) rather than leave a reply unread.

use std::path::Path;

use bytes::BytesMut;
use redis::{Cmd, RedisError, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_util::codec::Decoder;

use super::SandboxError;

const READ_CHUNK: usize = 16 * 1024;

pub struct SandboxConnection {
    stream: UnixStream,
    buffer: BytesMut,
    // redis-rs's own RESP decoder (public but doc-hidden in redis 1.8,
    // which Cargo.lock pins).
    codec: redis::ValueCodec,
    /// Set while a reply is outstanding. If the caller's future is dropped
    /// mid-command, the stream is out of step and must not be reused.
    in_flight: bool,
}

fn io_error(kind: std::io::ErrorKind, text: &'static str) -> RedisError {
    RedisError::from(std::io::Error::new(kind, text))
}

impl SandboxConnection {
    /// Connects and authenticates as the sandbox's only user.
    pub async fn open(socket: &Path, password: &str) -> Result<SandboxConnection, SandboxError> {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|e| SandboxError::Connect(e.into()))?;
        let mut connection = SandboxConnection {
            stream,
            buffer: BytesMut::with_capacity(READ_CHUNK),
            codec: redis::ValueCodec::default(),
            in_flight: false,
        };
        let reply = connection
            .send(redis::cmd("AUTH").arg(password))
            .await
            .map_err(SandboxError::Connect)?;
        match reply {
            Value::Okay => Ok(connection),
            other => Err(SandboxError::Spawn(format!("AUTH was refused: {other:?}"))),
        }
    }

    /// False once a command was abandoned half-way; open a new one then.
    pub fn is_usable(&self) -> bool {
        !self.in_flight
    }

    /// Sends one command and reads its reply. Error replies come back as
    /// `Ok(Value::ServerError)`; `Err` means the connection itself failed.
    pub async fn send(&mut self, cmd: &Cmd) -> Result<Value, RedisError> {
        if self.in_flight {
            return Err(io_error(
                std::io::ErrorKind::BrokenPipe,
                "a previous command on this connection was abandoned",
            ));
        }
        self.in_flight = true;
        self.stream.write_all(&cmd.get_packed_command()).await?;
        loop {
            if let Some(value) = self.codec.decode(&mut self.buffer)? {
                self.in_flight = false;
                return Ok(value);
            }
            self.buffer.reserve(READ_CHUNK);
            let read = self.stream.read_buf(&mut self.buffer).await?;
            if read == 0 {
                return Err(io_error(
                    std::io::ErrorKind::UnexpectedEof,
                    "the sandbox closed the connection",
                ));
            }
        }
    }
}
