#[runtime::main(name = "  ")]
async fn main() {}
