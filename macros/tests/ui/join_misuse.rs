async fn typo() {
    runtime::join!(baised; async {});
}

async fn try_typo() {
    let _ = runtime::try_join!(unbiased; async { Ok::<u8, ()>(1) });
}

fn main() {}
