//! The code generator behind `runtime::join!` and `runtime::try_join!` (called by the facade's
//! `macro_rules!` fronts with their `$crate` first).
//!
//! ```text
//!  join!(biased; fut_0, fut_1, …)
//!
//!  {
//!      let init = (fut_0, …);                           created in order, in one tuple
//!      let mut f_i = pin!(Some(into_future(init.i)));   a pinned Option: dropped in place when done
//!      let mut out_i = None;
//!      let mut skip = 0;                                the rotating first branch (0 if biased)
//!      poll_fn(|cx| {
//!          for each branch, starting at `skip`:        poll f_i if it is still there;
//!              Ready(v) → f_i.set(None), out_i = Some(v)
//!              (try_join!: Ready(Err(e)) → return Ready(Err(e)) at once)
//!          skip = (skip + 1) % n                        next wake-up starts at the next branch
//!          all done → Ready((out_0.take(), …))          (try_join!: Ready(Ok((…))))
//!      }).await
//!  }
//! ```
//!
//! Every future runs on the calling task (concurrently, not in parallel); each wake-up of the
//! task polls every unfinished future once.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

struct Join {
    krate: TokenStream,
    biased: bool,
    futures: Vec<Expr>,
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate;
        syn::parenthesized!(krate in input);
        let krate: TokenStream = krate.parse()?;
        let biased = if input.peek(syn::Ident) && input.peek2(Token![;]) {
            let ident: syn::Ident = input.parse()?;
            if ident != "biased" {
                return Err(syn::Error::new(ident.span(), "expected `biased;` or a list of futures"));
            }
            input.parse::<Token![;]>()?;
            true
        } else {
            false
        };
        let futures = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join { krate, biased, futures: futures.into_iter().collect() })
    }
}

/// Expands `($crate) [biased;] fut, …` into `join!` (`is_try: false`) or `try_join!`.
pub(crate) fn expand(input: TokenStream, is_try: bool) -> TokenStream {
    match syn::parse2::<Join>(input) {
        Ok(join) => generate(join, is_try),
        Err(e) => e.to_compile_error(),
    }
}

fn generate(join: Join, is_try: bool) -> TokenStream {
    let Join { krate, biased, futures } = join;
    let site = Span::mixed_site();
    if futures.is_empty() {
        return if is_try {
            quote_spanned! {site=> ::core::result::Result::<(), _>::Ok(()) }
        } else {
            quote_spanned! {site=> () }
        };
    }
    let n = futures.len() as u32;
    let futs: Vec<_> = (0..futures.len()).map(|i| format_ident!("__join_fut_{}", i, span = site)).collect();
    let outs: Vec<_> = (0..futures.len()).map(|i| format_ident!("__join_out_{}", i, span = site)).collect();
    let indices: Vec<_> = (0..futures.len()).map(syn::Index::from).collect();
    let nums: Vec<u32> = (0..n).collect();
    let on_ready = |out: &syn::Ident| {
        if is_try {
            quote_spanned! {site=>
                match v {
                    ::core::result::Result::Ok(v) => #out = ::core::option::Option::Some(v),
                    ::core::result::Result::Err(e) => return ::core::task::Poll::Ready(::core::result::Result::Err(e)),
                }
            }
        } else {
            quote_spanned! {site=> #out = ::core::option::Option::Some(v); }
        }
    };
    let polls = futs.iter().zip(&outs).zip(&nums).map(|((fut, out), num)| {
        let store = on_ready(out);
        quote_spanned! {site=>
            #num => {
                if let ::core::option::Option::Some(f) = #fut.as_mut().as_pin_mut() {
                    match ::core::future::Future::poll(f, cx) {
                        ::core::task::Poll::Ready(v) => {
                            // Dropped in place as soon as it is done.
                            #fut.set(::core::option::Option::None);
                            #store
                        }
                        ::core::task::Poll::Pending => pending = true,
                    }
                }
            }
        }
    });
    let rotate = if biased {
        quote_spanned! {site=> }
    } else {
        quote_spanned! {site=> #[allow(clippy::modulo_one)] { skip = (skip + 1) % #n; } }
    };
    let output = quote_spanned! {site=> (#(#outs.take().expect("every joined future has completed"),)*) };
    let ready = if is_try {
        quote_spanned! {site=> ::core::task::Poll::Ready(::core::result::Result::Ok(#output)) }
    } else {
        quote_spanned! {site=> ::core::task::Poll::Ready(#output) }
    };
    quote_spanned! {site=> {
        let __join_init = (#(#futures,)*);
        #(
            let mut #futs = ::core::pin::pin!(::core::option::Option::Some(::core::future::IntoFuture::into_future(__join_init.#indices)));
            let mut #outs = ::core::option::Option::None;
        )*
        #[allow(unused_mut)]
        let mut skip: u32 = 0;
        ::core::future::poll_fn(|cx| {
            ::core::task::ready!(#krate::__private::poll_budget_available(cx));
            let mut pending = false;
            for i in 0..#n {
                #[allow(clippy::modulo_one)]
                match (skip + i) % #n {
                    #(#polls)*
                    _ => ::core::unreachable!("join! branch index out of range"),
                }
            }
            #rotate
            if pending {
                return ::core::task::Poll::Pending;
            }
            #ready
        })
        .await
    }}
}
