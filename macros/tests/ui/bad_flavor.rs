#[runtime::main(flavor = "single")]
async fn main() {}
