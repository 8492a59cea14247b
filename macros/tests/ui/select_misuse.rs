async fn no_arrow() {
    runtime::select! {
        v = async { 1 } v + 1,
    }
}

async fn else_not_last() -> u32 {
    runtime::select! {
        else => 0,
        v = async { 1 } => v,
    }
}

async fn no_branch() {
    runtime::select! {}
}

async fn no_comma_after_an_expression_handler() -> u32 {
    runtime::select! {
        v = async { 1 } => v
        w = async { 2 } => w,
    }
}

fn main() {}
