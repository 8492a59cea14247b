//! hyper, hyper-util and axum on the runtime: nothing but examples and their tests.
//!
//! ```text
//! cargo run -p interop --example hyper-server            # HTTP/1.1 on 127.0.0.1:3000
//! cargo run -p interop --example hyper-client -- http://127.0.0.1:3000/
//! cargo run -p interop --example axum-hello              # an axum Router on 127.0.0.1:3001
//! ```
//!
//! Each example's test (`tests/`) includes the example's source and runs it against a client
//! on loopback. This package is its own workspace member so that hyper and axum are never built
//! for the runtime's other examples.
