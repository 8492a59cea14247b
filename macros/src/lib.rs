//! `#[runtime::main]` and `#[runtime::test]`: run an `async fn` on a runtime.
//!
//! ```text
//! #[runtime::main]                                   // multi-thread, one worker per CPU
//! #[runtime::main(flavor = "current_thread")]
//! #[runtime::main(flavor = "multi_thread", worker_threads = 4)]
//! #[runtime::test]                                   // current-thread by default
//! #[runtime::test(flavor = "multi_thread", worker_threads = 2)]
//! #[runtime::test(start_paused = true)]                 // time paused (current-thread only)
//! #[rt::main(crate = "rt")]                          // the runtime renamed in Cargo.toml
//! #[runtime::main(name = "my-service")]             // the runtime's name (`Handle::name`)
//! ```
//!
//! The function body becomes an `async` block driven by `Runtime::block_on`; the return type is
//! kept, so `async fn main() -> Result<(), E>` works, and so does `async fn main() -> !` (a
//! server that never returns). Misuse is a compile error that points at the offending tokens: a
//! function that is not `async`, an unknown option, a bad value, a `worker_threads` on a
//! current-thread runtime, `start_paused` on a multi-thread one, arguments to `main`.
#![deny(missing_docs)]

mod join;
mod select;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Runs `async fn main` on a runtime (multi-thread by default).
///
/// Options: `flavor = "multi_thread" | "current_thread"`, `worker_threads = N` (multi-thread),
/// `start_paused = true | false` (current-thread: the clock starts paused, see
/// `runtime::time::pause`), `name = "…"` (the runtime's name), `crate = "path"` (where the
/// runtime crate is, when it is not `::runtime`: a dependency renamed in `Cargo.toml`, or a
/// re-export).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on a runtime (current-thread by default), as a `#[test]`.
///
/// Options: `flavor = "multi_thread" | "current_thread"`, `worker_threads = N` (multi-thread),
/// `start_paused = true | false` (current-thread: the clock starts paused and an idle runtime
/// jumps to its next timer, so a test with a 10 s timeout runs in microseconds), `name = "…"`
/// (the runtime's name), `crate = "path"` (as for [`main`](macro@main)).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test).into()
}

/// The code generator of `runtime::select!` — use that macro, not this one: it is called as
/// `select_internal!(($crate) <the select! input>)`.
#[doc(hidden)]
#[proc_macro]
pub fn select_internal(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// The code generator of `runtime::join!` — use that macro: it is called as
/// `join_internal!(($crate) <the join! input>)`.
#[doc(hidden)]
#[proc_macro]
pub fn join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), false).into()
}

/// The code generator of `runtime::try_join!` — use that macro: it is called as
/// `try_join_internal!(($crate) <the try_join! input>)`.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_internal(input: TokenStream) -> TokenStream {
    join::expand(input.into(), true).into()
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

