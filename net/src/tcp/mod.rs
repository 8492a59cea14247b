//! TCP: listener, stream and their split halves (being built).
