//! The Chrome DevTools protocol over the pipe a browser opens with `--remote-debugging-pipe`:
//! JSON messages, each ended by a NUL byte; commands answered by their id, events sent under
//! the session of the tab they concern. Only the few commands krawlr sends are used, spelled
//! out where they are sent.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// A command the browser has not answered in this long is a browser that misbehaves.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// Events kept for a tab that has not read them yet; past it, the browser is flooding.
const EVENTS_QUEUED: usize = 4096;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CdpError {
    #[error("the browser's connection is closed")]
    Closed,
    #[error("the browser did not answer {0} within {COMMAND_TIMEOUT:?}")]
    Timeout(String),
    #[error("{method}: {message}")]
    Command { method: String, message: String },
}

/// An event the browser sent about a tab or one of its frames.
#[derive(Debug)]
pub struct Event {
    /// The session it came from: the tab's, or that of a frame attached to it.
    pub session: String,
    pub method: String,
    pub params: Value,
}

type Answer = Result<Value, String>;

/// One browser's protocol connection, shared by its tabs.
pub struct Connection {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    sessions: Mutex<HashMap<String, mpsc::Sender<Event>>>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

impl Connection {
    /// Starts reading `from` and writing `to`; a message longer than `max_message` bytes closes
    /// the connection (its browser is then restarted).
    pub fn start(
        from: impl AsyncRead + Unpin + Send + 'static,
        mut to: impl AsyncWrite + Unpin + Send + 'static,
        max_message: usize,
    ) -> std::sync::Arc<Connection> {
        let (outgoing, mut queued) = mpsc::unbounded_channel::<Vec<u8>>();
        let connection = std::sync::Arc::new(Connection {
            outgoing,
            pending: Mutex::default(),
            sessions: Mutex::default(),
            next_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(async move {
            while let Some(mut message) = queued.recv().await {
                message.push(0);
                if to.write_all(&message).await.is_err() || to.flush().await.is_err() {
                    break;
                }
            }
        });
        let reader = std::sync::Arc::downgrade(&connection);
        tokio::spawn(async move {
            let mut from = BufReader::new(from);
            while let Ok(Some(message)) = read_message(&mut from, max_message).await {
                let Some(connection) = reader.upgrade() else { return };
                connection.dispatch(&message);
            }
            if let Some(connection) = reader.upgrade() {
                connection.close();
            }
        });
        connection
    }

    /// Sends `method` (to the tab of `session`, or to the browser) and waits for its answer.
    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, CdpError> {
        if self.is_closed() {
            return Err(CdpError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let (answer, answered) = oneshot::channel();
        lock(&self.pending).insert(id, answer);
        if self.outgoing.send(message.to_string().into_bytes()).is_err() {
            lock(&self.pending).remove(&id);
            return Err(CdpError::Closed);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, answered).await {
            Ok(Ok(Ok(result))) => Ok(result),
            Ok(Ok(Err(message))) => Err(CdpError::Command { method: method.to_string(), message }),
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(CdpError::Timeout(method.to_string()))
            }
        }
    }

    /// The events of the tab attached as `session`, from now on.
    pub fn events(&self, session: &str) -> mpsc::Receiver<Event> {
        let (sender, receiver) = mpsc::channel(EVENTS_QUEUED);
        lock(&self.sessions).insert(session.to_string(), sender);
        receiver
    }

    /// Routes the events of `child` (a frame attached to a tab) to the receiver of `tab`'s.
    pub fn route(&self, child: &str, tab: &str) {
        let mut sessions = lock(&self.sessions);
        if let Some(sender) = sessions.get(tab).cloned() {
            sessions.insert(child.to_string(), sender);
        }
    }

    /// Stops routing the events of `session`.
    pub fn forget(&self, session: &str) {
        lock(&self.sessions).remove(session);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Fails every waiting command and ends every tab's events.
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        lock(&self.pending).clear();
        lock(&self.sessions).clear();
    }

    fn dispatch(&self, message: &[u8]) {
        let Ok(mut message) = serde_json::from_slice::<Value>(message) else { return };
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            let Some(answer) = lock(&self.pending).remove(&id) else { return };
            let result = match message.get_mut("error") {
                Some(error) => Err(error.get("message").and_then(Value::as_str).unwrap_or("failed").to_string()),
                None => Ok(message.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
            };
            let _ = answer.send(result);
            return;
        }
        let (Some(method), Some(session)) = (
            message.get("method").and_then(Value::as_str).map(str::to_string),
            message.get("sessionId").and_then(Value::as_str).map(str::to_string),
        ) else {
            return;
        };
        let params = message.get_mut("params").map(Value::take).unwrap_or(Value::Null);
        let full = {
            let sessions = lock(&self.sessions);
            let Some(sender) = sessions.get(&session) else { return };
            sender.try_send(Event { session: session.clone(), method, params }).is_err()
        };
        if full {
            // A tab that floods faster than it is read: its events stop, and its render ends
            // at its deadline.
            self.forget(&session);
        }
    }
}

/// The next NUL-ended message, at most `max` bytes; `None` at the end of the stream.
async fn read_message(from: &mut (impl AsyncBufReadExt + Unpin), max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    loop {
        let available = from.fill_buf().await?;
        if available.is_empty() {
            return Ok(None);
        }
        let (taken, done) = match available.iter().position(|b| *b == 0) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        message.extend_from_slice(&available[..taken - usize::from(done)]);
        from.consume(taken);
        if message.len() > max {
            return Err(std::io::Error::other(format!("a protocol message longer than {max} bytes")));
        }
        if done {
            return Ok(Some(message));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_are_split_on_nul_and_bounded() {
        let bytes: &[u8] = b"{\"id\":1}\0{\"id\":2}\0partial";
        let mut reader = BufReader::with_capacity(3, bytes);
        assert_eq!(read_message(&mut reader, 100).await.unwrap().unwrap(), b"{\"id\":1}");
        assert_eq!(read_message(&mut reader, 100).await.unwrap().unwrap(), b"{\"id\":2}");
        assert!(read_message(&mut reader, 100).await.unwrap().is_none(), "an unended message at the end");
        let long: &[u8] = b"0123456789\0";
        assert!(read_message(&mut BufReader::new(long), 5).await.is_err());
    }

    #[tokio::test]
    async fn answers_find_their_command_and_events_their_tab() {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (from, to) = tokio::io::split(ours);
        let connection = Connection::start(from, to, 1 << 20);
        let (mut browser_reads, mut browser_writes) = tokio::io::split(theirs);
        let mut events = connection.events("S1");
        let call = tokio::spawn({
            let connection = connection.clone();
            async move { connection.call(Some("S1"), "Page.navigate", json!({"url": "about:blank"})).await }
        });
        let mut reader = BufReader::new(&mut browser_reads);
        let sent: Value = serde_json::from_slice(&read_message(&mut reader, 1 << 20).await.unwrap().unwrap()).unwrap();
        assert_eq!((sent["method"].as_str(), sent["sessionId"].as_str()), (Some("Page.navigate"), Some("S1")));
        let id = sent["id"].as_u64().unwrap();
        let replies = format!(
            "{{\"method\":\"Page.loadEventFired\",\"sessionId\":\"S1\",\"params\":{{}}}}\0\
             {{\"method\":\"Page.loadEventFired\",\"sessionId\":\"S2\",\"params\":{{}}}}\0\
             {{\"id\":{id},\"result\":{{\"frameId\":\"F\"}}}}\0"
        );
        browser_writes.write_all(replies.as_bytes()).await.unwrap();
        assert_eq!(call.await.unwrap().unwrap()["frameId"], "F");
        assert_eq!(events.recv().await.unwrap().method, "Page.loadEventFired");
        drop(browser_writes);
        drop(reader);
        drop(browser_reads);
        assert!(events.recv().await.is_none(), "the tab's events end with the connection");
        assert!(matches!(connection.call(None, "Browser.getVersion", json!({})).await, Err(CdpError::Closed)));
    }
}
