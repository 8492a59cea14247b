//! UDP sockets (being built).
