//! The uniffi bindings generator (`cargo run -p nachbar-mobile --features cli --bin
//! uniffi-bindgen -- generate <library> -l kotlin -l swift -l python -o <dir>`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
