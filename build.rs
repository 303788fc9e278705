// embed_migrations! cannot see a new migration folder by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