struct Config {
    flavor: Flavor,
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<(bool, Span)>,
    /// The runtime crate's path in the user's crate: `::runtime` unless `crate = "…"` says.
    krate: syn::Path,
    name: Option<String>,
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        // Not a function: let the compiler report the item as it is, plus our error.
        Err(e) => {
            let err = e.to_compile_error();
            return quote! { #err #item };
        }
    };
    match check(&args, &func, kind) {
        Ok(config) => build(&mut func, &config, kind),
        Err(e) => {
            // Keep the item (minus `async`, so the compiler does not add confusing errors about
            // an async main) next to the error, as tokio's macros do.
            let err = e.to_compile_error();
            func.sig.asyncness = None;
            quote! { #err #func }
        }
    }
}

fn check(args: &TokenStream2, func: &ItemFn, kind: Kind) -> syn::Result<Config> {
    let what = if kind == Kind::Main { "#[runtime::main]" } else { "#[runtime::test]" };
    if func.sig.asyncness.is_none() {
        return Err(syn::Error::new(func.sig.fn_token.span(), format!("{what} requires an `async fn`: add `async` before `fn`")));
    }
    if kind == Kind::Main && func.sig.ident == "main" && !func.sig.inputs.is_empty() {
        return Err(syn::Error::new(func.sig.inputs.span(), "the `main` function cannot take arguments"));
    }
    let mut config = Config {
        flavor: if kind == Kind::Main { Flavor::MultiThread } else { Flavor::CurrentThread },
        worker_threads: None,
        start_paused: None,
        krate: syn::parse_quote!(::runtime),
        name: None,
    };
    let mut flavor_set = false;
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args.clone())?;
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            return Err(syn::Error::new(
                meta.span(),
                "expected `name = value`, e.g. `flavor = \"current_thread\"` or `worker_threads = 4`",
            ));
        };
        let name = nv.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                let value = lit_str(&nv.value, "`flavor` must be a string: \"multi_thread\" or \"current_thread\"")?;
                config.flavor = match value.as_str() {
                    "multi_thread" => Flavor::MultiThread,
                    "current_thread" => Flavor::CurrentThread,
                    other => {
                        return Err(syn::Error::new(
                            nv.value.span(),
                            format!("unknown flavor `{other}`: expected \"multi_thread\" or \"current_thread\""),
                        ))
                    }
                };
                flavor_set = true;
            }
            "worker_threads" => {
                let Expr::Lit(ExprLit { lit: Lit::Int(n), .. }) = &nv.value else {
                    return Err(syn::Error::new(nv.value.span(), "`worker_threads` must be a positive integer literal"));
                };
                let n: usize = n.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(nv.value.span(), "`worker_threads` must be at least 1"));
                }
                config.worker_threads = Some((n, nv.value.span()));
            }
            "start_paused" => {
                let Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) = &nv.value else {
                    return Err(syn::Error::new(nv.value.span(), "`start_paused` must be `true` or `false`"));
                };
                config.start_paused = Some((b.value, nv.value.span()));
            }
            "crate" => {
                let value = lit_str(&nv.value, "`crate` must be a string naming the runtime crate's path, e.g. `crate = \"rt\"`")?;
                config.krate = syn::parse_str(&value).map_err(|_| {
                    syn::Error::new(
                        nv.value.span(),
                        format!("`crate = \"{value}\"` is not a path: expected e.g. \"rt\" or \"my_crate::rt\""),
                    )
                })?;
            }
            "name" => {
                let value = lit_str(&nv.value, "`name` must be a string: the runtime's name")?;
                if value.trim().is_empty() {
                    return Err(syn::Error::new(nv.value.span(), "`name` cannot be empty"));
                }
                config.name = Some(value);
            }
            _ => {
                return Err(syn::Error::new(
                    nv.path.span(),
                    format!("unknown option `{name}`: expected `flavor`, `worker_threads`, `start_paused`, `name` or `crate`"),
                ));
            }
        }
    }
    if let (Flavor::MultiThread, Some((true, span))) = (config.flavor, config.start_paused) {
        let attr = if kind == Kind::Main { "#[runtime::main" } else { "#[runtime::test" };
        return Err(syn::Error::new(
            span,
            format!("The `start_paused` option requires the `current_thread` runtime flavor. Use `{attr}(flavor = \"current_thread\")]`"),
        ));
    }
    if let (Flavor::CurrentThread, Some((_, span))) = (config.flavor, config.worker_threads) {
        let why = if flavor_set { "" } else { " (the default flavor of #[runtime::test]; add `flavor = \"multi_thread\"`)" };
        return Err(syn::Error::new(span, format!("`worker_threads` is only for the multi-thread flavor, not current_thread{why}")));
    }
    Ok(config)
}

fn lit_str(expr: &Expr, msg: &str) -> syn::Result<String> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        _ => Err(syn::Error::new(expr.span(), msg)),
    }
}

fn build(func: &mut ItemFn, config: &Config, kind: Kind) -> TokenStream2 {
    let span = func.sig.fn_token.span();
    let krate = &config.krate;
    let mut builder = match config.flavor {
        Flavor::CurrentThread => quote_spanned! {span=> #krate::Builder::new_current_thread() },
        Flavor::MultiThread => quote_spanned! {span=> #krate::Builder::new_multi_thread() },
    };
    if let Some((n, _)) = config.worker_threads {
        builder = quote! { #builder.worker_threads(#n) };
    }
    if let Some((paused, _)) = config.start_paused {
        builder = quote! { #builder.start_paused(#paused) };
    }
    if let Some(name) = &config.name {
        builder = quote! { #builder.name(#name) };
    }
    func.sig.asyncness = None;
    let body = &func.block;
    let new_block: syn::Block = match &func.sig.output {
        // `!` cannot be named as a future's output on stable Rust: the body's type is inferred
        // from the `return` instead (the async block never completes).
        syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)) => syn::parse_quote! {
            {
                let body = async move #body;
                #[allow(clippy::needless_return, clippy::diverging_sub_expression)]
                return #builder
                    .enable_all()
                    .build()
                    .expect("failed to build the runtime")
                    .block_on(body);
            }
        },
        output => {
            let output = match output {
                syn::ReturnType::Default => quote! { () },
                syn::ReturnType::Type(_, ty) => quote! { #ty },
            };
            // The coercion to `dyn Future<Output = #output>` gives the async block its output
            // type, so `?` in the body converts errors into the declared return type.
            syn::parse_quote! {
                {
                    let body = async move #body;
                    let mut body = ::core::pin::pin!(body);
                    let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #output>> = body.as_mut();
                    #builder
                        .enable_all()
                        .build()
                        .expect("failed to build the runtime")
                        .block_on(body)
                }
            }
        }
    };
    *func.block = new_block;
    let test_attr = if kind == Kind::Test {
        quote! { #[::core::prelude::v1::test] }
    } else {
        quote! {}
    };
    quote! { #test_attr #func }
}
