//! TCP: listener and stream (being built).
