#[runtime::test(worker_threads = 2)]
async fn uses_workers() {}

fn main() {}
