// The demo data is embedded with `include_dir!`, which stable Rust cannot track: tell cargo to
// rebuild when any file under data/demo changes.
fn main() {
    println!("cargo:rerun-if-changed=../../data/demo");
}
