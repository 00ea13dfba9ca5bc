//! Reading a response body as server-sent events (legacy SSE sessions).

use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt;
use serde_json::Value;

/// The events of one response body, read one at a time.
pub struct Events {
    stream: futures::stream::BoxStream<'static, Result<Bytes, axum::Error>>,
    buffer: String,
}

impl Events {
    pub fn of(body: Body) -> Self {
        Self { stream: body.into_data_stream().boxed(), buffer: String::new() }
    }

    /// The next event: its name and its data.
    pub async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = Vec::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.trim_start().to_owned());
                    }
                }
                if !data.is_empty() {
                    return (name, data.join("\n"));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next()).await.expect("an event").expect("open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    }

    /// The next event's data as JSON.
    pub async fn message(&mut self) -> Value {
        serde_json::from_str(&self.next().await.1).unwrap()
    }
}
