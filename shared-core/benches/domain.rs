//! Benchmarks of the domain documents (filled in below).
fn main() {}
