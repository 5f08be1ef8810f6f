//! The nachbar sync server binary.

fn main() {}
