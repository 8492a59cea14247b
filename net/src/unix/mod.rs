//! Unix-domain sockets (being built).
