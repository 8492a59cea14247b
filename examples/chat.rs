//! A line-based chat room: every line a client sends is broadcast to every other client.
//!
//! ```text
//! cargo run --release --example chat                      # listens on 127.0.0.1:7001
//! nc 127.0.0.1 7001                                       # in two or more other terminals
//! ```
//!
//! Each connection is two tasks that cooperate through channels: a reader task that reads lines
//! and hands them to the room (a `Mutex<HashMap>` of per-client `futures::channel::mpsc`
//! senders), and a writer task that drains the client's channel onto its socket. A client sees
//! `* you are client 3, 1 other(s) here`, then `* client 4 joined`, `[4] hello`, `* client 4 left`
//! as the others come, talk and go. Lines longer than 4 KiB are cut; a client that cannot keep up
//! (64 lines queued) misses lines rather than slowing the room down. Ctrl-C stops the server.

use futures::channel::mpsc;
use futures::future::{select, Either};
use futures::StreamExt;
use runtime::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use runtime::net::TcpListener;
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

const USAGE: &str = "usage: chat [--addr HOST:PORT]   (default 127.0.0.1:7001)";
const MAX_LINE: u64 = 4096;
const QUEUE: usize = 64;

/// The connected clients' outgoing queues, by client id.
#[derive(Default)]
struct Room {
    clients: Mutex<HashMap<u64, mpsc::Sender<Arc<str>>>>,
}

impl Room {
    fn join(&self, id: u64, tx: mpsc::Sender<Arc<str>>) -> usize {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.insert(id, tx);
        clients.len() - 1
    }

    fn leave(&self, id: u64) {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    /// Queues `line` for everyone but `from`; a client whose queue is full misses it.
    fn broadcast(&self, from: u64, line: &str) {
        let line: Arc<str> = Arc::from(line);
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        for (&id, tx) in clients.iter_mut() {
            if id != from {
                let _ = tx.try_send(line.clone());
            }
        }
    }
}

#[runtime::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:7001".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(a) => addr = a,
                None => {
                    eprintln!("chat: --addr needs a value\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("chat: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("chat: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("chat listening on {local}"),
        Err(_) => println!("chat listening on {addr}"),
    }
    let room = Arc::new(Room::default());
    let accept = pin!(accept_loop(&listener, room));
    let shutdown = pin!(shutdown_signal());
    match select(accept, shutdown).await {
        Either::Left((never, _)) => match never {},
        Either::Right((Ok(signal), _)) => {
            println!("chat: {signal}: shutting down");
            ExitCode::SUCCESS
        }
        Either::Right((Err(e), _)) => {
            eprintln!("chat: cannot listen for SIGINT/SIGTERM: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn accept_loop(listener: &TcpListener, room: Arc<Room>) -> Infallible {
    let mut next_id = 1u64;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let id = next_id;
                next_id += 1;
                println!("chat: client {id} connected from {peer}");
                let (reader, writer) = stream.into_split();
                let (tx, rx) = mpsc::channel(QUEUE);
                let others = room.join(id, tx.clone());
                runtime::spawn(write_lines(writer, rx));
                runtime::spawn(read_lines(reader, id, tx, others, room.clone()));
            }
            Err(e) => {
                eprintln!("chat: accept: {e}");
                runtime::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// The reader task: greets the client, then broadcasts each of its lines until it leaves.
async fn read_lines<R: AsyncRead + Unpin>(reader: R, id: u64, mut me: mpsc::Sender<Arc<str>>, others: usize, room: Arc<Room>) {
    let _ = me.try_send(Arc::from(format!("* you are client {id}, {others} other(s) here\n")));
    drop(me); // the room holds this client's sender; the writer ends once the room drops it
    room.broadcast(id, &format!("* client {id} joined\n"));
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        room.broadcast(id, &format!("[{id}] {text}\n"));
    }
    room.leave(id);
    room.broadcast(id, &format!("* client {id} left\n"));
    println!("chat: client {id} left");
}

/// The writer task: writes what the room queued for this client until its sender is dropped.
async fn write_lines<W: AsyncWrite + Unpin>(mut writer: W, mut rx: mpsc::Receiver<Arc<str>>) {
    while let Some(line) = rx.next().await {
        if writer.write_all(line.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = writer.close().await;
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM, both received through the runtime.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    let mut terminate = runtime::signal::unix::signal(runtime::signal::unix::SignalKind::terminate())?;
    let interrupt = pin!(runtime::signal::ctrl_c());
    let terminated = pin!(terminate.recv());
    match select(interrupt, terminated).await {
        Either::Left((result, _)) => result.map(|()| "SIGINT"),
        Either::Right(_) => Ok("SIGTERM"),
    }
}
